import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { createAdminApi } from '#admin-api/routes';
import { adminDeps } from '#app/admin';
import { DEFAULT_SUBSCRIBED_FIELDS, loadConfig } from '#app/config';
import type { TimelineItem } from '#contracts/conversation-records';
import { adminRoutes, pathOf } from '#contracts/routes';
import { ConversationRepository } from '#conversations/conversation-repository';
import type { Guard } from '#pages/page';
import { PageRepository } from '#pages/page-repository';
import { TokenUnsealError } from '#ports/token-errors';
import { pageKey } from '#store/table';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { GraphFake } from '#testkit/graph-faults';
import { httpEvent } from '#testkit/http-events';
import { type MemoryPublisher, memoryPublisher } from '#testkit/memory-publisher';
import { only } from '#testkit/pick';
import { tappedDocClient } from '#testkit/sdk-tap';

/** Fields set on a stored page directly, as a test seeds it (code changes pages by transitions). */
const EXISTS: Guard = { name: 'pageExists' };

const APP_ID = '900000000000042';
const APP_SECRET = 'admin-api-test-secret-0123456789abcdef';
const PAGE_A = { id: '300000000000001', name: 'Café A' };
const PAGE_B = { id: '300000000000002', name: 'Books B' };
const PAGE_C = { id: '300000000000003', name: 'Garden C' };
const OTHER = { id: '300000000000099', name: 'Someone else’s page' };
const PAGES = [PAGE_A, PAGE_B, PAGE_C];
const IDS = PAGES.map((p) => p.id);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Answer {
  status: number | undefined;
  raw: string;
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the part of the answer it expects
  body: any;
}

let dynamo: TestDynamo;
let tableName: string;
let fake: GraphFake;
let userToken: string;
let otherUserToken: string;
let ada: string;
let keyring: LocalKeyring;
let pages: PageRepository;
let conversations: ConversationRepository;
let api: ReturnType<typeof createAdminApi>;

function makeApi(
  env: Record<string, string> = {},
  credentials = { FB_APP_ID: APP_ID, FB_APP_SECRET: APP_SECRET },
  publisher?: MemoryPublisher,
) {
  const config = loadConfig({
    TABLE_NAME: tableName,
    GRAPH_API_URL: fake.url,
    GRAPH_API_VERSION: 'v24.0',
    GRAPH_TIMEOUT_MS: '2000',
    ...env,
  });
  const deps = adminDeps(
    config,
    dynamo.doc,
    keyring,
    new EnvCredentials(credentials),
    undefined,
    undefined,
    publisher,
  );
  return createAdminApi(deps);
}

async function call(method: string, path: string, body?: unknown, on = api): Promise<Answer> {
  const o =
    body === undefined
      ? {}
      : {
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        };
  const [rawPath, search] = path.split('?');
  const query = search ? Object.fromEntries(new URLSearchParams(search)) : undefined;
  const res = await on(httpEvent(method, rawPath ?? '', { ...o, query }));
  const raw = res.body ?? '';
  return { status: res.statusCode, raw, body: raw ? JSON.parse(raw) : undefined };
}

function expectError(a: Answer, status: number, code: string) {
  expect(a.status, a.raw).toBe(status);
  expect(a.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(a.body.error.message.length).toBeGreaterThan(0);
}

const connect = (body: Record<string, unknown> = { userAccessToken: userToken }) =>
  call('POST', '/admin/pages/connect', body);

async function rawPageItem(pageId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamo.doc.send(new GetCommand({ TableName: tableName, Key: pageKey(pageId) }));
  return Item;
}

const subscribeCalls = () =>
  fake.calls.filter((c) => c.path.endsWith('/subscribed_apps') && c.method === 'POST');

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(async () => {
  tableName = await dynamo.createTable();
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET, pageSize: 2 });
  ({ shortLivedToken: userToken } = fake.addUser({ pages: PAGES }));
  ({ shortLivedToken: otherUserToken } = fake.addUser({ pages: [OTHER] }));
  ada = fake.addPerson('Ada', 'Lovelace');
  await fake.start();
  keyring = LocalKeyring.ephemeral();
  pages = new PageRepository(dynamo.doc, tableName);
  conversations = new ConversationRepository(dynamo.doc, tableName);
  api = makeApi();
});
afterEach(async () => {
  await fake.stop();
});

describe('POST /admin/pages/connect', () => {
  it('connects every page of the user: active, subscribed by its own id with its own token', async () => {
    const a = await connect();
    expect(a.status, a.raw).toBe(200);
    expect(a.body).toEqual({
      pages: PAGES.map((p) => ({ pageId: p.id, name: p.name, status: 'active' })),
    });
    // 3 pages at 2 per answer: /me/accounts followed to its second answer.
    expect(fake.calls.filter((c) => c.path.endsWith('/accounts'))).toHaveLength(2);
    const subs = subscribeCalls();
    expect(subs.map((c) => c.path).sort()).toEqual(IDS.map((id) => `/${id}/subscribed_apps`));
    for (const c of subs) expect(c.tokenPageId).toBe(c.path.split('/')[1]);
    expect(fake.calls.some((c) => c.path.startsWith('/me/subscribed_apps'))).toBe(false);
    for (const id of IDS) {
      expect(fake.subscriptions(id)).toEqual({ appId: APP_ID, fields: [...DEFAULT_SUBSCRIBED_FIELDS] });
      const page = await pages.get(id);
      expect(page).toMatchObject({
        pageId: id,
        status: 'active',
        subscribedFields: [...DEFAULT_SUBSCRIBED_FIELDS],
      });
      expect(Date.parse(page?.connectedAt ?? '')).not.toBeNaN();
    }
  });

  it('seals each page token for its page: never in the raw item, opens only with its own pageId', async () => {
    await connect();
    for (const id of IDS) {
      const token = fake.pageToken(id);
      const item = await rawPageItem(id);
      expect(item).toBeDefined();
      const stored = JSON.stringify(item);
      expect(stored).not.toContain(token);
      expect(stored).not.toContain(userToken);
      expect(stored).not.toContain(APP_SECRET);
      const sealed = item?.sealedToken as string;
      expect(sealed).toMatch(/^k1\./);
      expect(await keyring.unseal(id, sealed)).toBe(token);
      for (const other of IDS.filter((o) => o !== id)) {
        await expect(keyring.unseal(other, sealed)).rejects.toBeInstanceOf(TokenUnsealError);
      }
    }
  });

  it('connects only the pages named in pageIds', async () => {
    const a = await connect({ userAccessToken: userToken, pageIds: [PAGE_B.id] });
    expect(a.status, a.raw).toBe(200);
    expect(a.body).toEqual({ pages: [{ pageId: PAGE_B.id, name: PAGE_B.name, status: 'active' }] });
    expect((await pages.list()).map((p) => p.pageId)).toEqual([PAGE_B.id]);
    expect(subscribeCalls().map((c) => c.path)).toEqual([`/${PAGE_B.id}/subscribed_apps`]);
    expect(fake.subscriptions(PAGE_A.id)).toBeUndefined();
    expect(fake.subscriptions(PAGE_C.id)).toBeUndefined();
  });

  it('a page id named twice is connected once', async () => {
    const a = await connect({ userAccessToken: userToken, pageIds: [PAGE_A.id, PAGE_A.id] });
    expect(a.body.pages).toHaveLength(1);
    expect(subscribeCalls()).toHaveLength(1);
  });

  it.each([
    ['only pages the user does not manage', [OTHER.id]],
    ['one managed and one not', [PAGE_A.id, OTHER.id]],
  ])('pageIds naming a page the user does not manage → 400, nothing stored (%s)', async (_, pageIds) => {
    const a = await connect({ userAccessToken: userToken, pageIds });
    expectError(a, 400, 'pages_not_found');
    expect(a.body.error.message).toContain(OTHER.id);
    expect(await pages.list()).toEqual([]);
    expect(subscribeCalls()).toEqual([]);
  });

  it('an invalid user token → 400 invalid_user_token, nothing stored, the token not echoed', async () => {
    const bogus = 'EAAbogusUserToken0123456789';
    const a = await connect({ userAccessToken: bogus });
    expectError(a, 400, 'invalid_user_token');
    expect(a.raw).not.toContain(bogus);
    expect(await pages.list()).toEqual([]);
  });

  it('a revoked user token (190/460 on the exchange) → 400 invalid_user_token', async () => {
    fake.injectError(
      { path: '/oauth/access_token' },
      { status: 400, code: 190, subcode: 460, message: 'Error validating access token: password changed' },
    );
    const a = await connect();
    expectError(a, 400, 'invalid_user_token');
    expect(a.body.error.message).toContain('password changed');
    expect(await pages.list()).toEqual([]);
  });

  it('a user token refused on /me/accounts → 400 invalid_user_token', async () => {
    fake.injectError(
      { path: '/me/accounts' },
      { status: 400, code: 190, subcode: 463, message: 'Session expired' },
    );
    expectError(await connect(), 400, 'invalid_user_token');
    expect(await pages.list()).toEqual([]);
  });

  it('a subscribe refused with code 200 → subscription_failed with Meta’s message; the others active', async () => {
    const message = '(#200) Requires pages_messaging permission to manage the object';
    fake.injectError(
      { method: 'POST', path: `/${PAGE_B.id}/subscribed_apps` },
      { status: 403, code: 200, message },
    );
    const a = await connect();
    expect(a.status, a.raw).toBe(200);
    const byId = Object.fromEntries(a.body.pages.map((p: { pageId: string }) => [p.pageId, p]));
    expect(byId[PAGE_A.id]).toEqual({ pageId: PAGE_A.id, name: PAGE_A.name, status: 'active' });
    expect(byId[PAGE_C.id]).toEqual({ pageId: PAGE_C.id, name: PAGE_C.name, status: 'active' });
    expect(byId[PAGE_B.id]).toMatchObject({ pageId: PAGE_B.id, status: 'subscription_failed' });
    expect(byId[PAGE_B.id].error).toContain(message);
    const stored = await pages.get(PAGE_B.id);
    expect(stored).toMatchObject({ status: 'subscription_failed', lastError: message });
    // The token stays sealed, so the page can be subscribed again without a new login.
    expect(await keyring.unseal(PAGE_B.id, stored?.sealedToken ?? '')).toBe(fake.pageToken(PAGE_B.id));
    expect(fake.subscriptions(PAGE_B.id)).toBeUndefined();
    expect((await pages.get(PAGE_A.id))?.status).toBe('active');
  });

  it('a subscribe refused with 190 → reauth_required', async () => {
    const message = 'Error validating access token: The user has not authorized application';
    fake.injectError(
      { method: 'POST', path: `/${PAGE_C.id}/subscribed_apps` },
      { status: 400, code: 190, subcode: 458, message },
    );
    const a = await connect();
    const c = a.body.pages.find((p: { pageId: string }) => p.pageId === PAGE_C.id);
    expect(c).toMatchObject({ status: 'reauth_required', error: message });
    expect(await pages.get(PAGE_C.id)).toMatchObject({ status: 'reauth_required', lastError: message });
    expect((await pages.get(PAGE_A.id))?.status).toBe('active');
  });

  it('a reconnect keeps connectedAt and seals the page’s fresh token', async () => {
    await connect();
    const first = await pages.get(PAGE_A.id);
    await new Promise((r) => setTimeout(r, 15));
    fake.revokePageToken(PAGE_A.id); // the next /me/accounts hands out a new token
    const a = await connect({ userAccessToken: userToken, pageIds: [PAGE_A.id] });
    expect(a.body.pages).toEqual([{ pageId: PAGE_A.id, name: PAGE_A.name, status: 'active' }]);
    const second = await pages.get(PAGE_A.id);
    expect(second?.connectedAt).toBe(first?.connectedAt);
    expect(Date.parse(second?.updatedAt ?? '')).toBeGreaterThan(Date.parse(first?.updatedAt ?? ''));
    expect(await keyring.unseal(PAGE_A.id, second?.sealedToken ?? '')).toBe(fake.pageToken(PAGE_A.id));
    expect(await keyring.unseal(PAGE_A.id, first?.sealedToken ?? '')).not.toBe(fake.pageToken(PAGE_A.id));
  });

  it('a reconnect after reauth_required makes the page active again', async () => {
    await connect();
    await pages.apply(PAGE_A.id, {
      set: { status: 'reauth_required', lastError: 'token refused' },
      remove: [],
      guard: EXISTS,
      from: 'active',
    });
    await connect({ userAccessToken: userToken, pageIds: [PAGE_A.id] });
    const page = await pages.get(PAGE_A.id);
    expect(page?.status).toBe('active');
  });

  it('a page listed without an access_token does not fail the whole connect', async () => {
    const tokenA = 'EAApageTokenOfA';
    const graphLike = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const answer = path.endsWith('/oauth/access_token')
        ? { access_token: 'EAAlongLived' }
        : path.endsWith('/me/accounts')
          ? {
              data: [
                { id: PAGE_A.id, name: PAGE_A.name, access_token: tokenA },
                { id: PAGE_B.id, name: PAGE_B.name },
              ],
            }
          : { success: true };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => graphLike.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = graphLike.address() as AddressInfo;
      const on = makeApi({ GRAPH_API_URL: `http://127.0.0.1:${port}` });
      const a = await call('POST', '/admin/pages/connect', { userAccessToken: userToken }, on);
      expect(a.status, a.raw).toBe(200);
      const byId = Object.fromEntries(a.body.pages.map((p: { pageId: string }) => [p.pageId, p]));
      expect(byId[PAGE_A.id]).toMatchObject({ status: 'active' });
      expect(byId[PAGE_B.id]?.status).not.toBe('active');
    } finally {
      graphLike.closeAllConnections();
      await new Promise<void>((resolve) => graphLike.close(() => resolve()));
    }
  });

  it('a page whose connect fails on our side is that page’s row: the others are connected, and said so', async () => {
    // The store refuses every write of page B's record (not a throttle: the SDK would retry that).
    const failing = tappedDocClient(dynamo.endpoint, async ({ name, input }, send) => {
      const write = name === 'UpdateCommand' || name === 'PutCommand';
      if (write && JSON.stringify(input.Key ?? input.Item ?? {}).includes(PAGE_B.id))
        throw Object.assign(new Error('refused (test)'), { name: 'ValidationException' });
      return send();
    });
    const config = loadConfig({ TABLE_NAME: tableName, GRAPH_API_URL: fake.url, GRAPH_API_VERSION: 'v24.0' });
    const credentials = new EnvCredentials({ FB_APP_ID: APP_ID, FB_APP_SECRET: APP_SECRET });
    const on = createAdminApi(adminDeps(config, failing, keyring, credentials));
    const a = await call('POST', '/admin/pages/connect', { userAccessToken: userToken }, on);
    expect(a.status, a.raw).toBe(200);
    const byId = Object.fromEntries(a.body.pages.map((p: { pageId: string }) => [p.pageId, p]));
    expect(byId[PAGE_A.id]).toMatchObject({ status: 'active' });
    expect(byId[PAGE_B.id]).toMatchObject({
      status: 'subscription_failed',
      error: 'not connected (ValidationException): try again',
    });
    expect((await pages.get(PAGE_A.id))?.status).toBe('active');
  });

  it('without configured app credentials → 503 not_configured', async () => {
    const unconfigured = makeApi({}, { FB_APP_ID: APP_ID, FB_APP_SECRET: '' });
    expectError(
      await call('POST', '/admin/pages/connect', { userAccessToken: userToken }, unconfigured),
      503,
      'not_configured',
    );
    expect(fake.calls).toEqual([]);
  });
});

describe('GET /admin/pages', () => {
  it('lists the pages with status and fields and never a token or a sealed token', async () => {
    fake.injectError(
      { method: 'POST', path: `/${PAGE_B.id}/subscribed_apps` },
      { status: 403, code: 200, message: '(#200) Permissions error' },
    );
    await connect();
    await connect({ userAccessToken: otherUserToken });
    const a = await call('GET', '/admin/pages');
    expect(a.status, a.raw).toBe(200);
    expect(a.body.pages.map((p: { pageId: string }) => p.pageId)).toEqual([...IDS, OTHER.id]);
    for (const p of a.body.pages) {
      expect(p).toMatchObject({
        pageId: expect.any(String),
        name: expect.any(String),
        status: expect.stringMatching(/^(active|subscription_failed)$/),
        subscribedFields: expect.any(Array),
        connectedAt: expect.any(String),
      });
    }
    expect(a.body.pages[1]).toMatchObject({
      status: 'subscription_failed',
      lastError: '(#200) Permissions error',
    });
    expect(a.body.pages[0].subscribedFields).toEqual([...DEFAULT_SUBSCRIBED_FIELDS]);

    const secrets = [
      userToken,
      otherUserToken,
      APP_SECRET,
      ...[...IDS, OTHER.id].map((id) => fake.pageToken(id)),
    ];
    for (const id of [...IDS, OTHER.id]) secrets.push(String((await rawPageItem(id))?.sealedToken));
    for (const s of secrets) expect(a.raw).not.toContain(s);
    expect(a.raw).not.toMatch(/sealedToken|access_token|accessToken|"k1\./);
  });

  it('answers an empty list before any page is connected', async () => {
    const a = await call('GET', '/admin/pages');
    expect(a).toMatchObject({ status: 200, body: { pages: [] } });
  });
});

describe('conversations and messages', () => {
  let psid: string;
  const t0 = () => Date.now() - 2 * HOUR;

  beforeEach(async () => {
    await connect();
    psid = fake.psid(ada, PAGE_A.id);
  });

  it.each([
    ['conversations', `/admin/pages/${OTHER.id}/conversations`],
    ['messages', `/admin/pages/${OTHER.id}/conversations/123/messages`],
  ])('%s of an unknown page → 404 page_not_found', async (_, path) => {
    expectError(await call('GET', path), 404, 'page_not_found');
  });

  it('lists conversations newest first with the contact’s name', async () => {
    const start = t0();
    await conversations.touch(PAGE_A.id, psid, { timestamp: start, inbound: true, name: 'Ada Lovelace' });
    await conversations.touch(PAGE_A.id, '999', { timestamp: start + 1_000, inbound: true });
    // A delivery that overtook the first echo of a conversation: not listed until a message is stored.
    await conversations.raiseWatermark(PAGE_A.id, '888', 'delivered', start + 2_000);
    const a = await call('GET', `/admin/pages/${PAGE_A.id}/conversations`);
    expect(a.status, a.raw).toBe(200);
    expect(a.body.conversations).toEqual([
      expect.objectContaining({ userId: '999', name: null, lastMessageAt: start + 1_000 }),
      expect.objectContaining({ userId: psid, name: 'Ada Lovelace', lastMessageAt: start }),
    ]);
    const newest = await call('GET', `/admin/pages/${PAGE_A.id}/conversations?limit=1`);
    expect(newest.body.conversations.map((c: { userId: string }) => c.userId)).toEqual(['999']);
    expect((await call('GET', `/admin/pages/${PAGE_B.id}/conversations`)).body).toEqual({
      conversations: [],
    });
  });

  it('lists messages oldest first; an out message’s status follows the watermarks', async () => {
    const start = t0();
    const item = (mid: string, timestamp: number, direction: 'in' | 'out'): TimelineItem => ({
      pageId: PAGE_A.id,
      userId: psid,
      mid,
      kind: 'message',
      direction,
      timestamp,
      text: mid,
      ...(direction === 'out' ? { status: 'sent' as const } : {}),
    });
    await conversations.touch(PAGE_A.id, psid, { timestamp: start, inbound: true });
    await conversations.putItem(item('m_out2', start + 3_000, 'out'));
    await conversations.putItem(item('m_in', start, 'in'));
    await conversations.putItem(item('m_out1', start + 1_000, 'out'));
    await conversations.raiseWatermark(PAGE_A.id, psid, 'read', start + 1_000);
    await conversations.raiseWatermark(PAGE_A.id, psid, 'delivered', start + 3_000);
    const a = await call('GET', `/admin/pages/${PAGE_A.id}/conversations/${psid}/messages`);
    expect(a.status, a.raw).toBe(200);
    expect(
      a.body.messages.map((m: { mid: string; direction: string; status: string | null }) => [
        m.mid,
        m.status,
      ]),
    ).toEqual([
      ['m_in', null],
      ['m_out1', 'read'],
      ['m_out2', 'delivered'],
    ]);
    expect(a.body.messages[0]).toMatchObject({
      direction: 'in',
      text: 'm_in',
      attachments: [],
      timestamp: start,
    });
  });

  it('messages of a conversation that does not exist on a known page → empty list', async () => {
    const a = await call('GET', `/admin/pages/${PAGE_A.id}/conversations/424242/messages`);
    expect(a).toMatchObject({ status: 200, body: { messages: [] } });
  });
});

describe('bad requests and routing', () => {
  it('a body that is not JSON → 400 invalid_json', async () => {
    expectError(await call('POST', '/admin/pages/connect', '{"userAccessToken":'), 400, 'invalid_json');
    expectError(
      await call('POST', `/admin/pages/${PAGE_A.id}/conversations/1/messages`, 'text=hi'),
      400,
      'invalid_json',
    );
    expect(fake.calls).toEqual([]);
  });

  it.each([
    ['no body', undefined],
    ['null', 'null'],
    ['an array', '[]'],
    ['no userAccessToken', {}],
    ['an empty userAccessToken', { userAccessToken: '' }],
    ['a numeric userAccessToken', { userAccessToken: 42 }],
    ['empty pageIds', { userAccessToken: 'EAAx', pageIds: [] }],
    ['non-numeric pageIds', { userAccessToken: 'EAAx', pageIds: ['abc'] }],
    ['pageIds not an array', { userAccessToken: 'EAAx', pageIds: '300000000000001' }],
  ])('connect with %s → 400 invalid_body', async (_, body) => {
    expectError(await call('POST', '/admin/pages/connect', body), 400, 'invalid_body');
    expect(fake.calls).toEqual([]);
    expect(await pages.list()).toEqual([]);
  });

  it.each([
    ['no text', {}],
    ['empty text', { text: '' }],
    ['blank text', { text: '   \n' }],
    ['text over 2000 characters', { text: 'x'.repeat(2001) }],
    ['a numeric text', { text: 7 }],
  ])('send with %s → 400 invalid_body', async (_, body) => {
    expectError(
      await call('POST', `/admin/pages/${PAGE_A.id}/conversations/1/messages`, body),
      400,
      'invalid_body',
    );
    expect(fake.calls).toEqual([]);
  });

  it('a base64-encoded body (as API Gateway passes binary bodies) is read', async () => {
    const res = await api(
      httpEvent('POST', '/admin/pages/connect', {
        body: Buffer.from(JSON.stringify({ userAccessToken: '' })),
      }),
    );
    expect(JSON.parse(res.body ?? '')).toMatchObject({ error: { code: 'invalid_body' } });
  });

  it.each([
    ['GET', '/admin/nothing'],
    ['GET', '/admin/pages/1/unknown'],
    ['DELETE', '/admin/pages/connect/extra'],
    ['GET', '/health'],
  ])('%s %s → 404 not_found', async (method, path) => {
    expectError(await call(method, path), 404, 'not_found');
  });

  it.each([
    ['DELETE', '/admin/pages'],
    ['GET', '/admin/pages/connect'],
    ['POST', `/admin/pages/${PAGE_A.id}/conversations`],
    ['PUT', `/admin/pages/${PAGE_A.id}/conversations/1/messages`],
  ])('%s %s → 405 method_not_allowed', async (method, path) => {
    expectError(await call(method, path), 405, 'method_not_allowed');
  });

  it('a trailing slash is the same route', async () => {
    expect((await call('GET', '/admin/pages/')).status).toBe(200);
  });

  it('a malformed percent-escape in a path parameter → 400 invalid_path, not 500', async () => {
    expectError(await call('GET', '/admin/pages/%E0%A4%A/conversations'), 400, 'invalid_path');
    expectError(await call('GET', `/admin/quarantine/${PAGE_A.id}/%ZZ`), 400, 'invalid_path');
    // Under a method no route has, the path is still served: 405.
    expectError(await call('PUT', '/admin/pages/%E0%A4%A/conversations'), 405, 'method_not_allowed');
  });

  it.each([
    ['a blank id', '%20'],
    ['a control character', '1%0A2'],
    ['a tab (a URL parser would drop it)', '1\t2'],
    ['a dot segment', '..'],
    ['an escaped dot segment', '%2E'],
  ])('a path parameter with %s → 400 invalid_path', async (_, bad) => {
    expectError(await call('GET', `/admin/pages/${bad}/conversations`), 400, 'invalid_path');
    expectError(await call('GET', `/admin/quarantine/${PAGE_A.id}/${bad}`), 400, 'invalid_path');
  });

  it('an id of more than 128 characters → 400 invalid_path; 128 is looked up', async () => {
    const path = (id: string) => `/admin/quarantine/${PAGE_A.id}/${id}`;
    expectError(await call('GET', path('e'.repeat(129))), 400, 'invalid_path');
    expectError(await call('GET', path('e'.repeat(128))), 404, 'not_quarantined');
  });

  it('a method HTTP does not know → 405 method_not_allowed with the error body', async () => {
    expectError(await call('FOO', '/admin/pages'), 405, 'method_not_allowed');
  });

  it('a GET that carries a body (the local gateway passes it) is answered; the body is ignored', async () => {
    const res = await api(httpEvent('GET', '/admin/pages', { body: Buffer.from('{"x":1}') }));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? '')).toEqual({ pages: [] });
  });

  it('POST /admin/subscriptions/check takes no body, an empty object or {"repair":…}; not a string', async () => {
    await connect();
    for (const body of [undefined, {}, { repair: false }, { repair: true }]) {
      const a = await call('POST', '/admin/subscriptions/check', body);
      expect(a.status, a.raw).toBe(200);
      expect(a.body).toMatchObject({ total: 3, succeeded: 3, failed: [] });
    }
    expectError(await call('POST', '/admin/subscriptions/check', '{"repair":'), 400, 'invalid_json');
    expectError(await call('POST', '/admin/subscriptions/check', { repair: 'yes' }), 400, 'invalid_body');
  });

  it('every route of the contract is served (no route answers 404 not_found)', async () => {
    for (const route of Object.values(adminRoutes)) {
      const path = pathOf(route, {
        pageId: PAGE_A.id,
        userId: '7100000000000001',
        eventId: 'e1',
        linkId: 'l1',
      });
      const a = await call(route.method, path, route.method === 'GET' ? undefined : {});
      expect(a.body?.error?.code, `${route.method} ${path}`).not.toBe('not_found');
      expect(a.body?.error?.code, `${route.method} ${path}`).not.toBe('method_not_allowed');
    }
  });
});

describe('POST /admin/pages/{pageId}/conversations/{userId}/messages', () => {
  let psid: string;
  const sendPath = (pageId = PAGE_A.id, userId = psid) =>
    `/admin/pages/${pageId}/conversations/${userId}/messages`;
  const send = (text = 'Hello Ada', pageId = PAGE_A.id, userId = psid, on = api) =>
    call('POST', sendPath(pageId, userId), { text }, on);

  async function seed(lastInboundAgo: number | undefined, userId = psid) {
    const at = Date.now() - (lastInboundAgo ?? HOUR);
    await conversations.touch(PAGE_A.id, userId, {
      timestamp: at,
      inbound: lastInboundAgo !== undefined,
      name: 'Ada Lovelace',
    });
    if (lastInboundAgo !== undefined) {
      await conversations.putItem({
        pageId: PAGE_A.id,
        userId,
        mid: 'm_inbound',
        kind: 'message',
        direction: 'in',
        timestamp: at,
        text: 'Hi, are you open?',
      });
    }
    return at;
  }

  beforeEach(async () => {
    await connect();
    psid = fake.psid(ada, PAGE_A.id);
  });

  it('inside 24 h: RESPONSE with the page’s token, answers 201 with the stored out message (sent)', async () => {
    const inboundAt = await seed(2 * HOUR);
    const before = Date.now();
    const a = await send('  Hello Ada  ');
    expect(a.status, a.raw).toBe(201);
    const sent = only(fake.sent(PAGE_A.id), 'sent message');
    expect(fake.sent(PAGE_A.id)).toEqual([
      { recipientId: psid, messagingType: 'RESPONSE', text: 'Hello Ada', messageId: sent.messageId },
    ]);
    const sendCall = fake.calls.find((c) => c.path === `/${PAGE_A.id}/messages`);
    expect(sendCall?.tokenPageId).toBe(PAGE_A.id);
    expect(a.body).toMatchObject({
      mid: sent.messageId,
      direction: 'out',
      text: 'Hello Ada',
      status: 'sent',
    });
    expect(a.body.timestamp).toBeGreaterThanOrEqual(before);
    expect(a.raw).not.toContain(fake.pageToken(PAGE_A.id));

    const stored = await conversations.getItem(PAGE_A.id, psid, sent.messageId);
    expect(stored).toMatchObject({
      direction: 'out',
      status: 'sent',
      text: 'Hello Ada',
      timestamp: a.body.timestamp,
    });
    const conversation = await conversations.get(PAGE_A.id, psid);
    expect(conversation?.lastMessageAt).toBe(a.body.timestamp);
    expect(conversation?.lastInboundAt).toBe(inboundAt);

    const list = await call('GET', sendPath());
    expect(list.body.messages.map((m: { mid: string; status: string | null }) => [m.mid, m.status])).toEqual([
      ['m_inbound', null],
      [sent.messageId, 'sent'],
    ]);
  });

  it('between 24 h and 7 d: 422 outside_messaging_window, nothing sent', async () => {
    await seed(2 * DAY);
    expectError(await send(), 422, 'outside_messaging_window');
    expect(fake.sent(PAGE_A.id)).toEqual([]);
    expect(await conversations.listItems(PAGE_A.id, psid)).toHaveLength(1);
  });

  it('between 24 h and 7 d with humanAgentReplies: MESSAGE_TAG + HUMAN_AGENT', async () => {
    await seed(3 * DAY);
    const humanAgent = makeApi({ HUMAN_AGENT_REPLIES: 'true' });
    const a = await send('A human here', PAGE_A.id, psid, humanAgent);
    expect(a.status, a.raw).toBe(201);
    expect(fake.sent(PAGE_A.id)).toEqual([
      {
        recipientId: psid,
        messagingType: 'MESSAGE_TAG',
        tag: 'HUMAN_AGENT',
        text: 'A human here',
        messageId: a.body.mid,
      },
    ]);
    expect(a.body.status).toBe('sent');
  });

  it('beyond 7 d: 422 even with humanAgentReplies', async () => {
    await seed(8 * DAY);
    expectError(
      await send('late', PAGE_A.id, psid, makeApi({ HUMAN_AGENT_REPLIES: 'true' })),
      422,
      'outside_messaging_window',
    );
    expect(fake.sent(PAGE_A.id)).toEqual([]);
  });

  it('a conversation the person never wrote in: 422', async () => {
    await seed(undefined);
    expectError(await send(), 422, 'outside_messaging_window');
  });

  it('an unknown conversation → 404 conversation_not_found; an unknown page → 404 page_not_found', async () => {
    expectError(await send('hi', PAGE_A.id, '1234567890123456'), 404, 'conversation_not_found');
    expectError(await send('hi', OTHER.id, psid), 404, 'page_not_found');
    expect(fake.sent(PAGE_A.id)).toEqual([]);
  });

  it('a disconnected page → 404', async () => {
    await seed(HOUR);
    await pages.apply(PAGE_A.id, {
      set: { status: 'disconnected' },
      remove: ['sealedToken'],
      guard: EXISTS,
      from: 'active',
    });
    expectError(await send(), 404, 'page_not_found');
    expect(fake.sent(PAGE_A.id)).toEqual([]);
  });

  it('a page that needs reauth → 409 reauth_required, nothing sent', async () => {
    await seed(HOUR);
    await pages.apply(PAGE_A.id, {
      set: { status: 'reauth_required', lastError: 'token refused' },
      remove: [],
      guard: EXISTS,
      from: 'active',
    });
    expectError(await send(), 409, 'reauth_required');
    expect(fake.sent(PAGE_A.id)).toEqual([]);
    expect(fake.calls.filter((c) => c.path.endsWith('/messages'))).toEqual([]);
  });

  it('Send API error 551 → 422 with Meta’s message; the message is kept as failed', async () => {
    await seed(HOUR);
    const message = "(#551) This person isn't available right now.";
    fake.injectError(
      { method: 'POST', path: `/${PAGE_A.id}/messages` },
      { status: 400, code: 551, subcode: 1545041, message },
    );
    const a = await send();
    expectError(a, 422, 'send_refused');
    expect(a.body.error.message).toContain(message);
    const items = await conversations.listItems(PAGE_A.id, psid);
    expect(items).toHaveLength(2);
    expect(items[1]).toMatchObject({
      direction: 'out',
      status: 'failed',
      mid: expect.stringMatching(/^failed:/),
    });
    const listed = await call('GET', `/admin/pages/${PAGE_A.id}/conversations/${psid}/messages`);
    expect(listed.body.messages.at(-1)).toMatchObject({ direction: 'out', status: 'failed' });
    expect((await pages.get(PAGE_A.id))?.status).toBe('active');
  });

  it('a send whose answer never comes: 504, nothing stored (it may have gone out)', async () => {
    await seed(HOUR);
    const slow = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET, latencyMs: 500 });
    await slow.start();
    try {
      const token = fake.pageToken(PAGE_A.id);
      // The same page, psid and token on a Graph API that answers too late.
      slow.addUser({ pages: [PAGE_A] });
      const on = makeApi({ GRAPH_API_URL: slow.url, GRAPH_TIMEOUT_MS: '100' });
      const a = await call('POST', sendPath(), { text: 'hello?' }, on);
      expectError(a, 504, 'send_unconfirmed');
      expect(a.raw).not.toContain(token);
      expect(await conversations.listItems(PAGE_A.id, psid)).toHaveLength(1);
    } finally {
      await slow.stop();
    }
  });

  it('a sent message and a refused one are published (message.sent, source pagewire) in seq order', async () => {
    await seed(HOUR);
    const publisher = memoryPublisher();
    const withEvents = makeApi({}, undefined, publisher);
    const a = await send('Hello Ada', PAGE_A.id, psid, withEvents);
    expect(a.status, a.raw).toBe(201);
    fake.injectError(
      { method: 'POST', path: `/${PAGE_A.id}/messages` },
      { status: 400, code: 551, message: 'This person isn’t available right now.' },
    );
    expectError(await send('Still there?', PAGE_A.id, psid, withEvents), 422, 'send_refused');
    const events = publisher.events.filter((e) => e.type !== 'page.status_changed');
    expect(events).toMatchObject([
      { type: 'message.sent', seq: 1, data: { mid: a.body.mid, status: 'sent', source: 'pagewire' } },
      { type: 'message.sent', seq: 2, data: { text: 'Still there?', status: 'failed', source: 'pagewire' } },
    ]);
  });

  it('one throttle answer from the Send API is retried: 201, the message sent and stored once', async () => {
    await seed(HOUR);
    fake.injectError(
      { method: 'POST', path: `/${PAGE_A.id}/messages` },
      { status: 400, code: 80006, message: 'Too many messages' },
    );
    const a = await send();
    expect(a.status, a.raw).toBe(201);
    expect(fake.calls.filter((c) => c.path === `/${PAGE_A.id}/messages`)).toHaveLength(2);
    expect(fake.sent(PAGE_A.id)).toHaveLength(1);
    expect(await conversations.listItems(PAGE_A.id, psid)).toHaveLength(2);
  });

  it('a 190 during send marks the page reauth_required; the next send is 409', async () => {
    await seed(HOUR);
    const oldToken = fake.pageToken(PAGE_A.id);
    fake.revokePageToken(PAGE_A.id);
    const a = await send();
    expectError(a, 409, 'reauth_required');
    expect(a.raw).not.toContain(oldToken);
    const page = await pages.get(PAGE_A.id);
    expect(page?.status).toBe('reauth_required');
    expect(page?.lastError).toMatch(/Error validating access token/);
    expect(await conversations.listItems(PAGE_A.id, psid)).toHaveLength(1);
    expectError(await send(), 409, 'reauth_required');
    expect(fake.sent(PAGE_A.id)).toEqual([]);
  });
});

describe('list limits', () => {
  it('answers the newest N messages, oldest first, and refuses a bad limit', async () => {
    await connect();
    const user = '7100000000000001';
    const start = Date.now() - HOUR;
    for (let i = 0; i < 5; i++) {
      await conversations.touch(PAGE_A.id, user, { timestamp: start + i, inbound: true });
      await conversations.putItem({
        pageId: PAGE_A.id,
        userId: user,
        mid: `m_limit_${i}`,
        kind: 'message',
        direction: 'in',
        text: `${i}`,
        timestamp: start + i,
      });
    }
    const path = `/admin/pages/${PAGE_A.id}/conversations/${user}/messages`;
    const two = await call('GET', `${path}?limit=2`);
    expect(two.body.messages.map((m: { mid: string }) => m.mid)).toEqual(['m_limit_3', 'm_limit_4']);
    expect((await call('GET', path)).body.messages).toHaveLength(5);
    expectError(await call('GET', `${path}?limit=0`), 400, 'invalid_limit');
    expectError(await call('GET', `/admin/pages/${PAGE_A.id}/conversations?limit=x`), 400, 'invalid_limit');
  });

  it('refuses an id no page or person could have', async () => {
    expectError(await call('GET', `/admin/pages/${'9'.repeat(3000)}/conversations`), 400, 'invalid_path');
  });
});

describe('ids and tokens at the admin boundary (issue 8)', () => {
  const USER = '7100000000000002';
  const BAD_IDS = ['me', '%2e%2e', 'a%2Fb', '%3Fx%3D1', 'ref%3Aopt-in', '1e5', `${'1'.repeat(33)}`];
  const pageRoutes = (p: string): Array<[string, string, unknown?]> => [
    ['POST', `/admin/pages/${p}/subscribe`],
    ['DELETE', `/admin/pages/${p}`],
    ['GET', `/admin/pages/${p}/conversations`],
    ['GET', `/admin/pages/${p}/conversations/${USER}/messages`],
    ['POST', `/admin/pages/${p}/conversations/${USER}/messages`, { text: 'hi' }],
  ];

  it.each(BAD_IDS)(
    'pageId %s → 400 invalid_path on every page route, nothing asked of Graph',
    async (bad) => {
      await connect();
      const before = fake.calls.length;
      for (const [method, path, body] of pageRoutes(bad)) {
        const a = await call(method, path, body);
        expectError(a, 400, 'invalid_path');
        expect(a.body.error.message).toMatch(/^pageId: not a Facebook id/);
      }
      expect(fake.calls.length).toBe(before);
    },
  );

  it.each(['me', '%2e%2e', 'a%2Fb', '%3Fx%3D1'])(
    'userId %s → 400 invalid_path, nothing sent',
    async (bad) => {
      await connect();
      const before = fake.calls.length;
      const path = `/admin/pages/${PAGE_A.id}/conversations/${bad}/messages`;
      for (const [method, body] of [['GET'], ['POST', { text: 'hi' }]] as const) {
        const a = await call(method, path, body);
        expectError(a, 400, 'invalid_path');
        expect(a.body.error.message).toMatch(/^userId: /);
      }
      expect(fake.calls.length).toBe(before);
    },
  );

  it('a conversation kept under a ref: user ref is readable, but no reply goes to it', async () => {
    await connect();
    const userId = 'ref:opt-in-42';
    const start = Date.now() - HOUR;
    await conversations.touch(PAGE_A.id, userId, { timestamp: start, inbound: true });
    const path = `/admin/pages/${PAGE_A.id}/conversations/${encodeURIComponent(userId)}/messages`;
    expect(await call('GET', path)).toMatchObject({ status: 200, body: { messages: [] } });
    const before = fake.calls.length;
    expectError(await call('POST', path, { text: 'hi' }), 400, 'invalid_path');
    expect(fake.calls.length).toBe(before);
  });

  it('a user token longer than 4096 characters → 400 invalid_body, Graph never called', async () => {
    const a = await connect({ userAccessToken: `EAA${'x'.repeat(4094)}` });
    expectError(a, 400, 'invalid_body');
    expect(a.body.error.message).toMatch(/4096/);
    expect(fake.calls).toEqual([]);
    expect(await pages.list()).toEqual([]);
    // One of 4096 is a token for Meta to judge.
    expectError(await connect({ userAccessToken: `EAA${'x'.repeat(4093)}` }), 400, 'invalid_user_token');
    expect(fake.calls).toHaveLength(1);
  });

  it('pageIds longer than any Facebook id → 400 invalid_body, Graph never called', async () => {
    expectError(
      await connect({ userAccessToken: userToken, pageIds: ['1'.repeat(33)] }),
      400,
      'invalid_body',
    );
    expect(fake.calls).toEqual([]);
  });
});
