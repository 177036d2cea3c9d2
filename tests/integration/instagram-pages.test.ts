/**
 * Instagram entries through the admin API (SPEC §11): connect discovers each page's linked Instagram
 * professional account with the page's token and stores it as its own entry, listed with `channel` and
 * `linkedPageId`; it is subscribed through its page (never by its own id, also in bulk runs); every page
 * route works with its id; sends go to `POST /{linked-page-id}/messages` with the linked page's token
 * (the Graph emulator refuses any other token); disconnecting the page disconnects it.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { createAdminApi } from '#admin-api/routes';
import { adminDeps } from '#app/admin';
import { loadConfig } from '#app/config';
import { ConversationRepository } from '#conversations/conversation-repository';
import { PageRepository } from '#pages/page-repository';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { GraphFake } from '#testkit/graph-faults';
import { httpEvent } from '#testkit/http-events';
import { only, present } from '#testkit/pick';

const APP_ID = '900000000000043';
const APP_SECRET = 'instagram-pages-test-secret-0123456789';
const PAGE_A = { id: '300000000000011', name: 'Café A' };
const PAGE_B = { id: '300000000000012', name: 'Books B' };
const IG = { id: '17841400000000011', username: 'cafe.a' };

let dynamo: TestDynamo;
let tableName: string;
let fake: GraphFake;
let userToken: string;
let igsid: string;
let pages: PageRepository;
let conversations: ConversationRepository;
let api: ReturnType<typeof createAdminApi>;

// biome-ignore lint/suspicious/noExplicitAny: each test reads the part of the answer it expects
async function call(method: string, path: string, body?: unknown): Promise<{ status?: number; body: any }> {
  const o =
    body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
  const res = await api(httpEvent(method, path, o));
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

const connect = () => call('POST', '/admin/pages/connect', { userAccessToken: userToken });
const callsNaming = (id: string) => fake.calls.filter((c) => c.path.split('/').includes(id));

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(async () => {
  tableName = await dynamo.createTable();
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  ({ shortLivedToken: userToken } = fake.addUser({ pages: [PAGE_A, PAGE_B] }));
  fake.linkInstagram(PAGE_A.id, IG);
  igsid = fake.igsid(fake.addPerson('Ada', 'Lovelace'), IG.id);
  await fake.start();
  const config = loadConfig({
    TABLE_NAME: tableName,
    GRAPH_API_URL: fake.url,
    GRAPH_API_VERSION: 'v24.0',
    GRAPH_TIMEOUT_MS: '2000',
  });
  const credentials = new EnvCredentials({ FB_APP_ID: APP_ID, FB_APP_SECRET: APP_SECRET });
  api = createAdminApi(adminDeps(config, dynamo.doc, LocalKeyring.ephemeral(), credentials));
  pages = new PageRepository(dynamo.doc, tableName);
  conversations = new ConversationRepository(dynamo.doc, tableName);
});
afterEach(async () => {
  await fake.stop();
});

describe('connect discovers linked Instagram accounts (SPEC §11)', () => {
  it('stores and lists the account as its own entry, read with the page token, never subscribed itself', async () => {
    const a = await connect();

    expect(a.status).toBe(200);
    expect(a.body.pages).toEqual([
      { pageId: PAGE_A.id, name: PAGE_A.name, status: 'active' },
      { pageId: IG.id, name: IG.username, status: 'active', channel: 'instagram', linkedPageId: PAGE_A.id },
      { pageId: PAGE_B.id, name: PAGE_B.name, status: 'active' },
    ]);
    const discovery = fake.calls.filter((c) => c.query.fields === 'instagram_business_account{id,username}');
    expect(discovery.map((c) => [c.path, c.tokenPageId]).sort()).toEqual([
      [`/${PAGE_A.id}`, PAGE_A.id],
      [`/${PAGE_B.id}`, PAGE_B.id],
    ]);
    expect(callsNaming(IG.id)).toEqual([]);

    const listed = await call('GET', '/admin/pages');
    const byId = Object.fromEntries(listed.body.pages.map((p: { pageId: string }) => [p.pageId, p]));
    expect(byId[IG.id]).toMatchObject({
      pageId: IG.id,
      name: IG.username,
      channel: 'instagram',
      linkedPageId: PAGE_A.id,
      status: 'active',
      subscribedFields: [],
    });
    expect(byId[PAGE_A.id]).toMatchObject({ channel: 'messenger' });
    expect(byId[PAGE_B.id]).toMatchObject({ channel: 'messenger' });
    expect(JSON.stringify(listed.body)).not.toContain('sealedToken');
    expect((await pages.get(IG.id))?.sealedToken).toBeUndefined();
  });

  it('a page command answers the page as the list shows it: no token, no liveness bookkeeping', async () => {
    await connect();
    const stored = present(await pages.get(PAGE_A.id), 'page A');
    await pages.put({ ...stored, lastEventAt: '2026-12-01T10:00:00.000Z', eventDay0: 20_000 });
    const answer = await call('POST', `/admin/pages/${PAGE_A.id}/subscribe`);
    expect(answer.status).toBe(200);
    const page = (answer.body as { page: Record<string, unknown> }).page;
    expect(page).toMatchObject({
      pageId: PAGE_A.id,
      status: 'active',
      lastEventAt: '2026-12-01T10:00:00.000Z',
      warnings: [],
    });
    expect(Object.keys(page).filter((k) => k.startsWith('eventDay') || k.includes('Token'))).toEqual([]);
  });

  it('bulk runs and page commands never subscribe or check the entry by its own id', async () => {
    await connect();
    fake.calls.length = 0;

    const resubscribed = await call('POST', '/admin/subscriptions/resubscribe-all');
    const checked = await call('POST', '/admin/subscriptions/check', { repair: true });
    const subscribed = await call('POST', `/admin/pages/${IG.id}/subscribe`);

    expect(resubscribed.body).toMatchObject({ total: 2, succeeded: 2, failed: [] });
    expect(checked.body).toMatchObject({ total: 2, failed: [] });
    expect(subscribed.status).toBe(409);
    expect(JSON.stringify(subscribed.body)).toContain('subscribed through its linked page');
    expect(callsNaming(IG.id)).toEqual([]);
  });

  it('the doctor counts an entry subscribed through its page as subscribed', async () => {
    await connect();
    const doctor = await call('GET', '/admin/doctor');
    const pagesChecked: Array<{ pageId: string; checks: Array<{ name: string; ok: boolean }> }> =
      doctor.body.pages;
    const entry = only(
      pagesChecked.filter((p) => p.pageId === IG.id),
      'instagram entry in the doctor',
    );
    expect(entry.checks.find((c) => c.name === 'subscription')).toMatchObject({ ok: true });
    expect(callsNaming(IG.id)).toEqual([]);
  });

  it('shows the status of its page: a page needing reauth shows its entry needing reauth', async () => {
    await connect();
    fake.revokePageToken(PAGE_A.id);
    await call('POST', `/admin/pages/${PAGE_A.id}/subscribe`);

    const listed = await call('GET', '/admin/pages');
    const ig = only(
      listed.body.pages.filter((p: { pageId: string }) => p.pageId === IG.id),
      'instagram entry',
    );
    expect(ig).toMatchObject({ status: 'reauth_required', channel: 'instagram' });
  });

  it('sends to an IGSID through the linked page with its token; conversation routes take the IG id', async () => {
    await connect();
    await conversations.touch(IG.id, igsid, { timestamp: Date.now() - 60_000, inbound: true });

    const sent = await call('POST', `/admin/pages/${IG.id}/conversations/${igsid}/messages`, {
      text: 'Hi on IG',
    });

    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const send = only(
      fake.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/messages')),
      'send call',
    );
    expect(send).toMatchObject({ path: `/${PAGE_A.id}/messages`, tokenPageId: PAGE_A.id });
    expect(only(fake.sent(PAGE_A.id), 'sent message')).toMatchObject({
      recipientId: igsid,
      text: 'Hi on IG',
    });
    const messages = await call('GET', `/admin/pages/${IG.id}/conversations/${igsid}/messages`);
    expect(messages.body.messages.map((m: { text: string }) => m.text)).toEqual(['Hi on IG']);
    const listed = await call('GET', `/admin/pages/${IG.id}/conversations`);
    expect(listed.body.conversations.map((c: { userId: string }) => c.userId)).toEqual([igsid]);
  });

  it('refuses a send outside the 24-hour window, as for Messenger', async () => {
    await connect();
    await conversations.touch(IG.id, igsid, { timestamp: Date.now() - 25 * 3_600_000, inbound: true });

    const sent = await call('POST', `/admin/pages/${IG.id}/conversations/${igsid}/messages`, {
      text: 'late',
    });

    expect(sent.status).toBe(422);
    expect(fake.sent(PAGE_A.id)).toEqual([]);
  });

  it('disconnecting the page disconnects its Instagram entry; the entry alone is only cut off here', async () => {
    await connect();
    const alone = await call('DELETE', `/admin/pages/${IG.id}`);
    expect(alone.status).toBe(200);
    expect((await pages.get(IG.id))?.status).toBe('disconnected');
    expect((await pages.get(PAGE_A.id))?.status).toBe('active');
    expect(fake.subscriptions(PAGE_A.id)).toBeDefined();
    expect(callsNaming(IG.id)).toEqual([]);

    await connect();
    expect((await pages.get(IG.id))?.status).toBe('active');
    await call('DELETE', `/admin/pages/${PAGE_A.id}`);
    expect((await pages.get(PAGE_A.id))?.status).toBe('disconnected');
    expect((await pages.get(IG.id))?.status).toBe('disconnected');
    expect((await pages.get(PAGE_B.id))?.status).toBe('active');
  });

  it('a disconnect that stopped after its page and before its entry finishes on the next try', async () => {
    await connect();
    // The run stopped between the two writes: the page is disconnected, its entry still active.
    await pages.put({ ...present(await pages.get(PAGE_A.id), 'page A'), status: 'disconnected' });
    expect((await pages.get(IG.id))?.status).toBe('active');
    expect((await call('DELETE', `/admin/pages/${PAGE_A.id}`)).status).toBe(200);
    expect((await pages.get(IG.id))?.status).toBe('disconnected');
  });
});
