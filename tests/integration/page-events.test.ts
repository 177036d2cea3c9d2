/**
 * Page status changes as public events (SPEC §8): every stored change of a page's status becomes one
 * `page.status_changed`, stored in the page's outbox by the same write and published after it; a failed
 * publish stays in the outbox until the next write of the page or the sweep of a bulk run publishes
 * it, with the same id. dynalite, the Graph emulator and a memory publisher.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { createAdminApi } from '#admin-api/routes';
import { adminDeps } from '#app/admin';
import { loadConfig } from '#app/config';
import { pageOpsDeps } from '#app/page-ops';
import { pageCommand, pageCommandMessage } from '#contracts/page-command';
import { type PublicEvent, PublicEvent as PublicEventSchema } from '#contracts/public-event';
import { GraphError } from '#graph/graph-error';
import { lambdaContext } from '#local/lambda-context';
import { createPageCommandsProcessor } from '#pages/command-consumer';
import { OUTBOX_PREFIX } from '#pages/page-repository';
import { markReauthRequired } from '#pages/reauth';
import { createOps } from '#pages/run-ops';
import { NO_DEADLINE } from '#runtime/deadline';
import { pageKey } from '#store/table';
import { startTestTable, type TestTable } from '#testkit/dynamo';
import { GraphFake } from '#testkit/graph-faults';
import { httpEvent } from '#testkit/http-events';
import { type MemoryPublisher, memoryPublisher } from '#testkit/memory-publisher';
import { sqsEvent, sqsRecord } from '#testkit/processor-harness';

const APP_ID = '820000000000001';
const APP_SECRET = 'page-events-app-secret';
const keyring = LocalKeyring.ephemeral();
const credentials = new EnvCredentials({ FB_APP_ID: APP_ID, FB_APP_SECRET: APP_SECRET });

let db: TestTable;
let fake: GraphFake;
let publisher: MemoryPublisher;
let nextPage = 1;

beforeAll(async () => {
  db = await startTestTable();
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  await fake.start();
});

afterAll(async () => {
  await fake.stop();
  await db?.stop();
});

beforeEach(() => {
  publisher = memoryPublisher();
});

const config = () => loadConfig({ TABLE_NAME: db.tableName, GRAPH_API_URL: fake.url });

/** A page of its own for each test (the health check runs over every page of the table). */
function newPage() {
  const page = { id: String(821000000000000 + nextPage++), name: `Page ${nextPage}` };
  const { shortLivedToken } = fake.addUser({ pages: [page] });
  return { ...page, userToken: shortLivedToken };
}

/** The admin API, page commands run inline, page events to `publisher`. */
function admin() {
  const api = createAdminApi(
    adminDeps(config(), db.doc, keyring, credentials, undefined, undefined, publisher),
  );
  return async (method: string, path: string, body?: unknown) => {
    const res = await api(
      httpEvent(method, path, { body: body === undefined ? undefined : JSON.stringify(body) }),
    );
    return { status: res.statusCode, body: JSON.parse(res.body ?? 'null') };
  };
}

const ops = () =>
  createOps(pageOpsDeps(config(), { table: db.doc, sealer: keyring, credentials, publisher }).bulk);

async function connect(page: { id: string; userToken: string }) {
  const res = await admin()('POST', '/admin/pages/connect', {
    userAccessToken: page.userToken,
    pageIds: [page.id],
  });
  expect(res.status).toBe(200);
  return res.body.pages[0];
}

/** The page's events as a consumer sees them: what changed, in order. */
const changesOf = (pageId: string, events: readonly PublicEvent[] = publisher.events) =>
  events.filter((e) => e.pageId === pageId).map((e) => ({ type: e.type, ...e.data }));

/** The outbox attributes of the stored page item (events not yet published). */
async function outbox(pageId: string): Promise<PublicEvent[]> {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.tableName, Key: pageKey(pageId), ConsistentRead: true }),
  );
  return Object.entries(Item ?? {})
    .filter(([name]) => name.startsWith(OUTBOX_PREFIX))
    .map(([name, json]) => {
      const event = PublicEventSchema.parse(JSON.parse(String(json)));
      expect(name).toBe(`${OUTBOX_PREFIX}${event.id}`);
      return event;
    });
}

describe('page.status_changed', () => {
  it('a connect publishes none → subscribing and subscribing → active, page events without userId or seq', async () => {
    const page = newPage();
    expect((await connect(page)).status).toBe('active');
    expect(changesOf(page.id)).toEqual([
      { type: 'page.status_changed', from: 'none', to: 'subscribing' },
      { type: 'page.status_changed', from: 'subscribing', to: 'active' },
    ]);
    for (const event of publisher.events) {
      expect(PublicEventSchema.parse(event)).toEqual(event);
      expect(event).toMatchObject({ version: 1, channel: 'messenger', pageId: page.id });
      expect(event).not.toHaveProperty('userId');
      expect(event).not.toHaveProperty('seq');
    }
    expect(new Set(publisher.events.map((e) => e.id)).size).toBe(2);
    expect(await outbox(page.id)).toEqual([]);
  });

  it('a refused token (190) found by the health check: active → reauth_required with Meta’s message', async () => {
    const page = newPage();
    await connect(page);
    const token = fake.pageToken(page.id);
    publisher.clear();
    fake.revokePageToken(page.id);
    await ops()({ action: 'check' }, undefined, NO_DEADLINE);
    const stored = await pageOpsDeps(config(), { table: db.doc, sealer: keyring, credentials }).pages.get(
      page.id,
    );
    expect(stored?.status).toBe('reauth_required');
    const reason = stored?.lastError;
    expect(reason).toMatch(/./);
    expect(changesOf(page.id)).toEqual([
      { type: 'page.status_changed', from: 'active', to: 'reauth_required', reason },
    ]);
    expect(JSON.stringify(publisher.events)).not.toContain(token);
  });

  it('a disconnect publishes active → disconnected', async () => {
    const page = newPage();
    await connect(page);
    publisher.clear();
    expect((await admin()('DELETE', `/admin/pages/${page.id}`)).status).toBe(200);
    expect(changesOf(page.id)).toEqual([{ type: 'page.status_changed', from: 'active', to: 'disconnected' }]);
  });

  it('a check that finds nothing changed publishes nothing; one that finds the subscription gone does', async () => {
    const page = newPage();
    await connect(page);
    publisher.clear();
    await ops()({ action: 'check' }, undefined, NO_DEADLINE);
    expect(changesOf(page.id)).toEqual([]);
    fake.unsubscribeSilently(page.id);
    await ops()({ action: 'check' }, undefined, NO_DEADLINE);
    expect(changesOf(page.id)).toEqual([
      {
        type: 'page.status_changed',
        from: 'active',
        to: 'subscription_failed',
        reason: 'the app is not subscribed to this page',
      },
    ]);
  });
});

describe('page.status_changed from a cached page', () => {
  it('a reauth decided on a copy whose status is behind is stored, and says the status it really left', async () => {
    const page = newPage();
    await connect(page);
    const { pages } = pageOpsDeps(config(), { table: db.doc, sealer: keyring, credentials, publisher });
    const stored = await pages.get(page.id);
    if (!stored) throw new Error('the page was not stored');
    publisher.clear();
    // The processor cached the page while it was still subscribing; Meta now refuses its token.
    const cached = { ...stored, status: 'subscribing' as const };
    const error = new GraphError({
      operation: 'POST /{page-id}/messages',
      status: 400,
      code: 190,
      message: 'Error validating access token',
    });
    expect(await markReauthRequired(pages, cached, error)).toBe(true);
    expect((await pages.get(page.id))?.status).toBe('reauth_required');
    expect(changesOf(page.id)).toEqual([
      {
        type: 'page.status_changed',
        from: 'active',
        to: 'reauth_required',
        reason: 'Error validating access token',
      },
    ]);
  });
});

describe('the page outbox', () => {
  it('a failed publish leaves the event in the outbox; the sweep of the health check publishes it, same id', async () => {
    const page = newPage();
    publisher.failWhen((e) => e.pageId === page.id && e.data.to === 'active');
    expect((await connect(page)).status).toBe('active'); // the change is stored all the same
    const [waiting, ...more] = await outbox(page.id);
    expect(more).toEqual([]);
    expect(waiting?.data).toEqual({ from: 'subscribing', to: 'active' });
    expect(publisher.events.map((e) => e.id)).not.toContain(waiting?.id);
    // The disconnect's write publishes the outbox, but its own event fails: the health check skips
    // disconnected pages, so only its sweep can publish what waits.
    publisher.failWhen((e) => e.pageId === page.id && e.data.to === 'disconnected');
    expect((await admin()('DELETE', `/admin/pages/${page.id}`)).status).toBe(200);
    // The publisher took the first event, not the second: both stay (at least once; consumers dedupe).
    const waitingNow = await outbox(page.id);
    expect(waitingNow.map((e) => e.data)).toEqual([
      { from: 'subscribing', to: 'active' },
      { from: 'active', to: 'disconnected' },
    ]);
    const left = waitingNow[1];

    publisher.failWhen(undefined);
    await ops()({ action: 'check-and-repair' }, undefined, NO_DEADLINE);
    expect(publisher.events.filter((e) => e.id === left?.id)).toEqual([left]);
    expect(
      publisher
        .distinct()
        .filter((e) => e.pageId === page.id)
        .map((e) => e.data.to),
    ).toEqual(['subscribing', 'active', 'disconnected']);
    expect(await outbox(page.id)).toEqual([]);
  });

  it('a failed publish is published by the next write of the page, same id', async () => {
    const page = newPage();
    await connect(page);
    publisher.clear();
    publisher.failNext(1);
    expect((await admin()('DELETE', `/admin/pages/${page.id}`)).status).toBe(200);
    const [waiting] = await outbox(page.id);
    expect(waiting?.data).toEqual({ from: 'active', to: 'disconnected' });
    expect(publisher.events).toEqual([]);

    await connect(page); // the connect's first write (no status change) publishes what waited
    expect(publisher.events[0]).toEqual(waiting);
    expect(changesOf(page.id)).toEqual([
      { type: 'page.status_changed', from: 'active', to: 'disconnected' },
      { type: 'page.status_changed', from: 'disconnected', to: 'subscribing' },
      { type: 'page.status_changed', from: 'subscribing', to: 'active' },
    ]);
    expect(await outbox(page.id)).toEqual([]);
  });

  it('a redelivered page command publishes no second event for its change', async () => {
    const page = newPage();
    await connect(page);
    fake.unsubscribeSilently(page.id);
    publisher.clear();
    const deps = pageOpsDeps(config(), { table: db.doc, sealer: keyring, credentials, publisher });
    const consumer = createPageCommandsProcessor({ pages: deps.pages, operations: deps.bulk.operations });
    const record = sqsRecord(pageCommandMessage(pageCommand('check-and-repair', page.id)));
    for (const receiveCount of [1, 2]) {
      const res = await consumer(
        sqsEvent([
          { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: String(receiveCount) } },
        ]),
        lambdaContext('page-commands'),
        NO_DEADLINE,
      );
      expect(res.batchItemFailures).toEqual([]);
    }
    // check-and-repair found it missing and subscribed it again: the page stayed active, no event;
    // a disconnect redelivered: one event, once.
    const disconnect = sqsRecord(pageCommandMessage(pageCommand('disconnect', page.id)));
    await consumer(sqsEvent([disconnect]), lambdaContext('page-commands'), NO_DEADLINE);
    await consumer(sqsEvent([disconnect]), lambdaContext('page-commands'), NO_DEADLINE);
    expect(changesOf(page.id)).toEqual([{ type: 'page.status_changed', from: 'active', to: 'disconnected' }]);
  });
});
