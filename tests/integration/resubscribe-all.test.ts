/**
 * Resubscribe-all at scale: 2,000 pages against the Graph API fake, run by the ops function in one
 * go with bounded concurrency, and fanned out as page commands beyond the configured threshold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalFifoQueue } from '#adapters/local/fifo-queue';
import { LocalKeyring } from '#adapters/local/keyring';
import { loadConfig } from '#app/config';
import { pageOpsDeps } from '#app/page-ops';
import { lambdaContext } from '#local/lambda-context';
import { createPageCommandsProcessor } from '#pages/command-consumer';
import { createOps } from '#pages/run-ops';
import { NO_DEADLINE } from '#runtime/deadline';
import { startTestTable, type TestTable } from '#testkit/dynamo';
import { GraphFake } from '#testkit/graph-faults';
import { memoryPublisher } from '#testkit/memory-publisher';
import { at } from '#testkit/pick';

const APP_ID = '700000000000001';
const APP_SECRET = 'scale-test-app-secret';
const COUNT = 2_000;
const PAGES = Array.from({ length: COUNT }, (_, i) => ({
  id: String(500_000_000_000_000 + i),
  name: `Page ${i}`,
}));

let db: TestTable;
let fake: GraphFake;
const keyring = LocalKeyring.ephemeral();
const credentials = new EnvCredentials({ FB_APP_ID: APP_ID, FB_APP_SECRET: APP_SECRET });

function config(env: Record<string, string> = {}) {
  return loadConfig({
    TABLE_NAME: db.tableName,
    GRAPH_API_URL: fake.url,
    PAGE_OPS_CONCURRENCY: '16',
    ...env,
  });
}

beforeAll(async () => {
  db = await startTestTable();
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  await fake.start();
  fake.addUser({ pages: PAGES });
  const { pages } = pageOpsDeps(config(), {
    table: db.doc,
    sealer: keyring,
    credentials,
    publisher: memoryPublisher(),
  });
  const now = new Date().toISOString();
  for (let i = 0; i < COUNT; i += 100) {
    await Promise.all(
      PAGES.slice(i, i + 100).map(async (p) =>
        pages.put({
          pageId: p.id,
          name: p.name,
          status: 'active',
          sealedToken: await keyring.seal(p.id, fake.pageToken(p.id)),
          subscribedFields: [],
          connectedAt: now,
          updatedAt: now,
        }),
      ),
    );
  }
}, 120_000);

afterAll(async () => {
  await fake?.stop();
  await db?.stop();
});

describe('resubscribe-all over 2,000 pages', () => {
  it('subscribes every page by its own id, isolating the one whose token is revoked', async () => {
    const revoked = at(PAGES, 777, 'PAGES').id;
    fake.revokePageToken(revoked);
    const ops = createOps(
      pageOpsDeps(config(), { table: db.doc, sealer: keyring, credentials, publisher: memoryPublisher() })
        .bulk,
    );
    const started = performance.now();
    const report = await ops({ action: 'resubscribe-all' }, undefined, NO_DEADLINE);
    const seconds = (performance.now() - started) / 1000;
    console.info(`resubscribe-all: ${COUNT} pages in ${seconds.toFixed(1)} s at concurrency 16`);

    expect(report).toMatchObject({ total: COUNT, succeeded: COUNT - 1, repaired: [] });
    expect(report.failed).toEqual([
      { pageId: revoked, error: expect.stringMatching(/session has been invalidated/) },
    ]);
    const subscribed = PAGES.filter((p) => fake.subscriptions(p.id)?.appId === APP_ID).length;
    expect(subscribed).toBe(COUNT - 1);
    const wrongToken = fake.calls.filter(
      (c) => c.method === 'POST' && c.path !== `/${c.tokenPageId}/subscribed_apps`,
    );
    expect(wrongToken).toEqual([]);
  }, 120_000);

  it('fans out as page commands beyond the threshold, and the queue finishes the job', async () => {
    for (const p of PAGES.slice(0, 50)) fake.unsubscribeSilently(p.id);
    const deps = pageOpsDeps(config({ PAGE_OPS_FAN_OUT_ABOVE: '500' }), {
      table: db.doc,
      sealer: keyring,
      credentials,
      publisher: memoryPublisher(),
    });
    const consumer = createPageCommandsProcessor({ pages: deps.pages, operations: deps.bulk.operations });
    const commands = new LocalFifoQueue({
      name: 'page-commands.fifo',
      handler: (event) => consumer(event, lambdaContext('page-commands'), NO_DEADLINE),
      concurrency: 8,
    });
    commands.start();
    const report = await createOps({ ...deps.bulk, commands })(
      { action: 'check-and-repair' },
      undefined,
      NO_DEADLINE,
    );
    // The revoked page is reauth_required: still connected, so it is checked (and fails) too.
    expect(report).toMatchObject({ total: COUNT, queued: COUNT });
    await commands.idle();
    await commands.stop();
    expect(commands.stats().deadLetters).toBe(0);
    for (const p of PAGES.slice(0, 50)) expect(fake.subscriptions(p.id)?.appId).toBe(APP_ID);
    const stored = await deps.pages.list();
    const done = stored.filter((p) => p.lastCommand?.type === 'check-and-repair');
    expect(done.length).toBe(COUNT);
    expect(done.filter((p) => !p.lastCommand?.ok).map((p) => p.pageId)).toEqual([at(PAGES, 777, 'PAGES').id]);
  }, 120_000);
});
