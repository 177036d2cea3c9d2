/**
 * Benchmark 4, resubscribe-all at scale: 10,000 connected pages, the Graph API fake answering after 50 ms,
 * run by the ops function's code (`createOps(pageOpsDeps(...).bulk)`) with dynalite (own process) and the
 * local keyring, at PAGE_OPS_CONCURRENCY 16 and 64. Reference: the floor `pages × latency ÷ concurrency`.
 */
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { loadConfig } from '#app/config';
import { pageOpsDeps } from '#app/page-ops';
import { PageRepository } from '#pages/page-repository';
import { createOps } from '#pages/run-ops';
import { NO_DEADLINE } from '#runtime/deadline';
import { startDynaliteProcess } from '#testkit/chaos-dynalite';
import { GraphFake } from '#testkit/graph-faults';
import { memoryPublisher } from '#testkit/memory-publisher';
import { at } from '#testkit/pick';
import { seedPages } from '#testkit/seed';
import { meteredDocClient } from './aws-meter.js';
import { startFakeProcess } from './fake-process.js';
import { ratio, round } from './stats.js';

const APP_ID = '700000000000001';
const APP_SECRET = 'bench-resubscribe-app-secret';
const SEED = 'bench-resubscribe-seed';
const PAGES = 10_000;
const FIRST_PAGE = 500_000_000_000_000n;
const LATENCY_MS = 50;
/** Runs per concurrency (the median run is reported): each is a full pass over every page. */
const RUNS = 2;

export interface ResubscribeRow {
  concurrency: number;
  pages: number;
  wallSeconds: number;
  floorSeconds: number;
  ratio: number;
  targetRatio: number;
  ok: boolean;
  succeeded: number;
  /** Time to list the pages (one paged query) before the first subscribe. */
  listSeconds: number;
  /** Share of one core the process used during the run (the app; dynalite has its own process). */
  cpuShare: number;
  /** CPU time of this process per page (SDK calls, fetch, appsecret_proof, the bulk runner). */
  cpuMsPerPage: number;
  /** Runs at this concurrency; the figures are the median run's. */
  runs: number;
  wallSecondsAll: number[];
  dynamoCallsPerPage: number;
  dynamoMsPerCall: number;
}

export async function resubscribeAllBench(): Promise<{ rows: ResubscribeRow[]; seedSeconds: number }> {
  const dynamo = await startDynaliteProcess();
  // The fake answering Graph calls runs in its own process; this one (never started) knows its tokens.
  const graph = await startGraphFakeProcess();
  const fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET, seed: SEED });
  const pages = fakePages(FIRST_PAGE, PAGES);
  fake.addUser({ pages });
  const graphUrl = graph.url;
  try {
    const tableName = await dynamo.createTable();
    const keyring = LocalKeyring.ephemeral();
    const credentials = new EnvCredentials({ FB_APP_ID: APP_ID, FB_APP_SECRET: APP_SECRET });
    const seedStart = performance.now();
    await seedPages(
      new PageRepository(dynamo.doc, tableName),
      keyring,
      pages.map((p) => ({
        pageId: p.id,
        name: p.name,
        token: fake.pageToken(p.id),
        changes: { subscribedFields: [] },
      })),
      { concurrency: 32 },
    );
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const rows: ResubscribeRow[] = [];
    for (const concurrency of [16, 64]) {
      const runs: ResubscribeRow[] = [];
      for (let run = 0; run < RUNS; run++) runs.push(await once(concurrency));
      const sorted = [...runs].sort((a, b) => a.wallSeconds - b.wallSeconds);
      rows.push({
        ...at(sorted, Math.floor((sorted.length - 1) / 2), 'median run'),
        runs: RUNS,
        wallSecondsAll: runs.map((r) => r.wallSeconds),
      });
    }
    return { rows, seedSeconds: round(seedSeconds, 1) };

    async function once(concurrency: number): Promise<ResubscribeRow> {
      const { doc, meter } = meteredDocClient(dynamo.endpoint);
      const config = loadConfig({
        TABLE_NAME: tableName,
        GRAPH_API_URL: graphUrl,
        GRAPH_API_VERSION: 'v24.0',
        PAGE_OPS_CONCURRENCY: String(concurrency),
      });
      const deps = pageOpsDeps(config, {
        table: doc,
        sealer: keyring,
        credentials,
        publisher: memoryPublisher(),
      });
      const listStart = performance.now();
      await deps.pages.list();
      const listSeconds = (performance.now() - listStart) / 1000;
      const ops = createOps(deps.bulk);
      const cpu = process.cpuUsage();
      const start = performance.now();
      const report = await ops({ action: 'resubscribe-all' }, undefined, NO_DEADLINE);
      const wallSeconds = (performance.now() - start) / 1000;
      const used = process.cpuUsage(cpu);
      const floorSeconds = (PAGES * LATENCY_MS) / concurrency / 1000;
      const calls = Object.values(meter.calls).reduce((a, b) => a + b, 0);
      if (report.succeeded !== PAGES)
        throw new Error(`resubscribe-all: ${report.failed.length} pages failed`);
      return {
        concurrency,
        pages: PAGES,
        wallSeconds: round(wallSeconds, 2),
        floorSeconds: round(floorSeconds, 2),
        ratio: ratio(wallSeconds, floorSeconds),
        targetRatio: 1.25,
        ok: wallSeconds / floorSeconds <= 1.25,
        succeeded: report.succeeded,
        listSeconds: round(listSeconds, 2),
        cpuShare: round((used.user + used.system) / 1000 / (wallSeconds * 1000), 2),
        cpuMsPerPage: round((used.user + used.system) / 1000 / PAGES, 2),
        runs: 1,
        wallSecondsAll: [],
        dynamoCallsPerPage: round(calls / PAGES, 2),
        dynamoMsPerCall: round(meter.localMs / calls, 2),
      };
    }
  } finally {
    graph.stop();
    await dynamo.stop();
  }
}

function fakePages(firstId: bigint, n: number) {
  return Array.from({ length: n }, (_, i) => ({ id: String(firstId + BigInt(i)), name: `Page ${i}` }));
}

function startGraphFakeProcess(): Promise<{ url: string; stop(): void }> {
  const env = { FAKE_APP_ID: APP_ID, FAKE_APP_SECRET: APP_SECRET, FAKE_SEED: SEED };
  return startFakeProcess(
    'testkit/graph-fake-server.ts',
    {
      ...env,
      FAKE_LATENCY_MS: String(LATENCY_MS),
      FAKE_PAGES: String(PAGES),
      FAKE_FIRST_PAGE: String(FIRST_PAGE),
    },
    'graph fake',
  );
}
