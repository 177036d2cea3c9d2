/** The connect pages: escaping, the security headers, the CSP hash of the one inline style, accessibility. */
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { errorPage, escapeHtml, pickerPage, resultPage, securityHeaders } from '#connect-login/html';
import { csrfMatches, isState, linkIdOf, newSecret, sha256Hex } from '#connect-login/secrets';

const EVIL = `"><script>alert(1)</script><img src=x onerror='x'>&`;

it('escapes every character that could leave a text node or a double-quoted attribute', () => {
  expect(escapeHtml(EVIL)).toBe(
    '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;x&#39;&gt;&amp;',
  );
  expect(escapeHtml(undefined)).toBe('');
});

it('a page name, an id and an error from Facebook stay text in every template', () => {
  const picker = pickerPage('/connect/facebook/callback', 'st', 'cs', [{ id: EVIL, name: EVIL }], {});
  const result = resultPage([{ pageId: '1', name: EVIL, status: 'subscription_failed', error: EVIL }]);
  const error = errorPage(400, EVIL, EVIL);
  for (const page of [picker, result, error]) {
    expect(page.body).not.toContain('<script>');
    expect(page.body).not.toContain('<img');
    expect(page.body).toContain('&lt;script&gt;');
  }
});

it('sends the strict headers, and the CSP allows exactly the inline style by its hash', () => {
  const page = errorPage(400, 'Link expired', 'gone');
  expect(page.statusCode).toBe(400);
  expect(page.headers).toMatchObject({ ...securityHeaders(), 'content-type': 'text/html; charset=utf-8' });
  const style = /<style>([\s\S]*?)<\/style>/.exec(String(page.body))?.[1] ?? '';
  const hash = createHash('sha256').update(style, 'utf8').digest('base64');
  expect(securityHeaders()['content-security-policy']).toBe(
    `default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  );
});

it('the picker: lang, one h1, a fieldset with its legend, each checkbox ticked and tied to its label', () => {
  const body = String(
    pickerPage(
      '/connect/facebook/callback',
      'st',
      'cs',
      [
        { id: '1', name: 'A' },
        { id: '2', name: 'B' },
      ],
      {},
    ).body,
  );
  expect(body).toContain('<html lang="en">');
  expect(body.match(/<h1>/g)).toHaveLength(1);
  expect(body).toMatch(/<fieldset>\s*<legend>/);
  expect(body).toContain(
    '<label for="page-0"><input type="checkbox" id="page-0" name="pageId" value="1" checked>',
  );
  expect(body).toContain(
    '<label for="page-1"><input type="checkbox" id="page-1" name="pageId" value="2" checked>',
  );
  expect(body).toContain('<form method="post" action="/connect/facebook/callback">');
  expect(body).not.toMatch(/<script/i);
});

it('states: 43 base64url characters; the link id is their SHA-256 and never the state', () => {
  const state = newSecret();
  expect(isState(state)).toBe(true);
  expect(isState(`${state}=`)).toBe(false);
  expect(isState(undefined)).toBe(false);
  expect(linkIdOf(state)).not.toBe(state);
  expect(linkIdOf(state)).toBe(createHash('sha256').update(state).digest('base64url'));
});

it('CSRF: the field equals the cookie and is the token stored for the link', () => {
  const token = newSecret();
  const stored = sha256Hex(token);
  expect(csrfMatches(token, token, stored)).toBe(true);
  expect(csrfMatches(token, newSecret(), stored)).toBe(false);
  const other = newSecret();
  expect(csrfMatches(other, other, stored)).toBe(false);
  expect(csrfMatches(token, token, undefined)).toBe(false);
  expect(csrfMatches(undefined, token, stored)).toBe(false);
});
