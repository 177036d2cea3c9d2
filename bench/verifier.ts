/**
 * Benchmark 1, the verifier's hot path: the deployed handler (hotPathLambda: Powertools log context and
 * metrics flush, the queue port writing to memory) beside the floor, HMAC-SHA256 + JSON.parse of the same
 * bytes. Also measured, to show where the time goes: the handler without any wrapper, and a CPU
 * profile of the deployed handler at 1 event.
 */
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import type { QueueMessage } from '#contracts/queue';
import { signBody } from '#ingest/signature';
import { createVerifier } from '#ingest/verify-webhook';
import { lambdaContext } from '#local/lambda-context';
import { hotPathLambda } from '#runtime/lambda';
import { httpEvent } from '#testkit/http-events';
import { metaJson } from '#testkit/webhooks';
import { microsPerCall, ratio, round } from './stats.js';

const SECRET = 'bench-app-secret';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A POST as Meta sends it: entries of up to 5 events, `\/` and `\u00e1` escapes, three pages. */
export function benchBody(events: number): string {
  const entries = Array.from({ length: Math.ceil(events / 5) }, (_, e) => ({
    id: `10000000000000${e % 3}`,
    time: 1_700_000_000_000,
    messaging: Array.from({ length: Math.min(5, events - e * 5) }, (_, i) => ({
      sender: { id: `70000000000${e}${i}` },
      recipient: { id: `10000000000000${e % 3}` },
      timestamp: 1_700_000_000_000 + i,
      message: {
        mid: `m_${e}_${i}_AYs3b5v9Xq2kqYdF0sQ8y1K7tQz2Lw7lS9vN3dJYhbW9v4fB9rQe0u6Jm1o4pQ0`,
        text: 'Olá! Quanto custa o envio para https://example.com/x?',
      },
    })),
  }));
  return metaJson({ object: 'page', entry: entries });
}

export interface VerifierRow {
  events: number;
  bytes: number;
  /** The deployed handler: hotPathLambda(createVerifier(...)), as functions/verifier/handler.ts. */
  handlerMicros: number;
  floorMicros: number;
  ratio: number;
  targetRatio?: number;
  /** createVerifier alone, no wrapper. */
  unwrappedMicros: number;
}

export interface VerifierResult {
  rows: VerifierRow[];
  /** Self time of the deployed handler at 1 event, by function (share of samples, %). */
  profile: Array<{ share: number; frame: string }>;
}

export async function verifierBench(): Promise<VerifierResult> {
  const sink: QueueMessage[] = [];
  const deps = {
    queue: { send: async (m: QueueMessage[]) => void sink.push(...m) },
    credentials: { get: async () => ({ appId: '1', appSecret: SECRET, verifyToken: 'v' }) },
    blobs: new MemoryBlobStore(),
  };
  const unwrapped = createVerifier(deps);
  const deployed = hotPathLambda(unwrapped);
  const context = lambdaContext('bench-verifier');
  const rows: VerifierRow[] = [];
  for (const events of [1, 10, 100]) {
    const text = benchBody(events);
    const raw = Buffer.from(text);
    const event = httpEvent('POST', '/webhooks/facebook', {
      body: raw,
      headers: { 'x-hub-signature-256': signBody(raw, SECRET) },
    });
    const n = events === 100 ? 300 : events === 10 ? 1500 : 4000;
    type Handler = (e: typeof event, c: typeof context) => Promise<{ statusCode?: number }>;
    const call = (h: Handler) => async () => {
      sink.length = 0;
      const res = await h(event, context);
      if (res.statusCode !== 200 || sink.length !== events)
        throw new Error(`verifier answered ${res.statusCode}`);
    };
    const floor = await microsPerCall(n, () => {
      const bytes = Buffer.from(event.body as string, 'base64');
      createHmac('sha256', SECRET).update(bytes).digest();
      return JSON.parse(bytes.toString('utf8'));
    });
    const handler = await microsPerCall(n, call(deployed));
    const unwrappedMicros = await microsPerCall(
      n,
      call(async (e) => unwrapped(e)),
    );
    rows.push({
      events,
      bytes: raw.length,
      handlerMicros: round(handler),
      floorMicros: round(floor),
      ratio: ratio(handler, floor),
      targetRatio: events === 1 ? 3 : events === 100 ? 1.5 : undefined,
      unwrappedMicros: round(unwrappedMicros),
    });
  }
  return { rows, profile: profileDeployed() };
}

/** Runs verifier-profile.ts under `node --cpu-prof` and sums self time by function. */
function profileDeployed(): VerifierResult['profile'] {
  const dir = mkdtempSync(join(tmpdir(), 'pagewire-prof-'));
  try {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', dir, 'bench/verifier-profile.ts', '1'],
      { cwd: ROOT, env: process.env, encoding: 'utf8', timeout: 120_000 },
    );
    if (run.status !== 0) throw new Error(`profile run failed: ${run.stderr}`);
    // tsx runs the script in the main thread; other profiles (loader workers) hold few samples.
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    const profiles = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile);
    const main = profiles.sort((a, b) => b.samples.length - a.samples.length)[0];
    if (!main) throw new Error(`profile run wrote no .cpuprofile in ${dir}`);
    return selfTime(main).slice(0, 12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

function selfTime(p: CpuProfile): Array<{ share: number; frame: string }> {
  const time = new Map<number, number>();
  for (const [i, id] of p.samples.entries()) time.set(id, (time.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of p.nodes) {
    const t = time.get(node.id) ?? 0;
    total += t;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    const where = url
      .replace(/^.*node_modules\//, '')
      .replace(/^file:\/\/.*?\/(functions|bench|local)\//, '$1/');
    const frame = `${functionName || '(anonymous)'} ${where.replace(/\.(m?js|ts)$/, '')}`.trim();
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + t);
  }
  return [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .map(([frame, t]) => ({ share: round((100 * t) / total, 1), frame }));
}
