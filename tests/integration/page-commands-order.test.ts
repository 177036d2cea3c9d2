/**
 * Page state under concurrent changes: commands of one page run in the order given, and a change
 * decided on one token never lands on a page that was disconnected or reconnected meanwhile.
 */

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalFifoQueue } from '#adapters/local/fifo-queue';
import { LocalKeyring } from '#adapters/local/keyring';
import { createAdminApi } from '#admin-api/routes';
import { adminDeps } from '#app/admin';
import { loadConfig } from '#app/config';
import { graphFactory } from '#app/graph';
import { pageOpsDeps } from '#app/page-ops';
import { ContactRepository } from '#contacts/contact-repository';
import { pageCommand, pageCommandMessage } from '#contracts/page-command';
import { ConversationRepository } from '#conversations/conversation-repository';
import type { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import { lambdaContext } from '#local/lambda-context';
import { runBulkAction } from '#pages/bulk';
import { createPageCommandsProcessor } from '#pages/command-consumer';
import { connectPages } from '#pages/connect';
import { disconnected } from '#pages/page';
import { PageAccess } from '#pages/page-access';
import type { PageRepository } from '#pages/page-repository';
import { PageOperations } from '#pages/subscriptions';
import { NO_DEADLINE } from '#runtime/deadline';
import { lambda } from '#runtime/lambda';
import { startTestTable, type TestTable } from '#testkit/dynamo';
import { GraphFake } from '#testkit/graph-faults';
import { httpEvent } from '#testkit/http-events';
import { sqsEvent, sqsRecord } from '#testkit/processor-harness';

const APP_ID = '800000000000001';
const APP_SECRET = 'order-test-app-secret';
const PAGE = { id: '810000000000001', name: 'Ordered Page' };
const keyring = LocalKeyring.ephemeral();
const credentials = new EnvCredentials({ FB_APP_ID: APP_ID, FB_APP_SECRET: APP_SECRET });

let db: TestTable;
let fake: GraphFake;
let userToken: string;
const queues: LocalFifoQueue[] = [];

beforeAll(async () => {
  db = await startTestTable();
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  await fake.start();
  userToken = fake.addUser({ pages: [PAGE] }).shortLivedToken;
});

afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop();
});

afterAll(async () => {
  await fake?.stop();
  await db?.stop();
});

/** The page stored `active` with this page token sealed, and page operations wired to the Graph fake. */
async function seedActivePage(token: string) {
  const config = loadConfig({ TABLE_NAME: db.tableName, GRAPH_API_URL: fake.url });
  const deps = pageOpsDeps(config, { table: db.doc, sealer: keyring, credentials });
  const now = new Date().toISOString();
  await deps.pages.put({
    pageId: PAGE.id,
    name: PAGE.name,
    status: 'active',
    sealedToken: await keyring.seal(PAGE.id, token),
    subscribedFields: [],
    connectedAt: now,
    updatedAt: now,
  });
  return deps;
}

/** The admin API with a page-commands queue whose consumer the test starts and stops. */
function world(commandWaitMs: number) {
  const config = loadConfig({
    TABLE_NAME: db.tableName,
    GRAPH_API_URL: fake.url,
    COMMAND_WAIT_MS: String(commandWaitMs),
  });
  const ops = pageOpsDeps(config, { table: db.doc, sealer: keyring, credentials });
  const consumer = createPageCommandsProcessor({ pages: ops.pages, operations: ops.bulk.operations });
  const commands = new LocalFifoQueue({
    name: 'page-commands.fifo',
    handler: (event) => consumer(event, lambdaContext('page-commands'), NO_DEADLINE),
  });
  queues.push(commands);
  const api = createAdminApi(adminDeps(config, db.doc, keyring, credentials, commands));
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await api(
      httpEvent(method, path, { body: body === undefined ? undefined : JSON.stringify(body) }),
    );
    return { status: res.statusCode, body: JSON.parse(res.body ?? 'null') };
  };
  return { commands, call, pages: ops.pages };
}

describe('page commands run in the order they were given', () => {
  it('a disconnect queued before a connect: the page ends connected, with the new token', async () => {
    const w = world(5_000);
    w.commands.start();
    expect(
      (await w.call('POST', '/admin/pages/connect', { userAccessToken: userToken })).body.pages[0].status,
    ).toBe('active');
    await w.commands.stop();

    const quick = world(50); // answers 202 while the consumer is stopped
    expect((await quick.call('DELETE', `/admin/pages/${PAGE.id}`)).status).toBe(202);
    fake.revokePageToken(PAGE.id); // the user reconnects with a fresh page token
    const connect = await quick.call('POST', '/admin/pages/connect', { userAccessToken: userToken });
    expect(connect.body.pages[0].status).toBe('subscribing');
    quick.commands.start();
    await quick.commands.idle();

    const page = await w.pages.get(PAGE.id);
    expect(page).toMatchObject({ status: 'active' });
    expect(page?.pendingSealedToken).toBeUndefined();
    expect(await keyring.unseal(PAGE.id, page?.sealedToken as string)).toBe(fake.pageToken(PAGE.id));
    expect(fake.subscriptions(PAGE.id)?.appId).toBe(APP_ID);
  });

  it('a connect queued before a disconnect: the page ends disconnected and unsubscribed', async () => {
    const w = world(50);
    expect(
      (await w.call('POST', '/admin/pages/connect', { userAccessToken: userToken })).body.pages[0].status,
    ).toBe('subscribing');
    expect((await w.call('DELETE', `/admin/pages/${PAGE.id}`)).status).toBe(202);
    w.commands.start();
    await w.commands.idle();
    const page = await w.pages.get(PAGE.id);
    expect(page).toMatchObject({ status: 'disconnected' });
    expect(page?.sealedToken).toBeUndefined();
    expect(fake.subscriptions(PAGE.id)).toBeUndefined();
  });
});

describe('a decision made on one token does not land on a changed page', () => {
  it('a 190 seen with the old token does not mark a reconnected page reauth_required', async () => {
    const oldSealed = await keyring.seal(PAGE.id, 'EAAold');
    const pages = (await seedActivePage('EAAnew')).pages;
    const access = new PageAccess(pages, keyring, 0);
    const stale = { ...(await pages.get(PAGE.id)), sealedToken: oldSealed } as NonNullable<
      Awaited<ReturnType<typeof pages.get>>
    >;
    await access.markReauthRequired(
      stale,
      new GraphError('GET /{psid}', 400, 'session invalidated', 190, 460),
    );
    expect((await pages.get(PAGE.id))?.status).toBe('active');
  });

  it('a resubscribe that races a disconnect does not bring the page back to active', async () => {
    const pages = (await seedActivePage('EAAtoken')).pages;
    const access = new PageAccess(pages, keyring, 0);
    // Meta answers the subscribe only after the page was disconnected.
    const unsubscribed: string[] = [];
    const graph = {
      subscribeApp: async () => {
        const now = await pages.get(PAGE.id);
        if (now) await pages.apply(PAGE.id, disconnected(now));
      },
      unsubscribeApp: async (pageId: string) => void unsubscribed.push(pageId),
    } as unknown as GraphClient;
    const outcome = await new PageOperations({ pages, access, graph, appId: APP_ID }).subscribe(
      PAGE.id,
      NO_DEADLINE,
    );
    expect(outcome).toEqual({ pageId: PAGE.id, result: 'skipped', reason: 'superseded' });
    expect(await pages.get(PAGE.id)).toMatchObject({ status: 'disconnected' });
    expect(unsubscribed).toEqual([PAGE.id]); // and Meta's side is undone
  });

  it('a connect command redelivered after promoting its token still subscribes the page', async () => {
    const pages = (await seedActivePage('EAAtoken')).pages;
    const promoted = await pages.get(PAGE.id);
    if (promoted) await pages.put({ ...promoted, status: 'subscribing' });
    const access = new PageAccess(pages, keyring, 0);
    const subscribed: string[] = [];
    const graph = {
      subscribeApp: async (pageId: string) => void subscribed.push(pageId),
    } as unknown as GraphClient;
    const outcome = await new PageOperations({ pages, access, graph, appId: APP_ID }).connect(
      PAGE.id,
      NO_DEADLINE,
    );
    expect(outcome).toEqual({ pageId: PAGE.id, result: 'done', status: 'active' });
    expect(subscribed).toEqual([PAGE.id]);
  });
});

describe('reads before the Graph call', () => {
  it('a connect command reads the page once, then subscribes the page it stored', async () => {
    const deps = await seedActivePage('EAAold');
    const pending = await keyring.seal(PAGE.id, 'EAAnew');
    const stored = await deps.pages.get(PAGE.id);
    if (!stored) throw new Error('the page was not seeded');
    await deps.pages.put({ ...stored, pendingSealedToken: pending });
    const sent = vi.spyOn(db.doc, 'send');
    const getsBeforeGraph: number[] = [];
    const tokens: string[] = [];
    const graph = {
      subscribeApp: async (_pageId: string, token: string) => {
        getsBeforeGraph.push(sent.mock.calls.filter(([c]) => c instanceof GetCommand).length);
        tokens.push(token);
      },
    } as unknown as GraphClient;
    const access = new PageAccess(deps.pages, keyring, 0);
    try {
      const ops = new PageOperations({ pages: deps.pages, access, graph, appId: APP_ID });
      expect(await ops.connect(PAGE.id, NO_DEADLINE)).toMatchObject({ result: 'done', status: 'active' });
    } finally {
      sent.mockRestore();
    }
    expect(getsBeforeGraph).toEqual([1]); // GetItem calls before subscribe
    expect(tokens).toEqual(['EAAnew']); // the promoted token, as stored
  });
});

describe('two connects of a new page at once', () => {
  it('the one that finds the page created meanwhile does not overwrite it', async () => {
    const deps = await seedActivePage('EAAfirst');
    const before = await deps.pages.get(PAGE.id);
    // This connect read the page before a concurrent connect created it: its read says "no page".
    let reads = 0;
    const pages = Object.assign(Object.create(deps.pages) as PageRepository, {
      get: async (pageId: string) => (reads++ === 0 ? undefined : deps.pages.get(pageId)),
    });
    const config = loadConfig({ TABLE_NAME: db.tableName, GRAPH_API_URL: fake.url });
    const graph = (await graphFactory(config, credentials)()) as GraphClient;
    const queued: string[] = [];
    const runCommand = async (type: string) => void queued.push(type);
    const [answer] = await connectPages({ pages, sealer: keyring, graph, runCommand }, userToken, [PAGE.id]);

    expect(answer).toMatchObject({ pageId: PAGE.id, status: 'subscribing' });
    expect(queued).toEqual(['connect']);
    const after = await deps.pages.get(PAGE.id);
    // The page keeps what the first connect made of it; the new token waits for its connect command.
    expect(after).toMatchObject({ status: 'active', sealedToken: before?.sealedToken });
    expect(await keyring.unseal(PAGE.id, after?.pendingSealedToken as string)).toBe(fake.pageToken(PAGE.id));
  });
});

describe('the health check', () => {
  it('fetches the profiles that waited on an outage, not only when the contact writes again', async () => {
    const deps = await seedActivePage(fake.pageToken(PAGE.id));
    const grace = fake.psid(fake.addPerson('Grace', 'Hopper'), PAGE.id);
    const conversations = new ConversationRepository(db.doc, db.tableName);
    const contacts = new ContactRepository(db.doc, db.tableName);
    await conversations.touch(PAGE.id, grace, { timestamp: Date.now(), inbound: true });
    await contacts.put({
      pageId: PAGE.id,
      userId: grace,
      profileStatus: 'pending',
      updatedAt: new Date().toISOString(),
    });

    await (await deps.bulk.operations()).subscribe(PAGE.id, NO_DEADLINE); // subscribed at Meta, nothing to repair
    expect((await contacts.get(PAGE.id, grace))?.profileStatus).toBe('pending');

    await runBulkAction(deps.bulk, 'check');

    expect((await contacts.get(PAGE.id, grace))?.profileStatus).toBe('fetched');
    expect((await conversations.get(PAGE.id, grace))?.name).toBe('Grace Hopper');
  });
});

describe('resubscribe-all from a stale listing', () => {
  it('a page disconnected after the listing is not left subscribed at Meta', async () => {
    const deps = await seedActivePage(fake.pageToken(PAGE.id));
    const stale = await deps.pages.get(PAGE.id);
    const ops = await deps.bulk.operations();
    await ops.disconnect(PAGE.id, NO_DEADLINE); // after the listing was read
    expect(fake.subscriptions(PAGE.id)).toBeUndefined();

    const outcome = await ops.subscribe(PAGE.id, NO_DEADLINE, stale);
    expect(outcome).toEqual({ pageId: PAGE.id, result: 'skipped', reason: 'superseded' });
    expect(await deps.pages.get(PAGE.id)).toMatchObject({ status: 'disconnected' });
    expect(fake.subscriptions(PAGE.id)).toBeUndefined();
  });
});

describe('the invocation deadline reaches the Graph calls', () => {
  it('a page command whose invocation has no time left calls no Graph API and is retried', async () => {
    const deps = await seedActivePage(fake.pageToken(PAGE.id));
    const consumer = lambda(
      createPageCommandsProcessor({ pages: deps.pages, operations: deps.bulk.operations }),
    );
    const before = fake.calls.length;
    // 2.1 s left less the 2 s safety margin: too little for any Graph attempt.
    const context = { ...lambdaContext('page-commands'), getRemainingTimeInMillis: () => 2_100 };
    const message = pageCommandMessage(pageCommand('check-and-repair', PAGE.id));
    // Its only record failed (the check is retried later): the whole batch goes back to the queue.
    await expect(consumer(sqsEvent([sqsRecord(message)]), context)).rejects.toThrow(/All records failed/);
    expect(fake.calls.length).toBe(before);
    expect(await deps.pages.get(PAGE.id)).toMatchObject({ status: 'active' });
  });
});
