import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#app/config';
import { appSecretProof, GraphClient } from '#graph/graph-client';
import { classifyGraphError, GraphError, type GraphErrorClass, regainAccessMs } from '#graph/graph-error';
import { GraphFake } from '#testkit/graph-faults';
import { at, first, present, take } from '#testkit/pick';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';

const APP_ID = '900000000000077';
const APP_SECRET = 'graph-client-test-secret-0123456789abcdef';
const VERSION = 'v23.0';
const PAGES = [1, 2, 3, 4, 5].map((n) => ({ id: `20000000000000${n}`, name: `Page ${n}` }));
const [PAGE_A, PAGE_B] = take(PAGES, 2, 'page');

const hmac = (token: string) => createHmac('sha256', APP_SECRET).update(token).digest('hex');

// ---- tiny loopback servers the fake cannot play ------------------------------------------------------

/** A port on loopback nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = await tinyServer((_, res) => res.end());
  await s.close();
  return s.port;
}

/** Retries would hide what one answer is classified as: single attempts unless a test asks for them. */
function client(
  baseUrl: string,
  o: { timeoutMs?: number; version?: string; retries?: boolean } = {},
): GraphClient {
  return new GraphClient({
    baseUrl,
    version: o.version ?? VERSION,
    appId: APP_ID,
    appSecret: APP_SECRET,
    timeoutMs: o.timeoutMs ?? 2_000,
    ...(o.retries ? { clock: INSTANT } : { retry: false }),
  });
}

/** Retries without waiting (no jitter, no sleep, no invocation deadline). */
const INSTANT = { sleep: async () => {}, random: () => 0 };

async function graphError(p: Promise<unknown>): Promise<GraphError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphError);
  return err as GraphError;
}

/** Neither the token nor the app secret may show in anything an error can be turned into. */
function expectNoSecrets(err: GraphError, ...secrets: string[]) {
  const renderings = [
    err.message,
    JSON.stringify(err),
    String(err.stack),
    String(err),
    inspect(err, { depth: 5 }),
  ];
  for (const s of [...secrets, APP_SECRET]) {
    for (const r of renderings) expect(r).not.toContain(s);
  }
}

// ---- against the Graph fake --------------------------------------------------------------------------

let fake: GraphFake;
let base: string;
let graph: GraphClient;
let shortLived: string;
let ada: string;

beforeEach(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET, pageSize: 2 });
  ({ shortLivedToken: shortLived } = fake.addUser({ pages: PAGES }));
  ada = fake.addPerson('Ada', 'Lovelace');
  base = await fake.start();
  graph = client(base);
});
afterEach(async () => {
  await fake.stop();
});

describe('appsecret_proof and version', () => {
  it('appSecretProof is HMAC-SHA256 of the token keyed by the app secret, hex', () => {
    expect(appSecretProof('EAAtoken', APP_SECRET)).toBe(hmac('EAAtoken'));
    expect(appSecretProof('EAAtoken', APP_SECRET)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('every call that carries a token carries its proof, in the configured version', async () => {
    const longLived = await graph.exchangeUserToken(shortLived);
    const pages = await graph.listPages(longLived);
    const tokenA = first(pages, 'pages').accessToken as string;
    await graph.subscribeApp(PAGE_A.id, tokenA, DEFAULT_SUBSCRIBED_FIELDS);
    await graph.subscribedApps(PAGE_A.id, tokenA);
    const psid = fake.psid(ada, PAGE_A.id);
    await graph.profile(psid, tokenA);
    await graph.sendText(PAGE_A.id, tokenA, psid, 'hello', { messagingType: 'RESPONSE' });
    await graph.unsubscribeApp(PAGE_A.id, tokenA);

    // exchange + 3 × /me/accounts + subscribe + check + profile + send + unsubscribe
    expect(fake.calls).toHaveLength(9);
    for (const call of fake.calls) expect(call.version).toBe(VERSION);
    const withToken = fake.calls.filter((c) => c.query.access_token);
    expect(withToken).toHaveLength(8);
    for (const call of withToken) {
      expect(call.query.appsecret_proof, `${call.method} ${call.path}`).toBe(
        hmac(present(call.query.access_token, 'access_token')),
      );
    }
    // The exchange carries the app's credentials instead of a token and a proof.
    const exchange = at(fake.calls, 0, 'Graph call');
    expect(exchange.path).toBe('/oauth/access_token');
    expect(exchange.query).toMatchObject({
      grant_type: 'fb_exchange_token',
      client_id: APP_ID,
      client_secret: APP_SECRET,
      fb_exchange_token: shortLived,
    });
    expect(exchange.query.access_token).toBeUndefined();
  });

  it('another version from the options is used in every path', async () => {
    const v25 = client(base, { version: 'v25.0' });
    const pages = await v25.listPages(await v25.exchangeUserToken(shortLived));
    await v25.subscribeApp(PAGE_B.id, at(pages, 1, 'pages').accessToken as string, ['messages']);
    expect(fake.calls.map((c) => c.version)).toEqual(['v25.0', 'v25.0', 'v25.0', 'v25.0', 'v25.0']);
  });

  it('a trailing slash on the base URL does not change the paths', async () => {
    const slashed = client(`${base}//`);
    await slashed.exchangeUserToken(shortLived);
    expect(fake.calls[0]).toMatchObject({ version: VERSION, path: '/oauth/access_token' });
  });
});

describe('retried calls', () => {
  it('each attempt of a retried call carries the token’s proof', async () => {
    fake.injectError(
      { method: 'GET', path: `/${PAGE_A.id}/subscribed_apps`, times: 2 },
      { status: 400, code: 80001, message: 'There have been too many calls to this Page account.' },
    );
    const token = fake.pageToken(PAGE_A.id);
    expect(await client(base, { retries: true }).subscribedApps(PAGE_A.id, token)).toEqual([]);
    expect(fake.calls).toHaveLength(3);
    for (const c of fake.calls)
      expect(c.query).toMatchObject({ access_token: token, appsecret_proof: hmac(token) });
  });

  it('an auth error is not retried', async () => {
    fake.injectError(
      { path: `/${PAGE_A.id}/subscribed_apps`, times: 5 },
      { status: 400, code: 190, subcode: 460, message: 'Error validating access token' },
    );
    const err = await graphError(client(base, { retries: true }).subscribedApps(PAGE_A.id, 'EAAx'));
    expect(err.errorClass).toBe('auth');
    expect(fake.calls).toHaveLength(1);
  });

  // Meta answers a wrong app secret on /oauth/access_token with code 1, transient elsewhere.
  it('a wrong app secret on the exchange (code 1) is not transient and is not retried', async () => {
    const wrong = new GraphClient({
      baseUrl: base,
      version: VERSION,
      appId: APP_ID,
      appSecret: 'not-the-app-secret',
      timeoutMs: 2_000,
      clock: INSTANT,
    });
    const err = await graphError(wrong.exchangeUserToken(shortLived));
    expect(err.code).toBe(1);
    expect(fake.calls).toHaveLength(1);
    expect(err.errorClass).not.toBe('transient');
  });
});

describe('listPages', () => {
  it('follows paging.next to the end: 5 pages of size 2 are 3 calls, each with its own proof', async () => {
    const longLived = await graph.exchangeUserToken(shortLived);
    const pages = await graph.listPages(longLived);
    expect(pages.map((p) => p.id)).toEqual(PAGES.map((p) => p.id));
    expect(pages.map((p) => p.name)).toEqual(PAGES.map((p) => p.name));
    for (const p of pages) expect(p.accessToken).toBe(fake.pageToken(p.id));

    const accounts = fake.calls.filter((c) => c.path.endsWith('/accounts'));
    expect(accounts).toHaveLength(3);
    for (const call of accounts) {
      expect(call.method).toBe('GET');
      expect(call.version).toBe(VERSION);
      expect(call.query.access_token).toBe(longLived);
      expect(call.query.appsecret_proof).toBe(hmac(longLived));
      expect(call.query.fields).toBe('id,name,access_token');
    }
    expect(first(accounts, 'accounts').query.after).toBeUndefined();
    expect(at(accounts, 1, 'accounts').query.after).toBeTruthy();
    expect(at(accounts, 2, 'accounts').query.after).not.toBe(at(accounts, 1, 'accounts').query.after);
  });

  it('refuses a paging.next on another origin without sending the token there', async () => {
    const evil = await tinyServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [] }));
    });
    const userToken = 'EAAuserTokenThatMustStayHome';
    const graphLike = await tinyServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          data: [{ id: '1', name: 'One', access_token: 'EAApageOne' }],
          paging: { next: `${evil.url}/${VERSION}/me/accounts?access_token=${userToken}&after=abc` },
        }),
      );
    });
    try {
      const err = await graphError(client(graphLike.url).listPages(userToken));
      expect(err.status).toBe(0);
      expect(err.message).toMatch(/paging\.next/);
      expectNoSecrets(err, userToken, 'EAApageOne');
      expect(graphLike.hits).toHaveLength(1);
      expect(evil.hits).toHaveLength(0);
    } finally {
      await Promise.all([evil.close(), graphLike.close()]);
    }
  });

  it('also refuses another scheme on the same host and port', async () => {
    const graphLike = await tinyServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ data: [], paging: { next: `https://${req.headers.host}/${VERSION}/me/accounts` } }),
      );
    });
    try {
      const err = await graphError(client(graphLike.url).listPages('EAAuser'));
      expect(err.status).toBe(0);
      expect(graphLike.hits).toHaveLength(1);
    } finally {
      await graphLike.close();
    }
  });
});

describe('page calls', () => {
  it('subscribeApp posts subscribed_fields by page id with that page’s own token', async () => {
    await graph.subscribeApp(PAGE_B.id, fake.pageToken(PAGE_B.id), DEFAULT_SUBSCRIBED_FIELDS);
    const call = at(fake.calls, 0, 'Graph call');
    expect(call).toMatchObject({
      method: 'POST',
      path: `/${PAGE_B.id}/subscribed_apps`,
      tokenPageId: PAGE_B.id,
    });
    expect(call.body.subscribed_fields).toBe(DEFAULT_SUBSCRIBED_FIELDS.join(','));
    expect(fake.subscriptions(PAGE_B.id)).toEqual({ appId: APP_ID, fields: [...DEFAULT_SUBSCRIBED_FIELDS] });
    expect(fake.subscriptions(PAGE_A.id)).toBeUndefined();
    expect(await graph.subscribedApps(PAGE_B.id, fake.pageToken(PAGE_B.id))).toEqual([
      { id: APP_ID, fields: [...DEFAULT_SUBSCRIBED_FIELDS] },
    ]);
  });

  it('another page’s token is refused by Meta (210) as a permanent error', async () => {
    const err = await graphError(graph.subscribeApp(PAGE_B.id, fake.pageToken(PAGE_A.id), ['messages']));
    expect(err).toMatchObject({ status: 400, code: 210, errorClass: 'permanent' });
    expect(fake.subscriptions(PAGE_B.id)).toBeUndefined();
  });

  it('unsubscribeApp deletes the subscription with the page token', async () => {
    const token = fake.pageToken(PAGE_A.id);
    await graph.subscribeApp(PAGE_A.id, token, ['messages']);
    await graph.unsubscribeApp(PAGE_A.id, token);
    expect(fake.calls[1]).toMatchObject({ method: 'DELETE', path: `/${PAGE_A.id}/subscribed_apps` });
    expect(await graph.subscribedApps(PAGE_A.id, token)).toEqual([]);
  });

  it('profile asks for first_name,last_name,profile_pic and answers them camel-cased', async () => {
    const psid = fake.psid(ada, PAGE_A.id);
    const profile = await graph.profile(psid, fake.pageToken(PAGE_A.id));
    expect(profile).toEqual({
      firstName: 'Ada',
      lastName: 'Lovelace',
      profilePic: expect.stringContaining('http'),
    });
    expect(fake.calls[0]).toMatchObject({
      method: 'GET',
      path: `/${psid}`,
      query: { fields: 'first_name,last_name,profile_pic' },
      tokenPageId: PAGE_A.id,
    });
  });

  it('sendText posts recipient, messaging_type and message.text and answers the message id', async () => {
    const psid = fake.psid(ada, PAGE_A.id);
    const token = fake.pageToken(PAGE_A.id);
    const { messageId } = await graph.sendText(PAGE_A.id, token, psid, 'Hi Ada', {
      messagingType: 'RESPONSE',
    });
    expect(fake.sent(PAGE_A.id)).toEqual([
      { recipientId: psid, messagingType: 'RESPONSE', text: 'Hi Ada', messageId },
    ]);
    const call = at(fake.calls, 0, 'Graph call');
    expect(call).toMatchObject({ method: 'POST', path: `/${PAGE_A.id}/messages`, tokenPageId: PAGE_A.id });
    expect(call.body).toEqual({
      recipient: { id: psid },
      messaging_type: 'RESPONSE',
      message: { text: 'Hi Ada' },
    });
  });

  it('sendText with a tag sends MESSAGE_TAG and the tag', async () => {
    const psid = fake.psid(ada, PAGE_A.id);
    const send = { messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' } as const;
    const { messageId } = await graph.sendText(PAGE_A.id, fake.pageToken(PAGE_A.id), psid, 'Later', send);
    expect(fake.sent(PAGE_A.id)).toEqual([
      { recipientId: psid, messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', text: 'Later', messageId },
    ]);
  });
});

describe('ids in Graph paths', () => {
  const NOT_IDS = ['..', 'a/b', 'me', '%2e%2e', '?x=1', 'ref:abc', '', '1'.repeat(33), ' 123', '１２３'];

  it.each(NOT_IDS)(
    '%j is refused before any request, for good, by every call that puts an id in a path',
    async (bad) => {
      const token = fake.pageToken(PAGE_A.id);
      const psid = fake.psid(ada, PAGE_A.id);
      const calls = [
        graph.profile(bad, token),
        graph.subscribeApp(bad, token, ['messages']),
        graph.subscribedApps(bad, token),
        graph.unsubscribeApp(bad, token),
        graph.sendText(bad, token, psid, 'hi', { messagingType: 'RESPONSE' }),
        graph.sendText(PAGE_A.id, token, bad, 'hi', { messagingType: 'RESPONSE' }),
      ];
      for (const call of calls) {
        const err = await graphError(call);
        expect(err).toMatchObject({ status: 0, errorClass: 'permanent' });
        expect(err.message).toMatch(/not a Facebook id/);
        expectNoSecrets(err, token);
      }
      expect(fake.calls).toEqual([]);
    },
  );

  it('a PSID, a page id and an IGSID (digit strings) are used as they are', async () => {
    const psid = fake.psid(ada, PAGE_A.id);
    await graph.profile(psid, fake.pageToken(PAGE_A.id));
    expect(fake.calls.map((c) => c.path)).toEqual([`/${psid}`]);
  });
});

// ---- errors ------------------------------------------------------------------------------------------

describe('error classification', () => {
  const cases: Array<[string, { status: number; code: number; subcode?: number }, GraphErrorClass]> = [
    ['190 invalid token', { status: 400, code: 190, subcode: 460 }, 'auth'],
    ['190 without subcode', { status: 400, code: 190 }, 'auth'],
    ['4 app throttle', { status: 400, code: 4 }, 'throttle'],
    ['17 user throttle', { status: 400, code: 17 }, 'throttle'],
    ['32 page throttle', { status: 400, code: 32 }, 'throttle'],
    ['613 custom throttle', { status: 400, code: 613 }, 'throttle'],
    ['80001 pages throttle', { status: 400, code: 80001 }, 'throttle'],
    ['80006 Messenger throttle', { status: 400, code: 80006 }, 'throttle'],
    ['HTTP 429', { status: 429, code: 100 }, 'throttle'],
    ['1 unknown', { status: 400, code: 1 }, 'transient'],
    ['2 service', { status: 400, code: 2 }, 'transient'],
    ['HTTP 500', { status: 500, code: 100 }, 'transient'],
    ['HTTP 503', { status: 503, code: 0 }, 'transient'],
    ['10 permission', { status: 400, code: 10, subcode: 2018278 }, 'permanent'],
    ['100 invalid parameter', { status: 400, code: 100 }, 'permanent'],
    ['200 permissions', { status: 403, code: 200 }, 'permanent'],
    ['230 permissions range', { status: 400, code: 230 }, 'permanent'],
    ['551 person unavailable', { status: 400, code: 551 }, 'permanent'],
  ];

  it.each(cases)('%s → %s', async (_, e, expected) => {
    const psid = fake.psid(ada, PAGE_A.id);
    const message = `(#${e.code}) injected`;
    fake.injectError({ method: 'POST', path: `/${PAGE_A.id}/messages` }, { ...e, message });
    const err = await graphError(
      graph.sendText(PAGE_A.id, fake.pageToken(PAGE_A.id), psid, 'x', { messagingType: 'RESPONSE' }),
    );
    expect(err).toMatchObject({
      status: e.status,
      code: e.code,
      subcode: e.subcode,
      errorClass: expected,
      message,
      operation: 'POST /{page-id}/messages',
    });
    expect(err.fbtraceId).toMatch(/\S+/);
    expect(err.toJSON()).toMatchObject({ class: expected, code: e.code, status: e.status, message });
    expect(fake.sent(PAGE_A.id)).toEqual([]);
  });

  it('classifyGraphError: 190 wins over any status; a network failure (status 0) is transient', () => {
    expect(classifyGraphError(500, 190)).toBe('auth');
    expect(classifyGraphError(429, 190)).toBe('auth');
    expect(classifyGraphError(0, undefined)).toBe('transient');
    expect(classifyGraphError(502, undefined)).toBe('transient');
    expect(classifyGraphError(429, undefined)).toBe('throttle');
    expect(classifyGraphError(400, undefined)).toBe('permanent');
    expect(classifyGraphError(400, 299)).toBe('permanent');
  });

  it('a 5xx without a JSON body is transient and says which status', async () => {
    const proxy = await tinyServer((_, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    });
    try {
      const err = await graphError(client(proxy.url).profile('1', 'EAAtok'));
      expect(err).toMatchObject({ status: 502, code: undefined, errorClass: 'transient' });
      expect(err.message).toContain('502');
    } finally {
      await proxy.close();
    }
  });
});

describe('X-Business-Use-Case-Usage', () => {
  const usage = (value: string) => ({ 'x-business-use-case-usage': value });

  async function throttled(headers: Record<string, string>) {
    fake.injectError(
      { path: `/${PAGE_A.id}/subscribed_apps` },
      { status: 400, code: 80001, message: 'There have been too many calls to this Page account.', headers },
    );
    return graphError(graph.subscribedApps(PAGE_A.id, fake.pageToken(PAGE_A.id)));
  }

  it('retryAfterMs is the longest estimated_time_to_regain_access over every entry, in ms', async () => {
    const header = JSON.stringify({
      '111': [
        { type: 'pages', call_count: 100, estimated_time_to_regain_access: 3 },
        { type: 'messenger', call_count: 90, estimated_time_to_regain_access: 0 },
      ],
      '222': [{ type: 'pages', call_count: 100, estimated_time_to_regain_access: 12 }],
    });
    const err = await throttled(usage(header));
    expect(err.errorClass).toBe('throttle');
    expect(err.retryAfterMs).toBe(12 * 60_000);
  });

  it.each([
    ['not JSON', 'garbage{'],
    ['JSON null', 'null'],
    ['an array', '[1,2]'],
    ['zero minutes', JSON.stringify({ '1': [{ estimated_time_to_regain_access: 0 }] })],
    ['no estimate', JSON.stringify({ '1': [{ call_count: 12 }] })],
    ['a string estimate', JSON.stringify({ '1': [{ estimated_time_to_regain_access: 'soon' }] })],
  ])('%s → undefined', async (_, header) => {
    const err = await throttled(usage(header));
    expect(err.errorClass).toBe('throttle');
    expect(err.retryAfterMs).toBeUndefined();
  });

  it('no header → undefined', async () => {
    expect((await throttled({})).retryAfterMs).toBeUndefined();
  });

  it('regainAccessMs reads minutes, takes the max, ignores negatives and non-numbers', () => {
    expect(regainAccessMs(null)).toBeUndefined();
    expect(regainAccessMs('')).toBeUndefined();
    expect(regainAccessMs('{}')).toBeUndefined();
    expect(regainAccessMs(JSON.stringify({ a: [{ estimated_time_to_regain_access: 1 }] }))).toBe(60_000);
    expect(regainAccessMs(JSON.stringify({ a: [{ estimated_time_to_regain_access: '2' }] }))).toBe(120_000);
    expect(
      regainAccessMs(
        JSON.stringify({
          a: [{ estimated_time_to_regain_access: -5 }, { estimated_time_to_regain_access: 4 }],
          b: [{ estimated_time_to_regain_access: 'x' }],
        }),
      ),
    ).toBe(4 * 60_000);
  });
});

describe('failures never leak a token or the app secret', () => {
  const TOKEN = 'EAAsecretPageTokenNeverToBeSeen0123456789';
  const servers: TinyServer[] = [];
  let silent: TinyServer;
  let stalling: TinyServer;

  beforeAll(async () => {
    silent = await tinyServer(() => {
      // never answers
    });
    stalling = await tinyServer((_, res) => {
      // headers and half a body, then nothing
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"first_name":');
    });
    servers.push(silent, stalling);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('a closed port is a network error: status 0, transient, no token in message, JSON or stack', async () => {
    const port = await closedPort();
    const g = client(`http://127.0.0.1:${port}`);
    const err = await graphError(g.profile('123', TOKEN));
    expect(err).toMatchObject({ status: 0, errorClass: 'transient', operation: 'GET /{psid}' });
    expect(err.message).toMatch(/network/i);
    expectNoSecrets(err, TOKEN);
    const exchange = await graphError(g.exchangeUserToken(TOKEN));
    expect(exchange.status).toBe(0);
    expectNoSecrets(exchange, TOKEN);
  });

  it('a server that never answers times out after timeoutMs: status 0, transient, no token', async () => {
    const started = Date.now();
    const err = await graphError(client(silent.url, { timeoutMs: 100 }).profile('123', TOKEN));
    expect(Date.now() - started).toBeLessThan(5_000); // the 100 ms timeout, not a hang;
    expect(err).toMatchObject({ status: 0, errorClass: 'transient' });
    expect(err.message).toMatch(/timed out/);
    expectNoSecrets(err, TOKEN);
    expect(silent.hits.length).toBeGreaterThan(0);
  });

  // At HEAD (fd4d0f1/286a110) this was a bug: the body's abort was swallowed by
  // `res.json().catch(() => undefined)`, giving status 200 / `permanent`. The concurrent retry change
  // reads the body under the same try as fetch; this test guards that.
  it('a server that stalls after the headers is a timeout too (status 0, transient)', async () => {
    const err = await graphError(client(stalling.url, { timeoutMs: 100 }).profile('123', TOKEN));
    expectNoSecrets(err, TOKEN);
    expect(err).toMatchObject({ status: 0, errorClass: 'transient' });
  });

  it('with retries, a profile read is retried on a timeout but a send is attempted once', async () => {
    const before = silent.hits.length;
    const g = client(silent.url, { timeoutMs: 50, retries: true });
    const read = await graphError(g.profile('123', TOKEN));
    expect(read.status).toBe(0);
    expectNoSecrets(read, TOKEN);
    const afterRead = silent.hits.length;
    expect(afterRead - before).toBeGreaterThan(1);
    const send = await graphError(g.sendText('1', TOKEN, '2', 'hi', { messagingType: 'RESPONSE' }));
    expect(send.status).toBe(0);
    expectNoSecrets(send, TOKEN);
    // A timed-out send may have reached Meta: sending again could deliver it twice.
    expect(silent.hits.length - afterRead).toBe(1);
  });

  it('Meta’s message quoting the token or the app secret is redacted', async () => {
    const token = fake.pageToken(PAGE_A.id);
    fake.injectError(
      { path: `/${PAGE_A.id}/subscribed_apps` },
      { status: 400, code: 190, subcode: 467, message: `Bad token ${token} (secret ${APP_SECRET})` },
    );
    const err = await graphError(graph.subscribeApp(PAGE_A.id, token, ['messages']));
    expect(err.errorClass).toBe('auth');
    expect(err.message).toContain('[redacted]');
    expect(err.message).toMatch(/^Bad token /);
    expectNoSecrets(err, token);
  });

  it('the short-lived user token quoted by the exchange is redacted', async () => {
    fake.injectError(
      { path: '/oauth/access_token' },
      { status: 400, code: 190, message: `Cannot parse access token ${shortLived}` },
    );
    const err = await graphError(graph.exchangeUserToken(shortLived));
    expect(err.errorClass).toBe('auth');
    expectNoSecrets(err, shortLived);
  });

  it('the long-lived user token quoted on /me/accounts is redacted', async () => {
    const longLived = await graph.exchangeUserToken(shortLived);
    fake.injectError(
      { path: '/me/accounts' },
      { status: 400, code: 190, message: `Token ${longLived} expired` },
    );
    const err = await graphError(graph.listPages(longLived));
    expectNoSecrets(err, longLived);
    expect(err.message).toBe('Token [redacted] expired');
  });
});

describe('GraphError', () => {
  it('is built from an options object; the class follows from status and code unless given', () => {
    const throttled = new GraphError({
      operation: 'GET /{psid}',
      status: 400,
      message: 'slow down',
      code: 613,
    });
    expect(throttled).toMatchObject({
      operation: 'GET /{psid}',
      status: 400,
      code: 613,
      errorClass: 'throttle',
    });
    expect(throttled.message).toBe('slow down');
    const refused = new GraphError({
      operation: 'GET /oauth/access_token',
      status: 400,
      message: 'Error validating client secret',
      code: 1,
      errorClass: 'permanent',
    });
    expect(refused.errorClass).toBe('permanent');
    expect(refused.toJSON()).toEqual({
      operation: 'GET /oauth/access_token',
      status: 400,
      code: 1,
      subcode: undefined,
      class: 'permanent',
      message: 'Error validating client secret',
      fbtraceId: undefined,
    });
  });

  it('still accepts the positional form (callers outside graph/ until they move)', () => {
    const e = new GraphError('GET /{psid}', 400, 'expired', 190, 463, 'trace', undefined, undefined);
    expect(e).toMatchObject({ code: 190, subcode: 463, fbtraceId: 'trace', errorClass: 'auth' });
  });
});
