/**
 * The doctor at scale (SPEC §9): 10,000 connected pages, the Graph API fake (its own process) answering
 * every call after 50 ms, dynalite in its own process, the doctor as the scheduled health check runs it
 * (repair on, tokens introspected about once a day). Two runs: the first introspects every token (two
 * Graph calls a page: the subscription and `/debug_token`), the next hour's only checks subscriptions.
 * Reference: the floor `Graph calls × latency ÷ concurrency`. Also: Graph calls per page per day under
 * the spreading rule (24 hourly runs), against introspecting every run.
 *
 * Alone: `npx tsx bench/doctor.ts [pages]` prints the result as JSON.
 */
import './env.js';
import { fileURLToPath } from 'node:url';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { DEFAULT_SUBSCRIBED_FIELDS, loadConfig } from '#app/config';
import { graphFactory } from '#app/graph';
import { pageOpsDeps } from '#app/page-ops';
import { TOKEN_CHECK_EVERY_MS } from '#contracts/doctor';
import { runDoctor } from '#doctor/doctor';
import { PageRepository } from '#pages/page-repository';
import { createOps } from '#pages/run-ops';
import { NO_DEADLINE } from '#runtime/deadline';
import { startDynaliteProcess } from '#testkit/chaos-dynalite';
import { GraphFake } from '#testkit/graph-faults';
import { memoryPublisher } from '#testkit/memory-publisher';
import { seedPages } from '#testkit/seed';
import { startFakeProcess } from './fake-process.js';
import { ratio, round } from './stats.js';

const APP_ID = '700000000000011';
const APP_SECRET = 'bench-doctor-app-secret';
const SEED = 'bench-doctor-seed';
const FIRST_PAGE = 510_000_000_000_000n;
const LATENCY_MS = 50;
const CONCURRENCY = 64;
const WEBHOOK_URL = 'https://pagewire.example.com/webhooks/facebook';
const HOUR_MS = 3_600_000;

export interface DoctorRunRow {
  run: 'first (every token)' | 'next hour (spread)';
  pages: number;
  concurrency: number;
  graphCalls: number;
  graphCallsPerPage: number;
  wallSeconds: number;
  /** Graph calls × latency ÷ concurrency. */
  floorSeconds: number;
  ratio: number;
  ok: boolean;
  /** CPU time of this process per page (the doctor, the SDK, fetch); dynalite and the fake have their own. */
  cpuMsPerPage: number;
}

export interface DoctorBenchResult {
  rows: DoctorRunRow[];
  /** Graph calls per page per day: 24 hourly runs, a token introspected once a day. */
  graphCallsPerPagePerDay: number;
  /** The same without spreading: every run introspects every token. */
  graphCallsPerPagePerDayUnspread: number;
  seedSeconds: number;
}

export async function doctorBench(pages = 10_000): Promise<DoctorBenchResult> {
  const dynamo = await startDynaliteProcess();
  const graph = await startGraphFakeProcess(pages);
  // Never started: it only knows the tokens the fake process hands out (same seed).
  const fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET, seed: SEED });
  const ids = Array.from({ length: pages }, (_, i) => String(FIRST_PAGE + BigInt(i)));
  fake.addUser({ pages: ids.map((id, i) => ({ id, name: `Page ${i}` })) });
  // Count the Graph calls the doctor makes (the client takes the global fetch when it is made).
  let graphCalls = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    graphCalls++;
    return realFetch(input, init);
  };
  try {
    const tableName = await dynamo.createTable();
    const keyring = LocalKeyring.ephemeral();
    const seedStart = performance.now();
    await seedPages(
      new PageRepository(dynamo.doc, tableName),
      keyring,
      ids.map((id) => ({ pageId: id, token: fake.pageToken(id) })),
      { concurrency: 32 },
    );
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const config = loadConfig({
      TABLE_NAME: tableName,
      GRAPH_API_URL: graph.url,
      GRAPH_API_VERSION: 'v24.0',
      PAGE_OPS_CONCURRENCY: String(CONCURRENCY),
      WEBHOOK_URL,
    });
    const credentials = new EnvCredentials({
      FB_APP_ID: APP_ID,
      FB_APP_SECRET: APP_SECRET,
      FB_VERIFY_TOKEN: 'v',
    });
    const ops = pageOpsDeps(config, {
      table: dynamo.doc,
      sealer: keyring,
      credentials,
      publisher: memoryPublisher(),
    });
    const client = await graphFactory(config, credentials)();
    if (!client) throw new Error('no Graph client');
    const operations = await ops.bulk.operations();
    // Every page subscribed at Meta first (not timed): the runs measured are of a healthy fleet.
    const subscribed = await createOps(ops.bulk)({ action: 'resubscribe-all' }, undefined, NO_DEADLINE);
    if (subscribed.succeeded !== pages) throw new Error('doctor bench: the warm-up subscribe failed');
    const t0 = Date.now();

    const once = async (run: DoctorRunRow['run'], now: number): Promise<DoctorRunRow> => {
      graphCalls = 0;
      const cpu = process.cpuUsage();
      const start = performance.now();
      const report = await runDoctor(
        {
          graph: client,
          pages: ops.pages,
          access: ops.access,
          operations,
          verifyToken: 'v',
          webhookUrl: WEBHOOK_URL,
          concurrency: CONCURRENCY,
          tokenCheckEveryMs: TOKEN_CHECK_EVERY_MS,
          now: () => now,
        },
        { repair: true },
      );
      const wallSeconds = (performance.now() - start) / 1000;
      const used = process.cpuUsage(cpu);
      if (!report.ok || report.pages.length !== pages)
        throw new Error(`doctor bench: the run was not healthy (${report.pages.length} pages)`);
      const floorSeconds = (graphCalls * LATENCY_MS) / CONCURRENCY / 1000;
      return {
        run,
        pages,
        concurrency: CONCURRENCY,
        graphCalls,
        graphCallsPerPage: round(graphCalls / pages, 3),
        wallSeconds: round(wallSeconds, 2),
        floorSeconds: round(floorSeconds, 2),
        ratio: ratio(wallSeconds, floorSeconds),
        ok: wallSeconds / floorSeconds <= 2,
        cpuMsPerPage: round((used.user + used.system) / 1000 / pages, 2),
      };
    };
    const first = await once('first (every token)', t0);
    const next = await once('next hour (spread)', t0 + HOUR_MS);
    // A day: one run that introspects (the first, as each page's turn comes) and 23 that do not.
    const perDay = first.graphCalls / pages + (23 * next.graphCalls) / pages;
    return {
      rows: [first, next],
      graphCallsPerPagePerDay: round(perDay, 2),
      graphCallsPerPagePerDayUnspread: round((24 * first.graphCalls) / pages, 2),
      seedSeconds: round(seedSeconds, 1),
    };
  } finally {
    globalThis.fetch = realFetch;
    graph.stop();
    await dynamo.stop();
  }
}

function startGraphFakeProcess(pages: number): Promise<{ url: string; stop(): void }> {
  const env = { FAKE_APP_ID: APP_ID, FAKE_APP_SECRET: APP_SECRET, FAKE_SEED: SEED };
  return startFakeProcess(
    'testkit/graph-fake-server.ts',
    {
      ...env,
      FAKE_LATENCY_MS: String(LATENCY_MS),
      FAKE_PAGES: String(pages),
      FAKE_FIRST_PAGE: String(FIRST_PAGE),
      FAKE_APP_WEBHOOK_URL: WEBHOOK_URL,
      FAKE_APP_WEBHOOK_FIELDS: DEFAULT_SUBSCRIBED_FIELDS.join(','),
    },
    'graph fake',
  );
}

// `npx tsx bench/doctor.ts [pages]`: run alone, print the result.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await doctorBench(Number(process.argv[2] ?? 10_000));
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
