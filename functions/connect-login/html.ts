import { createHash } from 'node:crypto';
import type { HttpResult } from '#runtime/http';

/**
 * The connect pages: server-rendered, no JavaScript, one stylesheet inline (allowed by its hash in
 * the CSP, nothing else is), every value escaped by `escapeHtml`. Answers are never cached, never
 * framed and send no referrer (the callback's URL holds the code and the state).
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text or an attribute value (always double-quoted in the templates) made inert. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * Contrast on white (WCAG 2.2): text #1c1e21 16.7:1, muted #4b4f56 8.2:1, errors #a4000d 8.1:1, the
 * button's white on #1659c7 6.4:1; non-text: the focus ring #b35c00 4.7:1, the fieldset border 3.3:1.
 */
const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;color:#1c1e21;background:#fff;margin:0}
main{max-width:36rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem}
fieldset{border:1px solid #8a8d91;border-radius:6px;padding:.75rem 1rem}
legend{font-weight:600;padding:0 .25rem}
label{display:block;padding:.25rem 0}
button{font:inherit;background:#1659c7;color:#fff;border:0;border-radius:6px;padding:.5rem 1.25rem;margin-top:1rem;cursor:pointer}
:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #c4c6c9}
.muted{color:#4b4f56}
.error{color:#a4000d}
`.trim();

const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}`;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src '${STYLE_HASH}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The headers of every connect page (HTML and redirects alike). */
export function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
}

/** A whole page: `body` is already escaped HTML. */
export function htmlPage(
  statusCode: number,
  title: string,
  body: string,
  headers: Record<string, string> = {},
): HttpResult {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Pagewire</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
  return {
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8', ...securityHeaders(), ...headers },
    body: html,
  };
}

/** A 400 (or other) page saying what went wrong and what to do; nothing was connected. */
export function errorPage(statusCode: number, title: string, message: string): HttpResult {
  return htmlPage(
    statusCode,
    title,
    `<p class="error">${escapeHtml(message)}</p>
<p class="muted">Nothing was connected. Ask for a new link: <code>npx pagewire pages connect --login</code>.</p>`,
  );
}

export function redirect(location: string): HttpResult {
  return { statusCode: 302, headers: { location, ...securityHeaders() }, body: '' };
}

export interface PickerPage {
  id: string;
  name: string;
}

/** The page picker: every page ticked, one form POST carrying the state and the CSRF token. */
export function pickerPage(
  action: string,
  state: string,
  csrf: string,
  pages: PickerPage[],
  headers: Record<string, string>,
): HttpResult {
  if (!pages.length) {
    return htmlPage(
      200,
      'No pages to connect',
      '<p>Facebook lists no page this account manages for Pagewire. Check the pages granted in the Facebook dialog, then ask for a new link.</p>',
      headers,
    );
  }
  const boxes = pages
    .map((p, i) => {
      const id = `page-${i}`;
      return `<label for="${id}"><input type="checkbox" id="${id}" name="pageId" value="${escapeHtml(p.id)}" checked> ${escapeHtml(p.name)} <span class="muted">(${escapeHtml(p.id)})</span></label>`;
    })
    .join('\n');
  return htmlPage(
    200,
    'Choose the pages to connect',
    `<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="state" value="${escapeHtml(state)}">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<fieldset>
<legend>Pages you manage</legend>
${boxes}
</fieldset>
<button type="submit">Connect the ticked pages</button>
</form>`,
    headers,
  );
}

export interface ResultRow {
  pageId: string;
  name: string;
  status: string;
  error?: string;
}

/** What the submit did, page by page. */
export function resultPage(rows: ResultRow[]): HttpResult {
  const allActive = rows.every((r) => r.status === 'active');
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.pageId)}</td><td>${escapeHtml(r.status)}</td><td>${escapeHtml(r.error ?? '')}</td></tr>`,
    )
    .join('\n');
  const lead = rows.length
    ? `<p>${rows.length} page${rows.length === 1 ? '' : 's'} handled. You may close this window.</p>`
    : '<p>No page was ticked: nothing was connected.</p>';
  return htmlPage(
    200,
    allActive && rows.length ? 'Pages connected' : 'Connection finished',
    `${lead}
<table>
<caption class="muted">Each page's status</caption>
<thead><tr><th scope="col">Page</th><th scope="col">Id</th><th scope="col">Status</th><th scope="col">Problem</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`,
  );
}
