/**
 * The verifier's CPU per signed POST, this tree against a git ref, alternating in one process: on a
 * shared, loaded machine wall-clock figures are noise, CPU time (`process.cpuUsage()`, every thread
 * of the process) much less so, and alternating the two handlers round by round gives both the same
 * machine. `npx tsx bench/verifier-cpu.ts [--base REF] [--rounds N] [--deployed]`
 *
 * The base is `git archive REF functions package.json` unpacked under .data/ (its own package.json
 * maps its `#…` imports to its own files); the harness (bodies, events, queue, blobs) is this tree's.
 * `--deployed`: logs at INFO and metrics on, as deployed (stdout goes to /dev/null then); by default
 * quiet as `npm run bench` runs the verifier (POWERTOOLS_LOG_LEVEL=SILENT, metrics disabled).
 * Prints per-call CPU µs (median over rounds) for each side and the median of the per-round ratios.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const baseRef = option('--base') ?? 'HEAD';
const rounds = Number(option('--rounds') ?? 40);
const deployed = args.includes('--deployed');

// Before Powertools loads (both trees' observability modules read these).
if (deployed) {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'Pagewire';
  process.env.POWERTOOLS_SERVICE_NAME = 'pagewire';
} else {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
}

const { MemoryBlobStore } = await import('#adapters/local/blob-store');
const { signBody } = await import('#ingest/signature');
const { lambdaContext } = await import('#local/lambda-context');
const { httpEvent } = await import('#testkit/http-events');
const { benchBody } = await import('./verifier.js');
const { median, round } = await import('./stats.js');

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode?: number }>;
interface Side {
  createVerifier: (deps: unknown) => Handler;
  hotPathLambda: (fn: Handler) => Handler;
}

async function load(root: string): Promise<Side> {
  const url = (path: string) => pathToFileURL(join(root, path)).href;
  const ingest = await import(url('functions/ingest/verify-webhook.ts'));
  const runtime = await import(url('functions/runtime/lambda.ts'));
  return { createVerifier: ingest.createVerifier, hotPathLambda: runtime.hotPathLambda };
}

function unpackBase(ref: string): string {
  const dir = join(ROOT, '.data', 'verifier-cpu-base');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execSync(`git archive ${ref} functions package.json | tar -x -C ${dir}`, { cwd: ROOT });
  return dir;
}

const SECRET = 'bench-app-secret';
const sink: unknown[] = [];
const deps = {
  queue: { send: async (m: unknown[]) => void sink.push(...m) },
  credentials: { get: async () => ({ appId: '1', appSecret: SECRET, verifyToken: 'v' }) },
  blobs: new MemoryBlobStore(),
};
const wrap = (side: Side) => side.hotPathLambda(side.createVerifier(deps));
const base = wrap(await load(unpackBase(baseRef)));
const head = wrap(await load(ROOT));
const context = lambdaContext('bench-verifier');

/** CPU µs per call over `n` calls. */
async function cpuPerCall(handler: Handler, event: unknown, n: number, events: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    sink.length = 0;
    const res = await handler(event, context);
    if (res.statusCode !== 200 || sink.length !== events) throw new Error(`answered ${res.statusCode}`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

// Deployed mode writes EMF and log lines to stdout: keep them off the terminal, keep the report.
const report = (line: string) => process.stderr.write(`${line}\n`);
if (deployed) {
  const { createWriteStream } = await import('node:fs');
  const devNull = createWriteStream('/dev/null');
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    devNull.write(chunk as string, ...(rest as []))) as typeof process.stdout.write;
}

report(`base ${baseRef} vs this tree, ${rounds} rounds, ${deployed ? 'as deployed' : 'quiet'}`);
for (const events of [1, 10, 100]) {
  const raw = Buffer.from(benchBody(events));
  const event = httpEvent('POST', '/webhooks/facebook', {
    body: raw,
    headers: { 'x-hub-signature-256': signBody(raw, SECRET) },
  });
  const n = events === 100 ? 100 : events === 10 ? 600 : 3000;
  // Warm-up: both sides through the JIT tiers before anything counts.
  for (let i = 0; i < 3; i++) {
    await cpuPerCall(base, event, n, events);
    await cpuPerCall(head, event, n, events);
  }
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // ABBA: neither side always runs first.
    const first = r % 2 === 0;
    const x = first ? await cpuPerCall(base, event, n, events) : 0;
    const y = await cpuPerCall(head, event, n, events);
    const x2 = first ? x : await cpuPerCall(base, event, n, events);
    a.push(x2);
    b.push(y);
    ratios.push(y / x2);
  }
  const sorted = [...ratios].sort((p, q) => p - q);
  const q = (f: number) => round(sorted[Math.floor(f * (sorted.length - 1))] ?? Number.NaN, 3);
  report(
    `${String(events).padStart(3)} events: base ${round(median(a), 1)} µs, this ${round(median(b), 1)} µs, ` +
      `ratio ${round(median(ratios), 3)} (quartiles ${q(0.25)}–${q(0.75)})`,
  );
}
process.exit(0);
