/**
 * Benchmark: how long Meta waits for the answer to a POST of 1, 100 and 1,000 events, through the deployed
 * verifier (hotPathLambda), SqsEventQueue and the real SQSClient, against the SQS fake on loopback (its
 * own process) answering every call after LATENCY_MS. Reference: one round trip, a SendMessageBatch of
 * one entry through the same client. Also measured: the same POSTs with batches sent one after the
 * other (concurrency 1, how the verifier sent them before).
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SQS_CLIENT_CONFIG, SqsEventQueue } from '#adapters/aws/sqs-event-queue';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import { signBody } from '#ingest/signature';
import { createVerifier } from '#ingest/verify-webhook';
import { lambdaContext } from '#local/lambda-context';
import { hotPathLambda } from '#runtime/lambda';
import { httpEvent } from '#testkit/http-events';
import { startFakeProcess } from './fake-process.js';
import { median, ratio, round } from './stats.js';
import { benchBody } from './verifier.js';

const SECRET = 'bench-app-secret';
const LATENCY_MS = 10;
const RUNS = 15;
const SEQUENTIAL_RUNS = 3;
/** Goal for 1,000 events: answered within 3 round trips. */
const TARGET_RATIO = 3;

export interface VerifierQueueRow {
  events: number;
  /** SendMessageBatch calls per POST. */
  calls: number;
  /** Median time from the POST to the 200, batches in parallel (as deployed). */
  ms: number;
  /** The same, batches one after the other. */
  sequentialMs: number;
  /** CPU time of this process per POST (verifier and SDK; the fake has its own process). */
  cpuMs: number;
  /** ms ÷ one round trip. */
  ratio: number;
  sequentialRatio: number;
  targetRatio?: number;
  ok?: boolean;
}

export interface VerifierQueueResult {
  latencyMs: number;
  /** Median of one SendMessageBatch (1 entry) through the same client: one round trip. */
  roundTripMs: number;
  runs: number;
  rows: VerifierQueueRow[];
}

export async function verifierQueueBench(): Promise<VerifierQueueResult> {
  const sqs = await startSqsFakeProcess();
  const client = new SQSClient({
    endpoint: new URL(sqs.queueUrl).origin,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
    ...SQS_CLIENT_CONFIG,
  });
  try {
    const roundTripMs = await oneRoundTrip(client, sqs.queueUrl);
    const rows: VerifierQueueRow[] = [];
    for (const events of [1, 100, 1_000]) {
      const parallel = await postTimes(client, sqs.queueUrl, events, undefined, RUNS);
      const sequential = await postTimes(client, sqs.queueUrl, events, 1, SEQUENTIAL_RUNS);
      const ms = median(parallel.times);
      const target = events === 1_000 ? TARGET_RATIO : undefined;
      rows.push({
        events,
        calls: parallel.calls,
        ms: round(ms, 1),
        cpuMs: round(parallel.cpuMs, 1),
        sequentialMs: round(median(sequential.times), 1),
        ratio: ratio(ms, roundTripMs),
        sequentialRatio: ratio(median(sequential.times), roundTripMs),
        targetRatio: target,
        ok: target === undefined ? undefined : ms / roundTripMs <= target,
      });
    }
    return { latencyMs: LATENCY_MS, roundTripMs: round(roundTripMs, 2), runs: RUNS, rows };
  } finally {
    client.destroy();
    sqs.stop();
  }
}

/** Median of SendMessageBatch calls of one small entry, after a warm-up. */
async function oneRoundTrip(client: SQSClient, queueUrl: string): Promise<number> {
  const times: number[] = [];
  for (let i = -5; i < 30; i++) {
    const entry = { Id: '0', MessageBody: '{"n":1}', MessageGroupId: 'g', MessageDeduplicationId: `rt-${i}` };
    const start = performance.now();
    await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [entry] }));
    if (i >= 0) times.push(performance.now() - start);
  }
  return median(times);
}

/** Times of signed POSTs of `events` events answered 200, after two warm-up POSTs. */
async function postTimes(
  client: SQSClient,
  queueUrl: string,
  events: number,
  concurrency: number | undefined,
  runs: number,
): Promise<{ times: number[]; calls: number; cpuMs: number }> {
  let calls = 0;
  const counting = {
    send: (command: SendMessageBatchCommand) => {
      calls++;
      return client.send(command);
    },
  } as unknown as SQSClient;
  const verifier = hotPathLambda(
    createVerifier({
      queue: new SqsEventQueue(counting, queueUrl, { concurrency }),
      credentials: { get: async () => ({ appId: '1', appSecret: SECRET, verifyToken: 'v' }) },
      blobs: new MemoryBlobStore(),
    }),
  );
  const raw = Buffer.from(benchBody(events));
  const event = httpEvent('POST', '/webhooks/facebook', {
    body: raw,
    headers: { 'x-hub-signature-256': signBody(raw, SECRET) },
  });
  const times: number[] = [];
  let cpu = process.cpuUsage();
  for (let run = -2; run < runs; run++) {
    if (run === 0) cpu = process.cpuUsage();
    calls = 0;
    const start = performance.now();
    const res = await verifier(event, lambdaContext('bench-verifier', 10_000));
    const ms = performance.now() - start;
    if (res.statusCode !== 200) throw new Error(`verifier answered ${res.statusCode} to ${events} events`);
    if (run >= 0) times.push(ms);
  }
  const used = process.cpuUsage(cpu);
  return { times, calls, cpuMs: (used.user + used.system) / 1000 / runs };
}

async function startSqsFakeProcess(): Promise<{ queueUrl: string; stop(): void }> {
  const fake = await startFakeProcess(
    'bench/sqs-fake-server.ts',
    { FAKE_LATENCY_MS: String(LATENCY_MS) },
    'SQS fake',
  );
  return { queueUrl: fake.url, stop: fake.stop };
}
