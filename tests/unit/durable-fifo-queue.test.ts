/**
 * The local queue on disk (issue 8): what a queue had accepted comes back after its process ends,
 * in order per group, with receive counts, dead letters and the dedup window. A "crash" here is a
 * store closed under a queue that is never stopped: the store hands over only what was already
 * written, exactly what the operating system holds when a process is killed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalFifoQueue, type LocalFifoQueueOptions } from '#adapters/local/fifo-queue';
import { LocalQueueStore, type QueueJournal } from '#adapters/local/queue-store';
import type { QueueMessage } from '#contracts/queue';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(2);
}
let dir: string;
const open: Array<{ store: LocalQueueStore; queue: LocalFifoQueue }> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pagewire-queue-'));
});

afterEach(async () => {
  for (const { store } of open.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

type Handler = LocalFifoQueueOptions['handler'];

/** A queue on the store in `dir`, restored; answers what the restore found. */
async function openQueue(handler: Handler, opts: Partial<LocalFifoQueueOptions> = {}) {
  const store = await LocalQueueStore.open(dir);
  const queue = new LocalFifoQueue({
    name: 'events.fifo',
    handler,
    onError: () => {},
    journal: store.journal('events.fifo'),
    ...opts,
  });
  const restored = await queue.restore();
  open.push({ store, queue });
  return { store, queue, restored };
}

/** Ends the queue's "process": nothing more reaches the disk, nothing is cleaned up. */
async function crash(store: LocalQueueStore): Promise<void> {
  await store.close();
  open.splice(
    open.findIndex((o) => o.store === store),
    1,
  );
}

const msg = (groupId: string, dedupId: string, body = dedupId): QueueMessage => ({ groupId, dedupId, body });

/** Records bodies per group with their receive counts. */
function recorder(fail: (body: string, count: number) => boolean = () => false) {
  const seen: Array<{ group: string; body: string; count: number }> = [];
  const handler: Handler = async (event: SQSEvent) => {
    const failures = [];
    for (const r of event.Records) {
      const count = Number(r.attributes.ApproximateReceiveCount);
      seen.push({ group: r.attributes.MessageGroupId as string, body: r.body, count });
      if (fail(r.body, count)) failures.push({ itemIdentifier: r.messageId });
    }
    return { batchItemFailures: failures };
  };
  const bodies = (group: string) => seen.filter((s) => s.group === group).map((s) => s.body);
  return { handler, seen, bodies };
}

/** A handler that holds every batch holding `body` until released, and records the rest. */
function holding(body: string) {
  const rec = recorder();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held!: () => void;
  const reached = new Promise<void>((resolve) => {
    held = resolve;
  });
  const handler: Handler = async (event) => {
    if (event.Records.some((r) => r.body === body)) {
      held();
      await gate;
    }
    return rec.handler(event);
  };
  return { handler, rec, release: () => release(), reached };
}

describe('LocalFifoQueue with a journal', () => {
  it('brings back every pending message after a crash, in order per group', async () => {
    const first = await openQueue(recorder().handler);
    const sent: QueueMessage[] = [];
    for (let n = 0; n < 30; n++) for (let g = 0; g < 7; g++) sent.push(msg(`g${g}`, `m${n}`));
    for (let i = 0; i < sent.length; i += 9) await first.queue.send(sent.slice(i, i + 9));
    await crash(first.store);

    const rec = recorder();
    const second = await openQueue(rec.handler);
    expect(second.restored).toEqual({ pending: 210, redelivered: 0, deadLetters: 0 });
    second.queue.start();
    await second.queue.idle();
    for (let g = 0; g < 7; g++) {
      expect(rec.bodies(`g${g}`)).toEqual(Array.from({ length: 30 }, (_, n) => `m${n}`));
    }
    expect(rec.seen.every((s) => s.count === 1)).toBe(true);
    await second.queue.stop();
    await crash(second.store);

    const third = await openQueue(recorder().handler);
    expect(third.restored).toEqual({ pending: 0, redelivered: 0, deadLetters: 0 });
  });

  it('delivers the messages that were in flight again, first in their group, with their receive counts', async () => {
    const hold = holding('b2');
    const first = await openQueue(hold.handler, { batchSize: 2 });
    await first.queue.send([msg('a', 'a1'), msg('a', 'a2'), msg('a', 'a3')]);
    await first.queue.send([msg('b', 'b1'), msg('b', 'b2'), msg('b', 'b3'), msg('b', 'b4')]);
    first.queue.start();
    // Batches of 2: a1 a2, then a3; b1 b2 is held in flight, b3 b4 wait behind it.
    await hold.reached;
    await until(() => first.queue.stats().delivered === 3);
    await crash(first.store);
    expect(hold.rec.seen.map((s) => s.body)).toEqual(['a1', 'a2', 'a3']);

    const rec = recorder();
    const second = await openQueue(rec.handler);
    expect(second.restored).toEqual({ pending: 4, redelivered: 2, deadLetters: 0 });
    second.queue.start();
    await second.queue.idle();
    hold.release();
    expect(rec.seen).toEqual([
      { group: 'b', body: 'b1', count: 2 },
      { group: 'b', body: 'b2', count: 2 },
      { group: 'b', body: 'b3', count: 1 },
      { group: 'b', body: 'b4', count: 1 },
    ]);
  });

  it('keeps dead letters across restarts, and redrives them back to the end of their group', async () => {
    const failing = recorder((body) => body === 'poison');
    const first = await openQueue(failing.handler, { maxReceiveCount: 2, visibilityTimeoutMs: 1 });
    first.queue.start();
    await first.queue.send([msg('g', 'p', 'poison'), msg('g', 'ok1')]);
    await first.queue.idle();
    expect(first.queue.stats().deadLetters).toBe(1);
    await first.queue.stop();
    await crash(first.store);

    const rec = recorder();
    const second = await openQueue(rec.handler);
    expect(second.restored).toEqual({ pending: 0, redelivered: 0, deadLetters: 1 });
    expect(second.queue.deadLetters()).toEqual([
      expect.objectContaining({ groupId: 'g', dedupId: 'p', body: 'poison', receiveCount: 2 }),
    ]);
    await second.queue.send([msg('g', 'ok2')]);
    expect(await second.queue.redrive()).toBe(1);
    expect(second.queue.deadLetters()).toEqual([]);
    second.queue.start();
    await second.queue.idle();
    // Past the dedup window (the same dedup id came back), after what was queued before the redrive.
    expect(rec.seen).toEqual([
      { group: 'g', body: 'ok2', count: 1 },
      { group: 'g', body: 'poison', count: 1 },
    ]);
    await second.queue.stop();
    await crash(second.store);

    const third = await openQueue(recorder().handler);
    expect(third.restored).toEqual({ pending: 0, redelivered: 0, deadLetters: 0 });
    expect(await third.queue.redrive()).toBe(0);
  });

  it('moves each dead letter once when redrives overlap', async () => {
    let failing = true;
    const delivered: string[] = [];
    const { queue } = await openQueue(
      async (event) => {
        if (failing) throw new Error('down');
        delivered.push(...event.Records.map((r) => r.body));
      },
      { maxReceiveCount: 1 },
    );
    queue.start();
    await queue.send([msg('g', 'a'), msg('g', 'b'), msg('h', 'c')]);
    await queue.idle();
    failing = false;
    const moved = await Promise.all([queue.redrive(), queue.redrive()]);
    expect(moved.sort()).toEqual([0, 3]);
    await queue.idle();
    expect(delivered.sort()).toEqual(['a', 'b', 'c']);
    await queue.stop();
  });

  it('a redrive not yet processed when the process ends is still queued, not dead, after it', async () => {
    const first = await openQueue(recorder(() => true).handler, { maxReceiveCount: 1 });
    first.queue.start();
    await first.queue.send([msg('g', 'x')]);
    await first.queue.idle();
    await first.queue.stop();
    expect(await first.queue.redrive()).toBe(1);
    await crash(first.store);
    const second = await openQueue(recorder().handler);
    expect(second.restored).toEqual({ pending: 1, redelivered: 0, deadLetters: 0 });
  });

  it('moves a message whose last receive ended with the process to the dead letters, unseen', async () => {
    const hold = holding('killer');
    const first = await openQueue(hold.handler, { maxReceiveCount: 1, batchSize: 1 });
    first.queue.start();
    await first.queue.send([msg('g', 'k', 'killer'), msg('g', 'next')]);
    await hold.reached;
    await crash(first.store);
    hold.release();

    const rec = recorder();
    const second = await openQueue(rec.handler, { maxReceiveCount: 1 });
    expect(second.restored).toEqual({ pending: 2, redelivered: 1, deadLetters: 0 });
    second.queue.start();
    await second.queue.idle();
    expect(rec.seen).toEqual([{ group: 'g', body: 'next', count: 1 }]);
    expect(second.queue.deadLetters()).toEqual([
      expect.objectContaining({ body: 'killer', receiveCount: 1 }),
    ]);
    expect(second.queue.stats()).toMatchObject({ pending: 0, inFlight: 0, deadLetters: 1 });
    await second.queue.stop();
    await crash(second.store);
    expect((await openQueue(recorder().handler)).restored.deadLetters).toBe(1);
  });

  it('remembers the dedup window across a restart, and forgets keys that expired meanwhile', async () => {
    // The window is read from the clock: a frozen Date makes "within" and "after" exact on any machine.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-12-01T00:00:00Z'));
      const first = await openQueue(recorder().handler, { dedupWindowMs: 60_000 });
      first.queue.start();
      await first.queue.send([msg('g', 'm1', 'first')]);
      await first.queue.idle();
      await first.queue.stop();
      await crash(first.store);

      const rec = recorder();
      const second = await openQueue(rec.handler, { dedupWindowMs: 60_000 });
      second.queue.start();
      await second.queue.send([msg('g', 'm1', 'retry of first'), msg('other', 'm1', 'other group')]);
      await second.queue.idle();
      expect(rec.seen.map((s) => s.body)).toEqual(['other group']);
      await second.queue.stop();
      await crash(second.store);

      vi.setSystemTime(new Date('2026-12-01T00:01:01Z'));
      const rec3 = recorder();
      const third = await openQueue(rec3.handler, { dedupWindowMs: 60_000 });
      third.queue.start();
      await third.queue.send([msg('g', 'm1', 'after the window')]);
      await third.queue.idle();
      expect(rec3.seen.map((s) => s.body)).toEqual(['after the window']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the order of concurrent sends to one group', async () => {
    const rec = recorder();
    const { queue } = await openQueue(rec.handler);
    queue.start();
    await Promise.all(Array.from({ length: 200 }, (_, i) => queue.send([msg('g', `m${i}`)])));
    await queue.idle();
    expect(rec.bodies('g')).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
  });

  it('refuses a send it cannot write, accepting none of it; a duplicate sent meanwhile fails with it', async () => {
    let failWrites = true;
    const journal: QueueJournal = {
      load: async () => ({ messages: [], deadLetters: [], dedup: [], sequence: 0 }),
      write: async () => {
        await sleep(5);
        if (failWrites) throw new Error('disk full');
      },
    };
    const rec = recorder();
    const queue = new LocalFifoQueue({ name: 'q.fifo', handler: rec.handler, journal, onError: () => {} });
    await expect(queue.send([msg('g', 'a')])).rejects.toThrow(/restore\(\) must run/);
    await queue.restore();
    queue.start();
    const first = queue.send([msg('g', 'a'), msg('g', 'b')]);
    const duplicate = queue.send([msg('g', 'a')]);
    await expect(first).rejects.toThrow('disk full');
    await expect(duplicate).rejects.toThrow('disk full');
    expect(queue.stats()).toMatchObject({ pending: 0, inFlight: 0 });
    failWrites = false;
    await queue.send([msg('g', 'a')]);
    await queue.idle();
    expect(rec.bodies('g')).toEqual(['a']);
    await queue.stop();
  });

  it('refuses to start on a damaged record, and says when another process holds the folder', async () => {
    const { store } = await openQueue(recorder().handler);
    await expect(LocalQueueStore.open(dir)).rejects.toThrow(`the queue folder ${dir} is in use`);
    await crash(store);
    const db = new ClassicLevel(dir);
    await db.put('events.fifo!m!0000000000000001', '{"id":1}');
    await db.close();
    await expect(openQueue(recorder().handler)).rejects.toThrow(/damaged record under events\.fifo!m!0+1$/);
  });
});
