/**
 * Page operations end to end over HTTP against `bin/local.ts`: disconnect, resubscribe-all, the
 * subscription health check with repair, token trouble and rate limits, with a Graph API fake that
 * plays Meta (silent unsubscribes, revoked tokens, throttling).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#app/config';
import { signBody } from '#ingest/signature';
import { adminCall } from '#testkit/admin-http';
import { GraphFake } from '#testkit/graph-faults';
import { type StackProcess, startStackProcess } from '#testkit/local-stack-process';
import { take } from '#testkit/pick';
import { entry, metaJson, webhookBody } from '#testkit/webhooks';

const APP_ID = '1517776481860222';
const APP_SECRET = randomBytes(16).toString('hex');
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const PAGES = Array.from({ length: 5 }, (_, i) => ({ id: `40000000000000${i + 1}`, name: `Page ${i + 1}` }));
const [P1, P2, P3, P4, P5] = take(
  PAGES.map((p) => p.id),
  5,
  'page id',
);

let fake: GraphFake;
let stack: StackProcess;
let userToken: string;
let ada: string;

beforeAll(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  const graphUrl = await fake.start();
  userToken = fake.addUser({ pages: PAGES }).shortLivedToken;
  ada = fake.addPerson('Ada', 'Lovelace');
  stack = await startStackProcess({
    FB_APP_ID: APP_ID,
    FB_APP_SECRET: APP_SECRET,
    FB_VERIFY_TOKEN: 'verify',
    ADMIN_TOKEN,
    GRAPH_API_URL: graphUrl,
    LOCAL_VISIBILITY_TIMEOUT_MS: '200',
  });
  const res = await admin('POST', '/admin/pages/connect', { userAccessToken: userToken });
  expect(res.json.pages.map((p: { status: string }) => p.status)).toEqual(PAGES.map(() => 'active'));
});

afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
});

function admin(method: string, path: string, body?: unknown) {
  return adminCall(stack.url, ADMIN_TOKEN, method, path, body);
}

async function page(id: string) {
  const res = await admin('GET', '/admin/pages');
  return res.json.pages.find((p: { pageId: string }) => p.pageId === id);
}

async function webhook(pageId: string, userId: string, mid: string) {
  const event = metaJson({
    sender: { id: userId },
    recipient: { id: pageId },
    timestamp: Date.now(),
    message: { mid, text: 'hi' },
  });
  const body = webhookBody(entry(pageId, [event]));
  const res = await fetch(`${stack.url}/webhooks/facebook`, {
    method: 'POST',
    headers: { 'x-hub-signature-256': signBody(body, APP_SECRET), 'content-type': 'application/json' },
    body,
  });
  expect(res.status).toBe(200);
  await stack.settle();
}

async function messages(pageId: string, userId: string) {
  return (await admin('GET', `/admin/pages/${pageId}/conversations/${userId}/messages`)).json
    .messages as Array<{
    mid: string;
  }>;
}

describe('page operations over HTTP', () => {
  it('disconnects one page by its own id and token, leaving the others subscribed', async () => {
    const res = await admin('DELETE', `/admin/pages/${P5}`);
    expect(res.status).toBe(200);
    expect(res.json.page).toMatchObject({ pageId: P5, status: 'disconnected', subscribedFields: [] });
    const unsubscribe = fake.calls.filter((c) => c.method === 'DELETE');
    expect(unsubscribe.map((c) => [c.path, c.tokenPageId])).toEqual([[`/${P5}/subscribed_apps`, P5]]);
    expect(fake.subscriptions(P5)).toBeUndefined();
    for (const id of [P1, P2, P3, P4]) expect(fake.subscriptions(id)?.appId).toBe(APP_ID);
    expect((await page(P1)).status).toBe('active');
    // Every status the page went through reached the stack's publisher (SPEC §8), once each.
    const events = (await admin('GET', `/admin/events?pageId=${P5}`)).json.events;
    expect(events.map((e: { type: string; data: unknown }) => [e.type, e.data])).toEqual([
      ['page.status_changed', { from: 'none', to: 'subscribing' }],
      ['page.status_changed', { from: 'subscribing', to: 'active' }],
      ['page.status_changed', { from: 'active', to: 'disconnected' }],
    ]);
  });

  it('drops events for a disconnected page', async () => {
    const before = (await stack.health()).counters.EventsForUnknownPage ?? 0;
    await webhook(P5, fake.psid(ada, P5), 'm_after_disconnect');
    expect((await stack.health()).counters.EventsForUnknownPage).toBe(before + 1);
    expect(await messages(P5, fake.psid(ada, P5))).toEqual([]);
  });

  it('subscribes one page again on request', async () => {
    fake.unsubscribeSilently(P4);
    const res = await admin('POST', `/admin/pages/${P4}/subscribe`);
    expect(res.status).toBe(200);
    expect(res.json.page.status).toBe('active');
    expect(fake.subscriptions(P4)?.fields).toEqual([...DEFAULT_SUBSCRIBED_FIELDS]);
  });

  it('finds a page Meta silently unsubscribed, and repairs it with repair', async () => {
    fake.unsubscribeSilently(P2);
    const check = await admin('POST', '/admin/subscriptions/check', { repair: false });
    expect(check.json).toMatchObject({ total: 4, succeeded: 3, repaired: [] });
    expect(check.json.failed).toEqual([{ pageId: P2, error: expect.stringMatching(/not subscribed/) }]);
    expect((await page(P2)).status).toBe('subscription_failed');
    expect((await page(P1)).lastCheckedAt).toEqual(expect.any(String));

    const repair = await admin('POST', '/admin/subscriptions/check', { repair: true });
    expect(repair.json).toMatchObject({ total: 4, succeeded: 4, failed: [], repaired: [P2] });
    expect(fake.subscriptions(P2)?.appId).toBe(APP_ID);
    expect((await page(P2)).status).toBe('active');
  });

  it('repairs a subscription that lost fields', async () => {
    await fetch(`${fake.url}/v24.0/${P3}/subscribed_apps`, {
      method: 'POST',
      body: new URLSearchParams({
        subscribed_fields: 'messages',
        access_token: fake.pageToken(P3),
        appsecret_proof: signBody(fake.pageToken(P3), APP_SECRET).slice(7),
      }),
    });
    expect(fake.subscriptions(P3)?.fields).toEqual(['messages']);
    const repair = await admin('POST', '/admin/subscriptions/check', { repair: true });
    expect(repair.json.repaired).toEqual([P3]);
    expect(fake.subscriptions(P3)?.fields).toEqual([...DEFAULT_SUBSCRIBED_FIELDS]);
  });

  it('resubscribes every connected page through a 613 twice, and reports a revoked page', async () => {
    fake.injectError(
      { method: 'POST', path: `/${P1}/subscribed_apps`, times: 2 },
      { status: 400, code: 613, message: 'Calls to this api have exceeded the rate limit.' },
    );
    fake.revokePageToken(P3);
    const res = await admin('POST', '/admin/subscriptions/resubscribe-all');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ total: 4, succeeded: 3, repaired: [] });
    expect(res.json.failed).toEqual([
      { pageId: P3, error: expect.stringMatching(/session has been invalidated/) },
    ]);
    expect(
      fake.calls.filter((c) => c.method === 'POST' && c.path === `/${P1}/subscribed_apps`).length,
    ).toBeGreaterThanOrEqual(3);
    expect((await page(P3)).status).toBe('reauth_required');
    expect((await page(P1)).status).toBe('active');
  });

  it('keeps storing messages of a page that needs reauth; reconnecting restores it and fetches the profile', async () => {
    const psid = fake.psid(ada, P3);
    await webhook(P3, psid, 'm_while_reauth');
    expect((await messages(P3, psid)).map((m) => m.mid)).toEqual(['m_while_reauth']);
    const convs = await admin('GET', `/admin/pages/${P3}/conversations`);
    expect(convs.json.conversations[0]).toMatchObject({ userId: psid, name: null });
    expect((await stack.health()).counters.PagesReauthRequired).toBeGreaterThanOrEqual(1);

    const res = await admin('POST', '/admin/pages/connect', { userAccessToken: userToken, pageIds: [P3] });
    expect(res.json.pages).toEqual([{ pageId: P3, name: 'Page 3', status: 'active' }]);
    const after = await admin('GET', `/admin/pages/${P3}/conversations`);
    expect(after.json.conversations[0]).toMatchObject({ userId: psid, name: 'Ada Lovelace' });
  });

  it('turns a page reauth_required when its token is refused on a profile fetch, and still stores the message', async () => {
    fake.revokePageToken(P4);
    const psid = fake.psid(ada, P4);
    await webhook(P4, psid, 'm_profile_190');
    expect((await messages(P4, psid)).map((m) => m.mid)).toEqual(['m_profile_190']);
    expect((await page(P4)).status).toBe('reauth_required');
    expect((await page(P4)).lastError).toMatch(/session has been invalidated/);
    const sub = await admin('POST', `/admin/pages/${P4}/subscribe`);
    expect([sub.status, sub.json.error.code]).toEqual([409, 'reauth_required']);
  });

  it('answers 404 for page commands on an unknown page', async () => {
    expect((await admin('DELETE', '/admin/pages/499999999999999')).status).toBe(404);
    expect((await admin('POST', '/admin/pages/499999999999999/subscribe')).status).toBe(404);
  });
});
