/**
 * Facebook Login (SPEC §12) over plain HTTP against the local stack in sandbox mode: the link, the
 * sandbox dialog, the callback's picker, the submit; every refusal a 400 HTML page that connects
 * nothing; the link single use even when two callbacks race.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectLinkCreated, ConnectLinkView } from '#contracts/connect-link';
import { adminRoutes, CONNECT_CALLBACK_PATH, CONNECT_LOGIN_PATH, pathOf } from '#contracts/routes';
import { type LocalStack, startLocalStack } from '#local/stack';
import { adminCall } from '#testkit/admin-http';
import { get, pickerOf, submit, throughDialog } from '#testkit/connect-login';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ PORT: '0', MEMORY: '1', HEALTH_CHECK_INTERVAL_MS: '3600000' });
});
afterAll(async () => {
  await stack?.stop();
});

const admin = (method: string, path: string, body?: unknown) =>
  adminCall(stack.url, stack.adminToken, method, path, body);

async function newLink(expiresInSeconds?: number) {
  const res = await admin(
    'POST',
    adminRoutes.createConnectLink.path,
    expiresInSeconds ? { expiresInSeconds } : undefined,
  );
  expect(res.status).toBe(201);
  return ConnectLinkCreated.parse(res.json);
}

async function linkStatus(linkId: string) {
  return ConnectLinkView.parse((await admin('GET', pathOf(adminRoutes.getConnectLink, { linkId }))).json);
}

async function connectedPages(): Promise<Array<{ pageId: string; status: string }>> {
  return (
    (await admin('GET', adminRoutes.listPages.path)).json as {
      pages: Array<{ pageId: string; status: string }>;
    }
  ).pages;
}

function expectSecurityHeaders(headers: Headers) {
  expect(headers.get('content-security-policy')).toMatch(
    /^default-src 'none'; style-src 'sha256-[^']+'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/,
  );
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
}

/** Every token the sandbox could hand out looks like this; none may reach a page or a URL. */
const TOKEN = /EAA[A-Za-z0-9]{20,}/;

describe('refusals connect nothing', () => {
  it('a link that is not one, a tampered state, an unknown state: 400 pages', async () => {
    const link = await newLink();
    const state = new URL(link.url).searchParams.get('state') ?? '';
    const tampered = `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`;
    for (const url of [
      `${stack.url}${CONNECT_LOGIN_PATH}`,
      `${stack.url}${CONNECT_LOGIN_PATH}?state=${tampered}`,
      `${stack.url}${CONNECT_LOGIN_PATH}?state=${state}&state=${state}`,
      `${stack.url}${CONNECT_CALLBACK_PATH}?code=x&state=${tampered}`,
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(400);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expectSecurityHeaders(res.headers);
      expect(res.text).toContain('<h1>Link not valid</h1>');
    }
    expect((await linkStatus(link.linkId)).status).toBe('created');
    expect(await connectedPages()).toEqual([]);
  });

  it('a code Facebook refuses: 400, the link failed, nothing connected', async () => {
    const link = await newLink();
    const state = new URL(link.url).searchParams.get('state') ?? '';
    const res = await get(`${stack.url}${CONNECT_CALLBACK_PATH}?code=AQnotacode&state=${state}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Facebook refused the login');
    const view = await linkStatus(link.linkId);
    expect(view.status).toBe('failed');
    // The link cannot be used again after the failure.
    expect((await get(link.url)).status).toBe(400);
    expect(await connectedPages()).toEqual([]);
  });

  it('a code redeemed with another redirect_uri than the dialog had is refused (as Meta does)', async () => {
    const link = await newLink();
    const callback = new URL(await throughDialog(link.url));
    const code = callback.searchParams.get('code') ?? '';
    const sandbox = stack.sandbox;
    if (!sandbox) throw new Error('expected sandbox mode');
    expect(() => sandbox.fake.dialog.redeem(code, `${stack.url}/elsewhere`)).toThrow(
      /redirect_uri is identical/,
    );
    // The right redirect_uri still works once, then never again.
    expect(sandbox.fake.dialog.redeem(code, `${stack.url}${CONNECT_CALLBACK_PATH}`)).toMatch(TOKEN);
    expect(() => sandbox.fake.dialog.redeem(code, `${stack.url}${CONNECT_CALLBACK_PATH}`)).toThrow(
      /has been used/,
    );
  });

  it('cancel in the dialog: 400 "cancelled", the link failed', async () => {
    const link = await newLink();
    const callback = await throughDialog(link.url, 'cancel');
    expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
    const res = await get(callback);
    expect(res.status).toBe(400);
    expect(res.text).toContain('cancelled');
    expect((await linkStatus(link.linkId)).status).toBe('failed');
    expect(await connectedPages()).toEqual([]);
  });

  it('an expired link: 400 "expired"', async () => {
    const link = await newLink(1);
    // Waits for a wall-clock moment, not for work: the link's own expiry.
    while (Date.now() <= Date.parse(link.expiresAt)) await new Promise((r) => setTimeout(r, 50));
    const res = await get(link.url);
    expect(res.status).toBe(400);
    expect(res.text).toContain('<h1>Link expired</h1>');
    expect((await linkStatus(link.linkId)).expired).toBe(true);
  });

  it('a picker submitted after its link expired: 400 "expired", the link failed (its user token erased)', async () => {
    const link = await newLink(5);
    const callback = await throughDialog(link.url);
    const picker = pickerOf(await get(callback));
    expect((await linkStatus(link.linkId)).status).toBe('code_exchanged');
    // Waits for a wall-clock moment, not for work: the link's own expiry.
    while (Date.now() <= Date.parse(link.expiresAt)) await new Promise((r) => setTimeout(r, 50));
    const res = await submit(callback, picker, picker.cookie);
    expect(res.status).toBe(400);
    expect(res.text).toContain('<h1>Link expired</h1>');
    expect(await linkStatus(link.linkId)).toMatchObject({
      status: 'failed',
      error: 'the link expired before the pages were picked',
    });
    expect(await connectedPages()).toEqual([]);
  });

  it('a Facebook account that manages no page: 400 at once, the link failed (the CLI stops waiting)', async () => {
    const fake = stack.sandbox?.fake;
    if (!fake) throw new Error('expected sandbox mode');
    const { userId } = fake.addUser({ name: 'Nobody Pages', pages: [] });
    fake.loginAs(userId);
    try {
      const link = await newLink();
      const res = await get(await throughDialog(link.url));
      expect(res.status).toBe(400);
      expect(res.text).toContain('Facebook listed no page that this account manages.');
      expect(await linkStatus(link.linkId)).toMatchObject({ status: 'failed' });
    } finally {
      fake.loginAs(undefined);
    }
  });

  it('two callbacks of one link at once: exactly one picker, the other "already used"', async () => {
    const link = await newLink();
    const callback = await throughDialog(link.url);
    const answers = await Promise.all([get(callback), get(callback), get(callback)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400]);
    expect(answers.filter((a) => a.text.includes('already been used'))).toHaveLength(2);
  });

  it('a picker POST without the CSRF cookie, or with another, is refused and the link stays usable', async () => {
    const link = await newLink();
    const callback = await throughDialog(link.url);
    const picker = pickerOf(await get(callback));
    expect((await submit(callback, picker)).status).toBe(400);
    expect((await submit(callback, picker, 'pagewire_connect_csrf=forged')).status).toBe(400);
    expect((await submit(callback, { ...picker, csrf: 'forged' }, picker.cookie)).status).toBe(400);
    expect((await linkStatus(link.linkId)).status).toBe('code_exchanged');
    expect(await connectedPages()).toEqual([]);
    // Not ticking anything connects nothing, and ends the link.
    const none = await submit(callback, { ...picker, pageIds: [] }, picker.cookie);
    expect(none.status).toBe(200);
    expect(none.text).toContain('nothing was connected');
    expect(await connectedPages()).toEqual([]);
  });
});

describe('the whole login', () => {
  it('link → dialog → picker (all ticked) → submit: the pages are active, the link done with the result', async () => {
    const link = await newLink();
    expect(link.url).toMatch(new RegExp(`^${stack.url}${CONNECT_LOGIN_PATH}\\?state=[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect((await linkStatus(link.linkId)).status).toBe('created');

    const start = await get(link.url);
    expect(start.status).toBe(302);
    expectSecurityHeaders(start.headers);
    const dialog = new URL(start.location ?? '');
    expect(`${dialog.origin}${dialog.pathname}`).toBe(`${stack.env.GRAPH_API_URL}/${'v24.0'}/dialog/oauth`);
    expect(Object.fromEntries(dialog.searchParams)).toEqual({
      client_id: stack.env.FB_APP_ID,
      redirect_uri: `${stack.url}${CONNECT_CALLBACK_PATH}`,
      state: new URL(link.url).searchParams.get('state'),
      response_type: 'code',
      scope:
        'pages_show_list,pages_messaging,pages_manage_metadata,business_management,instagram_basic,instagram_manage_messages',
    });
    expect((await linkStatus(link.linkId)).status).toBe('dialog_opened');

    const callback = await throughDialog(link.url);
    expect(callback.startsWith(`${stack.url}${CONNECT_CALLBACK_PATH}?code=`)).toBe(true);
    const pickerStep = await get(callback);
    expect(pickerStep.status).toBe(200);
    expectSecurityHeaders(pickerStep.headers);
    expect(pickerStep.headers.get('set-cookie')).toMatch(
      /^pagewire_connect_csrf=[A-Za-z0-9_-]{43}; Path=\/connect\/facebook; HttpOnly; SameSite=Strict; Max-Age=900$/,
    );
    expect(pickerStep.text).toMatch(/<html lang="en">/);
    expect(pickerStep.text.match(/<h1>/g)).toHaveLength(1);
    expect(pickerStep.text).toContain('<legend>Pages you manage</legend>');
    const picker = pickerOf(pickerStep);
    const demo = stack.sandbox?.pages ?? [];
    expect(picker.pageIds).toEqual(demo.map((p) => p.id));
    expect(pickerStep.text.match(/ checked>/g)).toHaveLength(demo.length);
    for (const [i] of demo.entries())
      expect(pickerStep.text).toContain(`<label for="page-${i}"><input type="checkbox" id="page-${i}"`);
    expect((await linkStatus(link.linkId)).status).toBe('code_exchanged');

    const result = await submit(callback, picker, picker.cookie);
    expect(result.status).toBe(200);
    expectSecurityHeaders(result.headers);
    expect(result.text).toContain('<h1>Pages connected</h1>');
    for (const p of demo) expect(result.text).toContain(`<td>${p.id}</td><td>active</td>`);

    // Each page, and after the café its linked Instagram account (SPEC §11).
    const instagram = stack.sandbox?.instagram;
    const connected = demo.flatMap((p) => [p.id, ...(p.id === instagram?.pageId ? [instagram.id] : [])]);
    expect(connected).toHaveLength(demo.length + 1);
    const view = await linkStatus(link.linkId);
    expect(view.status).toBe('done');
    expect(view.result?.map((p) => [p.pageId, p.status])).toEqual(connected.map((id) => [id, 'active']));
    expect((await connectedPages()).map((p) => p.status)).toEqual(connected.map(() => 'active'));

    for (const step of [start, pickerStep, result]) expect(step.text).not.toMatch(TOKEN);
    expect(callback).not.toMatch(TOKEN);
    expect(link.url).not.toMatch(TOKEN);

    // Replays: the callback, the link and the form, each once more.
    expect((await get(callback)).text).toContain('already been used');
    expect((await get(link.url)).status).toBe(400);
    const again = await submit(callback, picker, picker.cookie);
    expect(again.status).toBe(400);
  });
});
