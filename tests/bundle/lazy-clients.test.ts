/**
 * Cold start: the S3 client (claim checks, item parts, blob reads) and ioredis (only with
 * LOCK_REDIS_URL) are in the verifier's and processor's bundles but must not be evaluated when Lambda
 * loads them (adapters/aws/s3-blobs.ts and adapters/redis/lock-from-url.ts import them on first use).
 * Each bundle is built the way NodejsFunction builds it, with a marker at the top of each client's
 * entry module (S3Client.js for the S3 client), and imported in a fresh process with the function's environment (no LOCK_REDIS_URL).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pagewire-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CLIENTS: Record<string, RegExp> = {
  s3: /node_modules\/@aws-sdk\/client-s3\/dist-es\/S3Client\.js$/,
  ioredis: /node_modules\/ioredis\/built\/index\.js$/,
};

/** Prepends `globalThis.__evaluated.push(name)` to each client's entry module. */
const marker: Plugin = {
  name: 'evaluation-marker',
  setup(b) {
    for (const [name, filter] of Object.entries(CLIENTS)) {
      b.onLoad({ filter }, (args) => ({
        contents: `(globalThis.__evaluated ??= []).push(${JSON.stringify(name)});\n${readFileSync(args.path, 'utf8')}`,
        loader: 'js',
        resolveDir: join(args.path, '..'),
      }));
    }
  },
};

async function bundle(entry: { file: string } | { source: string }, name: string): Promise<string> {
  const outfile = join(dir, `${name}.mjs`);
  await build({
    ...('file' in entry
      ? { entryPoints: [join(ROOT, entry.file)] }
      : { stdin: { contents: entry.source, resolveDir: ROOT, loader: 'ts' } }),
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    logLevel: 'silent',
    absWorkingDir: ROOT,
    plugins: [marker],
  });
  return outfile;
}

/** The clients evaluated by importing the bundle in a fresh process. */
function evaluatedOnImport(file: string): string[] {
  const code = `await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(JSON.stringify(globalThis.__evaluated ?? []));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    env: {
      PATH: process.env.PATH,
      EVENTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/pagewire-events.fifo',
      KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
      APP_SECRET_NAME: 'pagewire/facebook-app',
      TABLE_NAME: 'pagewire',
      BLOB_BUCKET: 'pagewire-blobs',
      // The processor publishes its events there (lib/events.ts grantPublish sets it).
      EVENT_BUS_NAME: 'Pagewire-pagewire',
      AWS_REGION: 'us-east-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`import failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

describe('clients kept off the init path', () => {
  it('the marker sees a client imported at init (control)', async () => {
    const file = await bundle(
      {
        source:
          "import { S3Client } from '@aws-sdk/client-s3'; import { Redis } from 'ioredis'; globalThis.m = [S3Client, Redis];",
      },
      'control',
    );
    expect(evaluatedOnImport(file).sort()).toEqual(['ioredis', 's3']);
  }, 60_000);

  it.each([
    ['verifier', 'functions/verifier/handler.ts'],
    ['processor', 'functions/processor/handler.ts'],
  ])(
    '%s: neither the S3 client nor ioredis is evaluated when the bundle loads',
    async (name, file) => {
      const out = await bundle({ file }, name);
      expect(readFileSync(out, 'utf8')).toContain('__evaluated');
      expect(evaluatedOnImport(out)).toEqual([]);
    },
    60_000,
  );
});
