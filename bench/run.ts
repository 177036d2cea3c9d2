/**
 * `npm run bench`: figures a reader can reproduce, each beside its reference as a ratio (absolute times
 * drift on a shared machine; ratios much less). Every benchmark runs in a process of its own
 * (bench/child.ts), with the environment it needs; this prints a table, writes bench/results.json and
 * bench/PERFORMANCE.md (bench/report.ts). It writes nothing else: README.md and docs/ are edited by hand.
 *
 * `npm run bench -- --only verifier,coldStart` runs some and keeps the other figures of results.json.
 * `npm run bench -- --markdown` also prints the summary as Markdown (for docs/performance.md).
 *
 * | benchmark       | file                | what                                                             |
 * |-----------------|---------------------|------------------------------------------------------------------|
 * | verifier        | verifier.ts         | hot path vs HMAC + JSON.parse; profile; a faster prototype       |
 * | verifierQueue   | verifier-queue.ts   | POST to 200 through SqsEventQueue, SQS fake at 10 ms per call    |
 * | coldStart       | cold-start.ts       | esbuild bundles like NodejsFunction; module init vs bare node    |
 * | cost            | cost.ts             | AWS requests and USD per million messages vs a naive design      |
 * | resubscribeAll  | resubscribe-all.ts  | 10,000 pages at 50 ms Graph latency vs pages × latency ÷ conc.   |
 * | doctor          | doctor.ts           | the doctor over 10,000 pages at 50 ms; Graph calls/page/day      |
 * | localThroughput | local-throughput.ts | `npm start`'s stack, signed POST to stored message               |
 * | chaos           | chaos.ts            | fault injection, 10,000 events: lost / twice / reordered / leaks |
 * | bodyLimit       | body-limit.ts       | `npm start`'s peak memory under 100 concurrent 10 MiB uploads    |
 * | media           | media.ts            | 200 × 5 MB attachments through the local media worker            |
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Results, renderPerformance, renderSummaryMarkdown, summaryRows } from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = new URL('./results.json', import.meta.url);
const PERFORMANCE = new URL('./PERFORMANCE.md', import.meta.url);

const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
const BENCHES: Record<string, Record<string, string>> = {
  verifier: QUIET,
  verifierQueue: QUIET,
  coldStart: QUIET,
  // As deployed (INFO, metrics on), so the log bytes CloudWatch would ingest are measured.
  cost: {
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_METRICS_NAMESPACE: 'Pagewire',
    POWERTOOLS_SERVICE_NAME: 'pagewire',
  },
  resubscribeAll: QUIET,
  doctor: QUIET,
  localThroughput: QUIET,
  // Every log line and metric line is scanned for secrets.
  chaos: {
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_METRICS_NAMESPACE: 'Pagewire',
  },
  bodyLimit: QUIET,
  media: QUIET,
};

function selected(): string[] {
  const i = process.argv.indexOf('--only');
  if (i < 0) return Object.keys(BENCHES);
  const names = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length || names.length === 0) {
    console.error(`--only takes some of: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  return names;
}

function runChild(name: string, dir: string): Promise<unknown> {
  const out = join(dir, `${name}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/child.ts', name, out], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...BENCHES[name] },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`benchmark ${name} exited with ${code}`));
      resolve(JSON.parse(readFileSync(out, 'utf8')));
    });
  });
}

const started = performance.now();
const names = selected();
let results: Results = {} as Results;
if (names.length < Object.keys(BENCHES).length) {
  try {
    results = JSON.parse(readFileSync(RESULTS, 'utf8')) as Results;
  } catch {}
}
const seconds: Record<string, number> = { ...(results.run?.benchSeconds ?? {}) };
const dir = mkdtempSync(join(tmpdir(), 'pagewire-bench-'));
try {
  for (const name of names) {
    const t = performance.now();
    process.stderr.write(`bench: ${name}…\n`);
    const result = (await runChild(name, dir)) as Record<string, unknown>;
    seconds[name] = Math.round((performance.now() - t) / 100) / 10;
    process.stderr.write(`bench: ${name} done in ${seconds[name]} s\n`);
    if (name === 'cost') {
      const { awsRequestsPerMessage, costPerMillion, ...rest } = result;
      results.awsRequestsPerMessage = awsRequestsPerMessage as Results['awsRequestsPerMessage'];
      results.costPerMillion = {
        ...(costPerMillion as object),
        ...rest,
      } as unknown as Results['costPerMillion'];
    } else {
      (results as unknown as Record<string, unknown>)[name] = result;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
results.machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
results.run = {
  at: new Date().toISOString(),
  benchSeconds: seconds,
  durationSeconds: Math.round((performance.now() - started) / 100) / 10,
  ran: names,
};

console.table(summaryRows(results));
await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
await writeFile(PERFORMANCE, renderPerformance(results));
if (process.argv.includes('--markdown')) console.log(renderSummaryMarkdown(results));
console.log(`wrote bench/results.json and bench/PERFORMANCE.md in ${results.run.durationSeconds} s`);
