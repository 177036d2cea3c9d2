/**
 * Benchmark 2, cold start: each function entry bundled with esbuild the way CDK's NodejsFunction does it
 * (bundle, minify, source map, platform node, ESM with the createRequire banner, AWS SDK inside), then
 * the module init time: a fresh `node` importing the bundle, beside a bare `node -e ''`, run one after
 * the other (medians of RUNS each). The metafile says what the bytes are.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { median, round } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FUNCTIONS = ['verifier', 'processor', 'admin', 'ops', 'page-commands'] as const;
const RUNS = 12;
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** What every deployed function finds in its environment (dummy values: nothing is called at init). */
const LAMBDA_ENV = {
  EVENTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/pagewire-events.fifo',
  PAGE_COMMANDS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/pagewire-page-commands.fifo',
  KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
  APP_SECRET_NAME: 'pagewire/facebook-app',
  TABLE_NAME: 'pagewire',
  BLOB_BUCKET: 'pagewire-blobs',
  EVENT_BUS_NAME: 'Pagewire-pagewire',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_SERVICE_NAME: 'pagewire',
  POWERTOOLS_METRICS_NAMESPACE: 'Pagewire',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export interface ColdStartRow {
  function: string;
  bundleBytes: number;
  /** Median wall time of `node` importing the bundle, minus that of `node -e ''`. */
  initMs: number;
  targetMs: number;
  /** initMs ÷ targetMs: ≤ 1 meets the target. */
  ratio: number;
  /** The same with NODE_OPTIONS=--enable-source-maps, as lib/pagewire-function.ts deploys it. */
  initWithSourceMapsMs: number;
  /** Time spent in `import()` itself, measured inside the process (no process start-up). */
  importMs: number;
  /** Output bytes by package, largest first. */
  topPackages: Array<{ name: string; bytes: number; share: number }>;
}

export interface ColdStartResult {
  bareNodeMs: number;
  runs: number;
  rows: ColdStartRow[];
  /** Init time of single packages bundled alone (what each one costs when imported). */
  packages: Array<{ name: string; bundleBytes: number; initMs: number }>;
  /** Entries of bench/prototypes/ bundled the same way: what a proposed change would give. */
  prototypes: Array<{ name: string; bundleBytes: number; initMs: number; initWithSourceMapsMs: number }>;
}

/** Entry files of proposed changes to measure beside the real ones (none pending). */
const PROTOTYPES: Record<string, string> = {};

export async function coldStartBench(): Promise<ColdStartResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pagewire-cold-'));
  try {
    const bundles: Array<{ name: string; file: string; bytes: number; meta: Metafile }> = [];
    for (const name of FUNCTIONS) {
      const file = join(dir, name, 'index.mjs');
      const meta = await bundle(join(ROOT, 'functions', name, 'handler.ts'), file);
      bundles.push({ name, file, bytes: meta.outputs[relOut(meta, file)]?.bytes ?? 0, meta });
    }
    const prototypes: typeof bundles = [];
    for (const [name, entry] of Object.entries(PROTOTYPES)) {
      const file = join(dir, 'prototypes', `${prototypes.length}.mjs`);
      const meta = await bundle(join(ROOT, entry), file);
      prototypes.push({ name, file, bytes: meta.outputs[relOut(meta, file)]?.bytes ?? 0, meta });
    }
    const probes = await packageProbes(dir);

    // Sequential, interleaved runs: drift on a shared machine hits every figure alike.
    const bare: number[] = [];
    const times = new Map<string, number[]>();
    const timesMaps = new Map<string, number[]>();
    const imports = new Map<string, number[]>();
    for (let run = 0; run < RUNS; run++) {
      bare.push(wall(['-e', '']));
      for (const b of [...bundles, ...prototypes, ...probes]) {
        const { ms, importMs } = importOnce(b.file, false);
        push(times, b.name, ms);
        push(imports, b.name, importMs);
      }
      for (const b of [...bundles, ...prototypes]) push(timesMaps, b.name, importOnce(b.file, true).ms);
    }
    const bareMs = median(bare);
    const rows = bundles.map((b): ColdStartRow => {
      const initMs = round(median(times.get(b.name) ?? []) - bareMs, 1);
      const targetMs = b.name === 'verifier' ? 60 : 150;
      return {
        function: b.name,
        bundleBytes: b.bytes,
        initMs,
        targetMs,
        ratio: round(initMs / targetMs, 2),
        initWithSourceMapsMs: round(median(timesMaps.get(b.name) ?? []) - bareMs, 1),
        importMs: round(median(imports.get(b.name) ?? []), 1),
        topPackages: packageBytes(b.meta, relOut(b.meta, b.file)).slice(0, 6),
      };
    });
    const packages = probes.map((p) => ({
      name: p.name,
      bundleBytes: p.bytes,
      initMs: round(median(times.get(p.name) ?? []) - bareMs, 1),
    }));
    const protos = prototypes.map((p) => ({
      name: p.name,
      bundleBytes: p.bytes,
      initMs: round(median(times.get(p.name) ?? []) - bareMs, 1),
      initWithSourceMapsMs: round(median(timesMaps.get(p.name) ?? []) - bareMs, 1),
    }));
    return { bareNodeMs: round(bareMs, 1), runs: RUNS, rows, packages, prototypes: protos };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** NodejsFunction's esbuild options (lib/pagewire-function.ts), with target node22 as the brief asks. */
async function bundle(entry: string, outfile: string): Promise<Metafile> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  return result.metafile;
}

/** Bundles of one package each, to see what importing it costs on its own. */
async function packageProbes(dir: string) {
  const probes: Record<string, string> = {
    'an empty module (ESM loader baseline)': 'globalThis.m = 1;',
    'SQS client': "import * as m from '@aws-sdk/client-sqs'; globalThis.m = m.SQSClient;",
    'DynamoDB + lib-dynamodb':
      "import * as a from '@aws-sdk/client-dynamodb'; import * as b from '@aws-sdk/lib-dynamodb'; globalThis.m = [a.DynamoDBClient, b.DynamoDBDocumentClient];",
    'KMS client': "import * as m from '@aws-sdk/client-kms'; globalThis.m = m.KMSClient;",
    'Powertools logger + metrics':
      "import { Logger } from '@aws-lambda-powertools/logger'; import { Metrics } from '@aws-lambda-powertools/metrics'; globalThis.m = [new Logger(), new Metrics({ namespace: 'x' })];",
    'Powertools batch': "import * as m from '@aws-lambda-powertools/batch'; globalThis.m = m;",
    'Powertools parameters (secrets)':
      "import * as m from '@aws-lambda-powertools/parameters/secrets'; globalThis.m = m;",
    zod: "import { z } from 'zod'; globalThis.m = z.object({ a: z.string() });",
    middy: "import middy from '@middy/core'; globalThis.m = middy;",
  };
  const out: Array<{ name: string; file: string; bytes: number }> = [];
  for (const [name, source] of Object.entries(probes)) {
    const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    const entry = join(ROOT, 'bench', `.probe-${slug}.mjs`);
    writeFileSync(entry, source);
    try {
      const file = join(dir, 'probes', `${slug}.mjs`);
      const meta = await bundle(entry, file);
      out.push({ name, file, bytes: meta.outputs[relOut(meta, file)]?.bytes ?? 0 });
    } finally {
      rmSync(entry, { force: true });
    }
  }
  return out;
}

function relOut(meta: Metafile, file: string): string {
  return (
    Object.keys(meta.outputs).find((k) => k.endsWith('.mjs') && file.endsWith(k.replace(/^(\.\.\/)+/, ''))) ??
    ''
  );
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  map.set(key, [...(map.get(key) ?? []), value]);
}

/** Wall time of one `node` run, in ms. */
function wall(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${run.stderr}`);
  return ms;
}

/** A fresh process that imports the bundle and exits: wall time, and the import's own time. */
function importOnce(file: string, sourceMaps: boolean): { ms: number; importMs: number } {
  const url = pathToFileURL(file).href;
  const code = `const t = performance.now(); await import(${JSON.stringify(url)}); process.stdout.write(String(performance.now() - t));`;
  const env = { ...LAMBDA_ENV, ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}) };
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`import of ${file} failed: ${run.stderr}`);
  return { ms, importMs: Number(run.stdout) };
}

/** Output bytes grouped by npm package (scoped names kept whole), or `pagewire` for our own code. */
function packageBytes(meta: Metafile, output: string): ColdStartRow['topPackages'] {
  const inputs = meta.outputs[output]?.inputs ?? {};
  const by = new Map<string, number>();
  let total = 0;
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = m?.[1] ? groupName(m[1]) : 'pagewire (functions/)';
    by.set(name, (by.get(name) ?? 0) + bytesInOutput);
    total += bytesInOutput;
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .map(([name, bytes]) => ({ name, bytes, share: round((100 * bytes) / total, 1) }));
}

/** Groups the many small packages of one family (`@smithy/*`, `@aws-sdk/core`…) under one name. */
function groupName(pkg: string): string {
  if (pkg.startsWith('@aws-sdk/client-')) return pkg;
  if (pkg === '@aws-sdk/lib-dynamodb' || pkg === '@aws-sdk/util-dynamodb') return '@aws-sdk/lib-dynamodb';
  if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg.startsWith('@aws-crypto/'))
    return 'AWS SDK core (@aws-sdk, @smithy)';
  if (pkg.startsWith('@aws-lambda-powertools/')) return pkg;
  return pkg;
}
