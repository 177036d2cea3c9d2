import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox } from '#local/graph-sandbox/demo';
import { GraphFake } from '#testkit/graph-faults';
import { at, first, present } from '#testkit/pick';

const APP_ID = '900000000000001';
const APP_SECRET = 'sandbox-test-secret';
const V = 'v24.0';
const PAGE_A = { id: '100000000000001', name: 'Page A' };
const PAGE_B = { id: '100000000000002', name: 'Page B' };
const PAGE_C = { id: '100000000000003', name: 'Page C' };
const FIELDS = ['messages', 'messaging_postbacks', 'message_deliveries', 'message_reads', 'message_echoes'];

interface CallOptions {
  token?: string;
  /** Override the proof: `false` sends none, a string sends that. Default: the right one. */
  proof?: string | false;
  query?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

/** A loose view of a Graph answer: each test reads the part it expects. */
interface Body {
  error: { code: number; error_subcode?: number; message: string; type: string; fbtrace_id: string };
  data: Array<Record<string, string>>;
  paging: { cursors: { before: string; after: string }; next?: string };
  [key: string]: unknown;
}

const proofOf = (token: string, secret = APP_SECRET) =>
  createHmac('sha256', secret).update(token).digest('hex');

let fake: GraphFake;
let base: string;
let userToken: string;
let ada: string;

async function call(method: string, path: string, o: CallOptions = {}) {
  const url = new URL(`${base}/${V}${path}`);
  for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
  if (o.token) url.searchParams.set('access_token', o.token);
  const proof = o.proof ?? (o.token ? proofOf(o.token) : false);
  if (proof !== false) url.searchParams.set('appsecret_proof', proof);
  const headers: Record<string, string> = { ...o.headers };
  let body: string | undefined;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers['content-type'] = 'application/json';
  } else if (o.form) {
    body = new URLSearchParams(o.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, { method, headers, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
}

function expectError(r: { status: number; body: Body }, code: number, subcode?: number) {
  expect(r.status).toBe(400);
  expect(r.body.error.code).toBe(code);
  if (subcode !== undefined) expect(r.body.error.error_subcode).toBe(subcode);
  expect(r.body.error.fbtrace_id).toMatch(/\S+/);
}

const tokenA = () => fake.pageToken(PAGE_A.id);
const tokenB = () => fake.pageToken(PAGE_B.id);

beforeAll(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET, appName: 'Pagewire Test', pageSize: 2 });
  ({ shortLivedToken: userToken } = fake.addUser({
    pages: [
      PAGE_A,
      PAGE_B,
      PAGE_C,
      { id: '100000000000004', name: 'D' },
      { id: '100000000000005', name: 'E' },
    ],
  }));
  ada = fake.addPerson('Ada', 'Lovelace');
  base = await fake.start();
});

afterAll(() => fake.stop());

beforeEach(() => {
  fake.calls.length = 0;
});

describe('paths and answers', () => {
  it('records the version and answers JSON', async () => {
    const r = await call('GET', `/${PAGE_A.id}`, { token: tokenA() });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.body).toEqual({ name: 'Page A', id: PAGE_A.id });
    expect(fake.calls[0]).toMatchObject({
      method: 'GET',
      path: `/${PAGE_A.id}`,
      version: V,
      tokenPageId: PAGE_A.id,
    });
  });

  it('refuses unknown paths and unversioned paths with code 100', async () => {
    expectError(await call('GET', `/${PAGE_A.id}/no_such_edge`, { token: tokenA() }), 100);
    const res = await fetch(`${base}/me/accounts`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Body).error.code).toBe(100);
  });

  it('delays every answer by latencyMs', async () => {
    const slow = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET, latencyMs: 80 });
    const url = await slow.start();
    try {
      const t0 = Date.now();
      expect((await fetch(`${url}/${V}/me`)).status).toBe(400);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
    } finally {
      await slow.stop();
    }
  });

  it('gives every error a fresh fbtrace_id', async () => {
    const a = await call('GET', '/nowhere/x/y');
    const b = await call('GET', '/nowhere/x/y');
    expect(a.body.error.fbtrace_id).not.toBe(b.body.error.fbtrace_id);
  });
});

describe('tokens and appsecret_proof', () => {
  it('requires the proof on every token call', async () => {
    const r = await call('GET', '/me/accounts', { token: userToken, proof: false });
    expectError(r, 100);
    expect(r.body.error.message).toMatch(/appsecret_proof/);
  });

  it('refuses a wrong proof', async () => {
    const r = await call('GET', '/me/accounts', {
      token: userToken,
      proof: proofOf(userToken, 'other-secret'),
    });
    expectError(r, 100);
    expect(r.body.error.message).toBe('Invalid appsecret_proof provided in the API argument');
  });

  it('accepts the token from an Authorization header (Bearer or OAuth)', async () => {
    for (const scheme of ['Bearer', 'OAuth']) {
      const r = await call('GET', `/${PAGE_A.id}/subscribed_apps`, {
        query: { appsecret_proof: proofOf(tokenA()) },
        headers: { authorization: `${scheme} ${tokenA()}` },
      });
      expect(r.status).toBe(200);
    }
  });

  it('answers 190/467 for an unknown token, with a valid proof', async () => {
    expectError(await call('GET', '/me', { token: 'EAAnotatoken' }), 190, 467);
  });
});

describe('GET /oauth/access_token', () => {
  const exchange = (q: Record<string, string>) =>
    call('GET', '/oauth/access_token', {
      query: { grant_type: 'fb_exchange_token', client_id: APP_ID, client_secret: APP_SECRET, ...q },
    });

  it('exchanges a short-lived user token for a long-lived one without a proof', async () => {
    const r = await exchange({ fb_exchange_token: userToken });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'bearer', expires_in: 5184000 });
    expect(r.body.access_token).not.toBe(userToken);
    const me = await call('GET', '/me/accounts', { token: String(r.body.access_token) });
    expect(me.status).toBe(200);
  });

  it('refuses a bad client secret and a wrong client id', async () => {
    const bad = await exchange({ fb_exchange_token: userToken, client_secret: 'nope' });
    expect(bad.status).toBe(400);
    // Meta's real code for a wrong secret is 1 (which reads as transient): see the note in the fake.
    expect(bad.body.error).toMatchObject({ code: 1, message: 'Error validating client secret.' });
    expectError(await exchange({ fb_exchange_token: userToken, client_id: '1' }), 101);
  });

  it('refuses an unknown short-lived token', async () => {
    expectError(await exchange({ fb_exchange_token: 'EAAunknown' }), 190, 467);
  });
});

describe('GET /me/accounts', () => {
  it('pages through 3 answers with pageSize 2; next carries the token but no proof', async () => {
    const ids: string[] = [];
    let r = await call('GET', '/me/accounts', {
      token: userToken,
      query: { fields: 'id,name,access_token' },
    });
    let answers = 1;
    for (;;) {
      expect(r.status).toBe(200);
      ids.push(...r.body.data.map((p) => present(p.id, 'page id')));
      expect(r.body.paging.cursors.after).toEqual(expect.any(String));
      const next: string | undefined = r.body.paging.next;
      if (!next) break;
      const url = new URL(next);
      expect(url.origin).toBe(base);
      expect(url.searchParams.get('access_token')).toBe(userToken);
      expect(url.searchParams.has('appsecret_proof')).toBe(false);
      url.searchParams.set('appsecret_proof', proofOf(userToken));
      const res = await fetch(url);
      r = { status: res.status, headers: res.headers, body: (await res.json()) as Body };
      answers += 1;
    }
    expect(answers).toBe(3);
    expect(ids).toHaveLength(5);
    expect(ids.slice(0, 3)).toEqual([PAGE_A.id, PAGE_B.id, PAGE_C.id]);
  });

  it('gives each page its own token and honours limit and after', async () => {
    const r = await call('GET', '/me/accounts', {
      token: userToken,
      query: { fields: 'id,name,access_token', limit: '3' },
    });
    expect(r.body.data).toHaveLength(3);
    expect(r.body.data[0]).toEqual({ id: PAGE_A.id, name: 'Page A', access_token: tokenA() });
    expect(at(r.body.data, 1, 'data').access_token).toBe(tokenB());
    expect(tokenA()).not.toBe(tokenB());
    const rest = await call('GET', '/me/accounts', {
      token: userToken,
      query: { fields: 'id', limit: '3', after: r.body.paging.cursors.after },
    });
    expect(rest.body.data.map((p) => p.id)).toEqual(['100000000000004', '100000000000005']);
    expect(rest.body.paging.next).toBeUndefined();
  });
});

describe('subscribed_apps', () => {
  it("requires that page's own token: a user token or page A's token on page B is 210", async () => {
    const form = { subscribed_fields: FIELDS.join(',') };
    expectError(await call('POST', `/${PAGE_B.id}/subscribed_apps`, { token: tokenA(), form }), 210);
    expectError(await call('POST', `/${PAGE_B.id}/subscribed_apps`, { token: userToken, form }), 210);
    expectError(await call('GET', `/${PAGE_B.id}/subscribed_apps`, { token: tokenA() }), 210);
    expect(fake.subscriptions(PAGE_B.id)).toBeUndefined();
  });

  it('subscribes, lists and deletes', async () => {
    const post = await call('POST', `/${PAGE_A.id}/subscribed_apps`, {
      token: tokenA(),
      form: { subscribed_fields: FIELDS.join(',') },
    });
    expect(post.body).toEqual({ success: true });
    expect(fake.subscriptions(PAGE_A.id)).toEqual({ appId: APP_ID, fields: FIELDS });
    // A JSON array replaces the fields.
    await call('POST', `/${PAGE_A.id}/subscribed_apps`, {
      token: tokenA(),
      json: { subscribed_fields: ['messages'] },
    });
    const get = await call('GET', `/${PAGE_A.id}/subscribed_apps`, { token: tokenA() });
    expect(get.body).toEqual({
      data: [{ id: APP_ID, name: 'Pagewire Test', subscribed_fields: ['messages'] }],
    });
    const del = await call('DELETE', `/${PAGE_A.id}/subscribed_apps`, { token: tokenA() });
    expect(del.body).toEqual({ success: true });
    expect((await call('GET', `/${PAGE_A.id}/subscribed_apps`, { token: tokenA() })).body).toEqual({
      data: [],
    });
  });

  it('requires subscribed_fields and refuses unknown field names', async () => {
    expectError(await call('POST', `/${PAGE_A.id}/subscribed_apps`, { token: tokenA() }), 100);
    const r = await call('POST', `/${PAGE_A.id}/subscribed_apps`, {
      token: tokenA(),
      form: { subscribed_fields: 'messages,not_a_field' },
    });
    expectError(r, 100);
    expect(r.body.error.message).toContain('not_a_field');
  });

  it("/me/subscribed_apps acts on the token's page, whatever page was meant", async () => {
    const r = await call('POST', '/me/subscribed_apps', {
      token: tokenB(),
      form: { subscribed_fields: 'messages' },
    });
    expect(r.body).toEqual({ success: true });
    expect(fake.subscriptions(PAGE_B.id)?.fields).toEqual(['messages']);
    expect(fake.subscriptions(PAGE_A.id)).toBeUndefined();
    fake.unsubscribeSilently(PAGE_B.id);
    expect((await call('GET', `/${PAGE_B.id}/subscribed_apps`, { token: tokenB() })).body).toEqual({
      data: [],
    });
  });
});

describe('page-scoped ids and profiles', () => {
  it('gives the same person a different, stable PSID on each page', () => {
    const onA = fake.psid(ada, PAGE_A.id);
    expect(onA).toMatch(/^\d{16}$/);
    expect(fake.psid(ada, PAGE_B.id)).not.toBe(onA);
    expect(fake.psid(ada, PAGE_A.id)).toBe(onA);
  });

  it("answers the profile with the PSID's page token only", async () => {
    const psid = fake.psid(ada, PAGE_A.id);
    const query = { fields: 'first_name,last_name,profile_pic' };
    const ok = await call('GET', `/${psid}`, { token: tokenA(), query });
    expect(ok.body).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace', id: psid });
    expect(ok.body.profile_pic).toMatch(/^https:\/\//);
    const wrong = await call('GET', `/${psid}`, { token: tokenB(), query });
    expectError(wrong, 100, 33);
    expect(wrong.body.error.message).toContain(`Object with ID '${psid}' does not exist`);
    expectError(await call('GET', `/${psid}`, { token: userToken, query }), 100, 33);
  });
});

describe('POST /{page-id}/messages', () => {
  const send = (pageId: string, token: string, json: Record<string, unknown>) =>
    call('POST', `/${pageId}/messages`, { token, json });

  it('sends to a PSID of that page and records it', async () => {
    const psid = fake.psid(ada, PAGE_A.id);
    const r = await send(PAGE_A.id, tokenA(), {
      recipient: { id: psid },
      messaging_type: 'RESPONSE',
      message: { text: 'hello' },
    });
    expect(r.status).toBe(200);
    expect(r.body.recipient_id).toBe(psid);
    expect(r.body.message_id).toMatch(/^m_/);
    expect(fake.sent(PAGE_A.id).at(-1)).toEqual({
      recipientId: psid,
      messagingType: 'RESPONSE',
      text: 'hello',
      messageId: r.body.message_id,
    });
  });

  it('accepts a form post with JSON-encoded objects', async () => {
    const psid = fake.psid(ada, PAGE_B.id);
    const form = {
      recipient: JSON.stringify({ id: psid }),
      messaging_type: 'UPDATE',
      message: '{"text":"hi"}',
    };
    const r = await call('POST', `/${PAGE_B.id}/messages`, { token: tokenB(), form });
    expect(r.status).toBe(200);
  });

  it('refuses a recipient scoped to another page with 100/2018001', async () => {
    const psidOnB = fake.psid(ada, PAGE_B.id);
    const r = await send(PAGE_A.id, tokenA(), {
      recipient: { id: psidOnB },
      messaging_type: 'RESPONSE',
      message: { text: 'hello' },
    });
    expectError(r, 100, 2018001);
    expect(r.body.error.message).toContain('No matching user found');
  });

  it('requires messaging_type and refuses retired tags', async () => {
    const base = { recipient: { id: fake.psid(ada, PAGE_A.id) }, message: { text: 'hi' } };
    expectError(await send(PAGE_A.id, tokenA(), base), 100);
    expectError(await send(PAGE_A.id, tokenA(), { ...base, messaging_type: 'MESSAGE_TAG' }), 100);
    for (const tag of ['ACCOUNT_UPDATE', 'CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE']) {
      expectError(await send(PAGE_A.id, tokenA(), { ...base, messaging_type: 'MESSAGE_TAG', tag }), 100);
    }
    const ok = await send(PAGE_A.id, tokenA(), {
      ...base,
      messaging_type: 'MESSAGE_TAG',
      tag: 'HUMAN_AGENT',
    });
    expect(ok.status).toBe(200);
    expect(fake.sent(PAGE_A.id).at(-1)?.tag).toBe('HUMAN_AGENT');
  });

  it("requires that page's token", async () => {
    const r = await send(PAGE_A.id, tokenB(), {
      recipient: { id: fake.psid(ada, PAGE_A.id) },
      messaging_type: 'RESPONSE',
      message: { text: 'hi' },
    });
    expectError(r, 210);
  });
});

describe('revocation and injected errors', () => {
  it('answers 190/460 for a revoked page token; a new login hands out a fresh one', async () => {
    const other = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
    const { shortLivedToken } = other.addUser({ pages: [PAGE_A] });
    const url = await other.start();
    try {
      const old = other.pageToken(PAGE_A.id);
      other.revokePageToken(PAGE_A.id);
      const get = (token: string) =>
        fetch(
          `${url}/${V}/${PAGE_A.id}/subscribed_apps?access_token=${token}&appsecret_proof=${proofOf(token)}`,
        );
      const res = await get(old);
      expect(res.status).toBe(400);
      expect(((await res.json()) as Body).error).toMatchObject({
        code: 190,
        error_subcode: 460,
        type: 'OAuthException',
      });
      const accounts = await fetch(
        `${url}/${V}/me/accounts?fields=access_token&access_token=${shortLivedToken}&appsecret_proof=${proofOf(shortLivedToken)}`,
      );
      const fresh = present(
        first(((await accounts.json()) as Body).data, 'account').access_token,
        'access_token',
      );
      expect(fresh).not.toBe(old);
      expect((await get(fresh)).status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it('answers an injected error first, with its headers, the given number of times', async () => {
    const usage = JSON.stringify({ [PAGE_A.id]: [{ estimated_time_to_regain_access: 5 }] });
    fake.injectError(
      { method: 'GET', path: `/${PAGE_A.id}/subscribed_apps`, times: 2 },
      {
        status: 400,
        code: 80001,
        message: 'There have been too many calls',
        headers: { 'x-business-use-case-usage': usage },
      },
    );
    for (let i = 0; i < 2; i++) {
      // Even without a proof: the injected error answers before any check.
      const r = await call('GET', `/${PAGE_A.id}/subscribed_apps`, { token: tokenA(), proof: false });
      expectError(r, 80001);
      expect(r.headers.get('x-business-use-case-usage')).toBe(usage);
    }
    expect((await call('GET', `/${PAGE_A.id}/subscribed_apps`, { token: tokenA() })).status).toBe(200);
    expect(fake.calls).toHaveLength(3);
  });

  it('matches injected errors by RegExp and status', async () => {
    fake.injectError(
      { path: /\/messages$/ },
      { status: 503, code: 2, message: 'Service temporarily unavailable' },
    );
    const r = await call('POST', `/${PAGE_A.id}/messages`, { token: tokenA(), json: {} });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe(2);
  });
});

describe('startSandbox', () => {
  it('serves two demo pages, a demo user and Ada with a PSID on each page', async () => {
    const s = await startSandbox();
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(s.appId).toMatch(/^\d+$/);
      expect(s.appSecret).toEqual(expect.any(String));
      expect(s.pages.map((p) => p.name)).toEqual(['Pagewire Demo Café', 'Pagewire Demo Books']);
      for (const p of s.pages) expect(p.id).toMatch(/^\d{15}$/);
      const [a, b] = s.pages.map((p) => s.psids[p.id]);
      expect(a).not.toBe(b);
      expect(s.fake.psid(s.person, first(s.pages, 'pages').id)).toBe(a);
      const proof = createHmac('sha256', s.appSecret).update(s.userToken).digest('hex');
      const res = await fetch(
        `${s.url}/${V}/me/accounts?access_token=${s.userToken}&appsecret_proof=${proof}`,
      );
      const names = ((await res.json()) as Body).data.map((p) => p.name);
      expect(names).toEqual(['Pagewire Demo Café', 'Pagewire Demo Books']);
    } finally {
      await s.fake.stop();
    }
  });

  it('derives the same tokens from the same app secret (they survive a restart)', async () => {
    const one = await startSandbox({ appSecret: 'persisted' });
    const two = await startSandbox({ appSecret: 'persisted' });
    try {
      expect(two.userToken).toBe(one.userToken);
      expect(two.fake.pageToken(first(two.pages, 'pages').id)).toBe(
        one.fake.pageToken(first(one.pages, 'pages').id),
      );
    } finally {
      await Promise.all([one.fake.stop(), two.fake.stop()]);
    }
  });
});
