/**
 * Benchmark: peak memory of `npm start`'s process (bin/local.ts, MEMORY=1, its own process so the
 * figure is its own) while 100 clients upload 10 MiB each at once, on loopback only. Three waves: the
 * webhook with a declared Content-Length, the webhook chunked (no length declared), and the admin API
 * chunked (read before its bearer token is checked). Each wave is bounded: 100 uploads of at most
 * 10 MiB, stopped by a deadline.
 *
 * Peak = the kernel's high-water mark of the process's resident memory (VmHWM), reset before each wave
 * (`/proc/PID/clear_refs` 5), so start-up does not count. Reference: a gateway that holds what it reads
 * up to a 10 MiB limit before refusing (what issue 8 measured: ~970 MB) holds uploads × 10 MiB.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { startStackProcess } from '#testkit/local-stack-process';
import { ratio, round } from './stats.js';

const UPLOADS = 100;
const UPLOAD_BYTES = 10 * 1024 * 1024;
const PIECE = Buffer.alloc(64 * 1024, 'x');
const WAVE_DEADLINE_MS = 60_000;
const MB = 1024 * 1024;
/** Peak growth a wave may cause: a tenth of what buffering would hold. */
const TARGET_RATIO = 0.1;

export interface BodyLimitWave {
  name: string;
  path: string;
  chunked: boolean;
  /** Resident memory of the stack before the wave, MB. */
  rssBeforeMb: number;
  peakRssMb: number;
  /** Peak minus before, MB. */
  growthMb: number;
  refused413: number;
  /** Uploads whose connection was closed before an answer could be read (the rest of the body was refused). */
  reset: number;
  otherAnswers: number;
  /** What the clients managed to hand to their sockets before the refusal, MB in all. */
  sentMb: number;
  seconds: number;
  ratio: number;
  ok: boolean;
}

export interface BodyLimitResult {
  uploads: number;
  uploadMb: number;
  /** uploads × 10 MiB: what a gateway holding up to 10 MiB per connection would hold. */
  referenceMb: number;
  targetRatio: number;
  waves: BodyLimitWave[];
}

export async function bodyLimitBench(): Promise<BodyLimitResult> {
  const stack = await startStack();
  try {
    const waves: BodyLimitWave[] = [];
    for (const [name, path, chunked] of [
      ['webhook, Content-Length declared', '/webhooks/facebook', false],
      ['webhook, chunked', '/webhooks/facebook', true],
      ['admin API, chunked, no token', '/admin/pages/connect', true],
    ] as const) {
      waves.push(await wave(stack, name, path, chunked));
    }
    return {
      uploads: UPLOADS,
      uploadMb: UPLOAD_BYTES / MB,
      referenceMb: (UPLOADS * UPLOAD_BYTES) / MB,
      targetRatio: TARGET_RATIO,
      waves,
    };
  } finally {
    await stack.stop();
  }
}

async function wave(stack: Stack, name: string, path: string, chunked: boolean): Promise<BodyLimitWave> {
  const rssBefore = stack.memory().rss;
  stack.resetPeak();
  const started = performance.now();
  const deadline = AbortSignal.timeout(WAVE_DEADLINE_MS);
  const outcomes = await Promise.all(
    Array.from({ length: UPLOADS }, () => upload(stack.url + path, chunked, deadline)),
  );
  const seconds = (performance.now() - started) / 1000;
  const peak = stack.memory().peak;
  const growthMb = (peak - rssBefore) / MB;
  const referenceMb = (UPLOADS * UPLOAD_BYTES) / MB;
  return {
    name,
    path,
    chunked,
    rssBeforeMb: round(rssBefore / MB, 1),
    peakRssMb: round(peak / MB, 1),
    growthMb: round(growthMb, 1),
    refused413: outcomes.filter((o) => o.status === 413).length,
    reset: outcomes.filter((o) => o.status === undefined).length,
    otherAnswers: outcomes.filter((o) => o.status !== undefined && o.status !== 413).length,
    sentMb: round(outcomes.reduce((sum, o) => sum + o.sent, 0) / MB, 1),
    seconds: round(seconds, 2),
    ratio: ratio(growthMb, referenceMb),
    ok: growthMb / referenceMb <= TARGET_RATIO,
  };
}

/** One client: writes up to 10 MiB as fast as the socket takes it, until the server answers or closes. */
function upload(
  url: string,
  chunked: boolean,
  deadline: AbortSignal,
): Promise<{ status?: number; sent: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = String(UPLOAD_BYTES);
    const req = request(url, { method: 'POST', headers, agent: false, signal: deadline });
    const finish = (status?: number) => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ status, sent });
    };
    req.on('response', (res) => {
      res.resume();
      finish(res.statusCode);
    });
    req.on('error', () => finish());
    req.on('close', () => finish());
    const pump = () => {
      while (!done && sent < UPLOAD_BYTES) {
        const piece = PIECE.subarray(0, Math.min(PIECE.length, UPLOAD_BYTES - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!done) req.end();
    };
    pump();
  });
}

interface Stack {
  url: string;
  memory(): { rss: number; peak: number };
  resetPeak(): void;
  stop(): Promise<void>;
}

/** `npm start`'s entry point, in memory, on a free loopback port (testkit's); its memory read from /proc. */
async function startStack(): Promise<Stack> {
  const stack = await startStackProcess({
    HOST: '127.0.0.1',
    FB_APP_ID: '1517776481860111',
    FB_APP_SECRET: randomBytes(16).toString('hex'),
    FB_VERIFY_TOKEN: 'v',
    ADMIN_TOKEN: randomBytes(16).toString('hex'),
    // Nothing here calls Graph; should anything try, it stays on this machine.
    GRAPH_API_URL: 'http://127.0.0.1:9',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const status = () => readFileSync(`/proc/${stack.pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status())?.[1]) * 1024;
  // Warm: the first requests load code paths a wave would otherwise count.
  await fetch(`${stack.url}/health`).then((r) => r.text());
  return {
    url: stack.url,
    memory: () => ({ rss: kb('VmRSS'), peak: kb('VmHWM') }),
    resetPeak: () => writeFileSync(`/proc/${stack.pid}/clear_refs`, '5'),
    stop: () => stack.stop(),
  };
}
