/**
 * `npm run bench`: figures a reader can reproduce, each beside its reference as a ratio (absolute
 * times drift on a shared machine; ratios much less). Prints a table, writes bench/results.json.
 *
 * So far: the verifier's hot path (issue 5 adds cold start, cost per message, scale and chaos runs).
 */
import './env.js';
import { createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { lambda } from '../functions/commons/lambda.js';
import type { QueueMessage } from '../functions/commons/webhook/queued-event.js';
import { signBody } from '../functions/commons/webhook/signature.js';
import { createVerifier } from '../functions/verifier/verify-webhook.js';
import { lambdaContext } from '../local/lambda-context.js';
import { metaJson } from '../tests/fixtures/webhooks.js';
import { httpEvent } from '../tests/helpers/http-events.js';

const SECRET = 'bench-app-secret';
const ROUNDS = 15;

function body(events: number): string {
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

/** Median µs per call over ROUNDS rounds of `n` calls each. */
async function median(n: number, fn: () => unknown): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

async function verifierBench() {
  const sink: QueueMessage[] = [];
  // The deployed handler (middy + Powertools), with the queue port writing to memory.
  const verifier = lambda(
    createVerifier({
      queue: { send: async (m) => void sink.push(...m) },
      credentials: { get: async () => ({ appId: '1', appSecret: SECRET, verifyToken: 'v' }) },
    }),
  );
  const context = lambdaContext('bench-verifier');
  const rows = [];
  for (const events of [1, 10, 100]) {
    const raw = Buffer.from(body(events));
    const event = httpEvent('POST', '/webhooks/facebook', {
      body: raw,
      headers: { 'x-hub-signature-256': signBody(raw, SECRET) },
    });
    const n = events === 100 ? 300 : 2000;
    const handler = await median(n, async () => {
      sink.length = 0;
      const res = await verifier(event, context);
      if (res.statusCode !== 200) throw new Error(`verifier answered ${res.statusCode}`);
    });
    const floor = await median(n, () => {
      const bytes = Buffer.from(event.body as string, 'base64');
      createHmac('sha256', SECRET).update(bytes).digest();
      return JSON.parse(bytes.toString('utf8'));
    });
    rows.push({
      events,
      bytes: raw.length,
      handlerMicros: round(handler),
      floorMicros: round(floor),
      ratio: round(handler / floor),
    });
  }
  return rows;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const verifier = await verifierBench();
const results = {
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  verifier: verifier.map((r) => ({
    ...r,
    targetRatio: r.events === 1 ? 3 : r.events === 100 ? 1.5 : undefined,
  })),
};
console.table(verifier);
await writeFile(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log('wrote bench/results.json');
