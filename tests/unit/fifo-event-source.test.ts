import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalFifoQueue, type LocalFifoQueueOptions } from '#adapters/local/fifo-queue';
import type { QueueMessage } from '#contracts/queue';
import { at, first, take } from '#testkit/pick';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const queues: LocalFifoQueue[] = [];

afterEach(async () => {
  await Promise.all(queues.splice(0).map((queue) => queue.stop()));
});

type Handler = LocalFifoQueueOptions['handler'];

function makeQueue(handler: Handler, opts: Partial<LocalFifoQueueOptions> = {}): LocalFifoQueue {
  const queue = new LocalFifoQueue({ name: 'events.fifo', handler, onError: () => {}, ...opts });
  queues.push(queue);
  return queue;
}

/** `count` messages for each of `groups` groups, interleaved at random but in order within a group. */
function interleaved(groups: number, count: number): QueueMessage[] {
  const next = new Array(groups).fill(0);
  const open = Array.from({ length: groups }, (_, g) => g);
  const out: QueueMessage[] = [];
  while (open.length > 0) {
    const pick = Math.floor(Math.random() * open.length);
    const g = at(open, pick, 'open group');
    const n = at(next, g, 'next index');
    next[g] = n + 1;
    out.push({ groupId: `g${g}`, dedupId: `m${n}`, body: JSON.stringify({ g, n }) });
    if (next[g] === count) open.splice(pick, 1);
  }
  return out;
}

function msg(groupId: string, dedupId: string, body = dedupId): QueueMessage {
  return { groupId, dedupId, body };
}

/** Records every delivery and checks the FIFO invariants as batches run. */
function recorder(opts: { delayMs?: () => number; fail?: (record: SQSRecord) => boolean } = {}) {
  const seen = new Map<string, number[]>();
  const batchSizes: number[] = [];
  const violations: string[] = [];
  const groupsInFlight = new Set<string>();
  let batchesInFlight = 0;
  let maxBatchesInFlight = 0;
  const handler: Handler = async (event: SQSEvent) => {
    batchSizes.push(event.Records.length);
    const groups = new Set(event.Records.map((r) => r.attributes.MessageGroupId as string));
    for (const g of groups) if (groupsInFlight.has(g)) violations.push(`group ${g} in two batches`);
    for (const g of groups) groupsInFlight.add(g);
    maxBatchesInFlight = Math.max(maxBatchesInFlight, ++batchesInFlight);
    await sleep(opts.delayMs?.() ?? 0);
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      if (opts.fail?.(record)) {
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const { g, n } = JSON.parse(record.body) as { g: number; n: number };
      const list = seen.get(`g${g}`) ?? [];
      list.push(n);
      seen.set(`g${g}`, list);
    }
    for (const g of groups) groupsInFlight.delete(g);
    batchesInFlight--;
    return { batchItemFailures: failures };
  };
  return { handler, seen, batchSizes, violations, maxBatches: () => maxBatchesInFlight };
}

function expectInOrder(seen: Map<string, number[]>, groups: number, count: number): void {
  expect(seen.size).toBe(groups);
  const expected = Array.from({ length: count }, (_, n) => n);
  for (const list of seen.values()) expect(list).toEqual(expected);
}

describe('LocalFifoQueue', () => {
  it('keeps order per group under concurrency, batches of at most 10, one batch per group', async () => {
    const rec = recorder({ delayMs: () => Math.random() * 3 });
    const queue = makeQueue(rec.handler, { concurrency: 8 });
    queue.start();
    await queue.send(interleaved(40, 30));
    await queue.idle();
    expectInOrder(rec.seen, 40, 30);
    expect(rec.violations).toEqual([]);
    expect(Math.max(...rec.batchSizes)).toBeLessThanOrEqual(10);
    expect(rec.maxBatches()).toBeGreaterThan(1);
    expect(rec.maxBatches()).toBeLessThanOrEqual(8);
    expect(queue.stats()).toEqual({ pending: 0, inFlight: 0, deadLetters: 0, delivered: 1200 });
  });

  it('honours a smaller batch size and keeps order when sends arrive while batches run', async () => {
    const rec = recorder({ delayMs: () => Math.random() * 2 });
    const queue = makeQueue(rec.handler, { batchSize: 3, concurrency: 3 });
    queue.start();
    const all = interleaved(10, 20);
    for (let i = 0; i < all.length; i += 7) {
      await queue.send(all.slice(i, i + 7));
      if (i % 21 === 0) await sleep(1);
    }
    await queue.idle();
    expectInOrder(rec.seen, 10, 20);
    expect(rec.violations).toEqual([]);
    expect(Math.max(...rec.batchSizes)).toBeLessThanOrEqual(3);
  });

  it('builds SQS-shaped records', async () => {
    const records: SQSRecord[] = [];
    const queue = makeQueue(async (event) => {
      records.push(...event.Records);
    });
    const before = Date.now();
    await queue.send([msg('111:222', 'm_1', '{"x":"ä"}'), msg('111:222', 'm_2', '{}')]);
    queue.start();
    await queue.idle();
    const [first, second] = take(records, 2, 'record');
    expect(first).toMatchObject({
      body: '{"x":"ä"}',
      messageAttributes: {},
      md5OfBody: createHash('md5').update('{"x":"ä"}', 'utf8').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:events.fifo',
      awsRegion: 'local',
      attributes: {
        ApproximateReceiveCount: '1',
        MessageGroupId: '111:222',
        MessageDeduplicationId: 'm_1',
        SenderId: expect.any(String),
      },
    });
    expect(first.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.receiptHandle).toBeTruthy();
    expect(first.messageId).not.toBe(second.messageId);
    expect(Number(first.attributes.SentTimestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(first.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
      Number(first.attributes.SentTimestamp),
    );
    expect(BigInt(second.attributes.SequenceNumber as string)).toBeGreaterThan(
      BigInt(first.attributes.SequenceNumber as string),
    );
  });

  it('retries only failed records after the visibility timeout, first in their group', async () => {
    const deliveries: { ids: string[]; counts: string[]; at: number }[] = [];
    let failOnce = true;
    const queue = makeQueue(
      async (event) => {
        deliveries.push({
          ids: event.Records.map((r) => r.body),
          counts: event.Records.map((r) => r.attributes.ApproximateReceiveCount),
          at: Date.now(),
        });
        const failed = event.Records.filter((r) => r.body === 'b' && failOnce);
        failOnce = false;
        return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { visibilityTimeoutMs: 50 },
    );
    queue.start();
    await queue.send([msg('g', 'a'), msg('g', 'b'), msg('g', 'c')]);
    await sleep(10);
    // While b is invisible its group is blocked: d must wait and come after b.
    await queue.send([msg('g', 'd')]);
    await sleep(10);
    expect(queue.stats()).toMatchObject({ pending: 2, inFlight: 0, delivered: 2 });
    await queue.idle();
    expect(deliveries.map((d) => d.ids)).toEqual([
      ['a', 'b', 'c'],
      ['b', 'd'],
    ]);
    expect(at(deliveries, 1, 'deliveries').counts).toEqual(['2', '1']);
    expect(at(deliveries, 1, 'deliveries').at - first(deliveries, 'deliveries').at).toBeGreaterThanOrEqual(
      45,
    );
    expect(queue.stats()).toEqual({ pending: 0, inFlight: 0, deadLetters: 0, delivered: 4 });
  });

  it('does not block other groups while one waits for its visibility timeout', async () => {
    const order: string[] = [];
    const queue = makeQueue(
      async (event) => {
        const failures = [];
        for (const r of event.Records) {
          order.push(`${r.body}#${r.attributes.ApproximateReceiveCount}`);
          if (r.body === 'x' && r.attributes.ApproximateReceiveCount === '1') {
            failures.push({ itemIdentifier: r.messageId });
          }
        }
        return { batchItemFailures: failures };
      },
      { visibilityTimeoutMs: 80, batchSize: 1 },
    );
    queue.start();
    await queue.send([msg('slow', 'x')]);
    await sleep(10);
    await queue.send([msg('fast', 'y'), msg('fast', 'z')]);
    await queue.idle();
    expect(order).toEqual(['x#1', 'y#1', 'z#1', 'x#2']);
  });

  it('moves a message to the dead letters after 5 receives, then its group continues', async () => {
    const counts: string[] = [];
    const delivered: string[] = [];
    const queue = makeQueue(
      async (event) => {
        const failures = [];
        for (const r of event.Records) {
          if (r.body === 'poison') {
            counts.push(r.attributes.ApproximateReceiveCount);
            failures.push({ itemIdentifier: r.messageId });
          } else delivered.push(r.body);
        }
        return { batchItemFailures: failures };
      },
      { visibilityTimeoutMs: 5, batchSize: 1 },
    );
    queue.start();
    await queue.send([msg('g', 'p', 'poison'), msg('g', 'after')]);
    await queue.idle();
    expect(counts).toEqual(['1', '2', '3', '4', '5']);
    expect(delivered).toEqual(['after']);
    expect(queue.deadLetters()).toEqual([
      {
        messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        groupId: 'g',
        dedupId: 'p',
        body: 'poison',
        receiveCount: 5,
        sentAt: expect.any(Number),
        deadAt: expect.any(Number),
      },
    ]);
    expect(queue.stats()).toEqual({ pending: 0, inFlight: 0, deadLetters: 1, delivered: 1 });
  });

  it('honours maxReceiveCount', async () => {
    let calls = 0;
    const queue = makeQueue(
      async () => {
        calls++;
        throw new Error('always');
      },
      { visibilityTimeoutMs: 1, maxReceiveCount: 2 },
    );
    queue.start();
    await queue.send([msg('g', 'a')]);
    await queue.idle();
    expect(calls).toBe(2);
    expect(first(queue.deadLetters(), 'deadLetters()').receiveCount).toBe(2);
  });

  it('retries the whole batch when the handler throws, and tells onError', async () => {
    const errors: unknown[] = [];
    const batches: string[][] = [];
    const queue = makeQueue(
      async (event) => {
        batches.push(event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
        if (batches.length === 1) throw new Error('boom');
      },
      { visibilityTimeoutMs: 20, onError: (err) => errors.push(err) },
    );
    queue.start();
    await queue.send([msg('g1', 'a'), msg('g1', 'b'), msg('g2', 'c')]);
    await queue.idle();
    expect(batches).toEqual([
      ['a#1', 'b#1', 'c#1'],
      ['a#2', 'b#2', 'c#2'],
    ]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
    expect(queue.stats().delivered).toBe(3);
  });

  it('fails the whole batch when batchItemFailures names an unknown record, as Lambda does', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const queue = makeQueue(
      async () => {
        calls++;
        return calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'nope' }] } : undefined;
      },
      { visibilityTimeoutMs: 5, onError: (err) => errors.push(err) },
    );
    queue.start();
    await queue.send([msg('g', 'a'), msg('g', 'b')]);
    await queue.idle();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    expect(queue.stats().delivered).toBe(2);
  });

  it('drops duplicates per group within the dedup window, and not after it', async () => {
    const bodies: string[] = [];
    const queue = makeQueue(
      async (event) => {
        bodies.push(...event.Records.map((r) => r.body));
      },
      { dedupWindowMs: 100 },
    );
    queue.start();
    await queue.send([msg('g', 'm1', 'first'), msg('g', 'm1', 'dup in call')]);
    await queue.send([msg('g', 'm1', 'dup later'), msg('other', 'm1', 'other group')]);
    await queue.idle();
    expect(bodies.sort()).toEqual(['first', 'other group']);
    await sleep(120);
    await queue.send([msg('g', 'm1', 'after window')]);
    await queue.idle();
    expect(bodies).toContain('after window');
    expect(queue.stats().delivered).toBe(3);
  });

  it('reports stats and resolves idle as work flows', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const queue = makeQueue(async () => {
      await gate;
    });
    await expect(queue.idle()).resolves.toBeUndefined();
    await queue.send([msg('a', '1'), msg('a', '2'), msg('b', '1')]);
    expect(queue.stats()).toEqual({ pending: 3, inFlight: 0, deadLetters: 0, delivered: 0 });
    queue.start();
    await sleep(5);
    expect(queue.stats()).toEqual({ pending: 0, inFlight: 3, deadLetters: 0, delivered: 0 });
    let idle = false;
    const waiting = queue.idle().then(() => {
      idle = true;
    });
    await sleep(5);
    expect(idle).toBe(false);
    release();
    await waiting;
    expect(queue.stats()).toEqual({ pending: 0, inFlight: 0, deadLetters: 0, delivered: 3 });
  });

  it('stop() waits for batches in flight and delivers nothing more until start()', async () => {
    let finished = 0;
    const queue = makeQueue(
      async () => {
        await sleep(20);
        finished++;
      },
      { batchSize: 1, concurrency: 1 },
    );
    queue.start();
    await queue.send([msg('g', '1'), msg('g', '2')]);
    await sleep(5);
    await queue.stop();
    expect(finished).toBe(1);
    await sleep(30);
    expect(queue.stats()).toMatchObject({ pending: 1, inFlight: 0, delivered: 1 });
    queue.start();
    await queue.idle();
    expect(finished).toBe(2);
  });

  it('rejects messages SQS would refuse, accepting none of the call', async () => {
    const queue = makeQueue(async () => {});
    await expect(queue.send([msg('g', 'ok'), msg('g', 'x'.repeat(129))])).rejects.toThrow(/dedupId/);
    await expect(queue.send([msg('', 'a')])).rejects.toThrow(/groupId/);
    await expect(queue.send([msg('g', 'a', 'x'.repeat(1_048_577))])).rejects.toThrow(/bytes/);
    expect(queue.stats().pending).toBe(0);
  });

  it('moves 10,000 messages across 500 groups in order', async () => {
    const rec = recorder();
    const queue = makeQueue(rec.handler, { concurrency: 16 });
    queue.start();
    const all = interleaved(500, 20);
    for (let i = 0; i < all.length; i += 100) await queue.send(all.slice(i, i + 100));
    await queue.idle();
    expectInOrder(rec.seen, 500, 20);
    expect(rec.violations).toEqual([]);
    expect(queue.stats()).toEqual({ pending: 0, inFlight: 0, deadLetters: 0, delivered: 10_000 });
  });
});
