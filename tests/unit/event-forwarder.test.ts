/**
 * Local forwarding of the public events (issue 10, SPEC §8): a consumer on loopback gets every event
 * with the key header, in order per conversation; a consumer that fails or is down gets everything once
 * it is back, nothing skipped; a restart over the same DATA_DIR sends what was pending, and nothing
 * that was accepted before is sent again. No timed assertions: the tests wait for what they count.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  conversationOf,
  type ForwardFailure,
  LocalEventForwarder,
  LocalEventPublisher,
} from '#adapters/local/event-forwarder';
import { LocalEventLog } from '#adapters/local/event-log';
import { LocalQueueStore } from '#adapters/local/queue-store';
import { PublicEvent } from '#contracts/public-event';
import { NO_DEADLINE } from '#runtime/deadline';

const KEY = 'fwd-key-0123456789abcdef';
const FAST = { baseMs: 1, maxMs: 8, jitter: 'full' } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(2);
}

let n = 0;
function event(pageId: string, userId?: string, seq?: number): PublicEvent {
  n++;
  return PublicEvent.parse({
    id: `evt-${n}`,
    type: userId ? 'message.received' : 'page.status_changed',
    time: new Date(1_790_000_000_000 + n).toISOString(),
    version: 1,
    pageId,
    channel: 'messenger',
    ...(userId ? { userId, seq } : {}),
    data: userId ? { text: `hello ${n}` } : { from: 'active', to: 'reauth_required' },
  });
}

/** Interleaved events of three conversations and one page, `perConversation` each. */
function conversationEvents(perConversation: number): PublicEvent[] {
  const events: PublicEvent[] = [];
  for (let i = 1; i <= perConversation; i++) {
    events.push(event('p1', 'u1', i), event('p1', 'u2', i), event('p2', 'u1', i), event('p1'));
  }
  return events;
}

type Mode = (e: PublicEvent) => number;

/** A consumer that answers each POST with `mode(event)`; records every attempt and what it accepted. */
interface Consumer {
  url: string;
  mode: Mode;
  attempts: Array<{ id: string; key: string | undefined; status: number }>;
  accepted: PublicEvent[];
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

async function consumer(mode: Mode = () => 200): Promise<Consumer> {
  let server: Server;
  let port = 0;
  const c: Consumer = {
    url: '',
    mode,
    attempts: [],
    accepted: [],
    down: () => close(server),
    up: () => listen(),
    close: () => close(server),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const e = JSON.parse(body) as PublicEvent;
      const status = c.mode(e);
      c.attempts.push({ id: e.id, key: req.headers['x-pagewire-key'] as string | undefined, status });
      if (status < 300) c.accepted.push(e);
      // Answers out of order across requests, so only the forwarder's own ordering keeps conversations in order.
      setTimeout(() => res.writeHead(status).end(), Number(e.id.slice(4)) % 3);
    });
  };
  const listen = async () => {
    server = createServer(onRequest);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
    c.url = `http://127.0.0.1:${port}/hook`;
  };
  await listen();
  return c;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function byConversation(events: PublicEvent[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const e of events) map.set(conversationOf(e), [...(map.get(conversationOf(e)) ?? []), e.id]);
  return map;
}

let dir: string;
const cleanup: Array<() => Promise<void>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pagewire-forward-'));
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  await rm(dir, { recursive: true, force: true });
});

async function started(
  url: string,
  opts: Partial<ConstructorParameters<typeof LocalEventForwarder>[0]> = {},
) {
  const forwarder = new LocalEventForwarder({ url, apiKey: KEY, backoff: FAST, ...opts });
  if (opts.journal) await forwarder.restore();
  forwarder.start();
  cleanup.push(() => forwarder.stop());
  return forwarder;
}

describe('the local event forwarder', () => {
  it('POSTs every event as JSON with x-pagewire-key, in order per conversation', async () => {
    const c = await consumer();
    cleanup.push(() => c.close());
    const forwarder = await started(c.url);
    const events = conversationEvents(10);
    // Published in several calls, as the processor's batches would.
    for (let i = 0; i < events.length; i += 7) await forwarder.enqueue(events.slice(i, i + 7));
    await forwarder.idle();
    expect(c.accepted).toHaveLength(events.length);
    expect(c.accepted).toEqual(expect.arrayContaining(events));
    expect(byConversation(c.accepted)).toEqual(byConversation(events));
    expect(new Set(c.attempts.map((a) => a.key))).toEqual(new Set([KEY]));
    expect(forwarder.stats()).toEqual({ pending: 0, failed: 0 });
  });

  it('sends no key header when no key is set', async () => {
    const c = await consumer();
    cleanup.push(() => c.close());
    const forwarder = await started(c.url, { apiKey: undefined });
    await forwarder.enqueue([event('p1', 'u1', 1)]);
    await forwarder.idle();
    expect(c.attempts).toEqual([{ id: expect.any(String), key: undefined, status: 200 }]);
  });

  it('a consumer answering 500 for a while gets everything afterwards, nothing skipped, order kept', async () => {
    const c = await consumer(() => 500);
    cleanup.push(() => c.close());
    const failures: ForwardFailure[] = [];
    const forwarder = await started(c.url, { onFailure: (f) => failures.push(f) });
    const events = conversationEvents(5);
    await forwarder.enqueue(events);
    // Every conversation has failed at least twice: all four are stuck at their first event.
    await until(() => new Set(failures.filter((f) => f.attempt >= 2).map((f) => f.conversation)).size === 4);
    expect(forwarder.stats()).toEqual({ pending: events.length, failed: 4 });
    expect(c.accepted).toEqual([]);
    // Only ever the head of each conversation was tried.
    const heads = new Set([...byConversation(events).values()].map((ids) => ids[0]));
    expect(c.attempts.every((a) => heads.has(a.id))).toBe(true);
    expect(failures[0]?.reason).toBe('HTTP 500');
    c.mode = () => 200;
    await forwarder.idle();
    expect(byConversation(c.accepted)).toEqual(byConversation(events));
    expect(forwarder.stats()).toEqual({ pending: 0, failed: 0 });
  });

  it('a consumer that is down (connection refused) gets everything once it is up again', async () => {
    const c = await consumer();
    cleanup.push(() => c.close());
    await c.down();
    const failures: ForwardFailure[] = [];
    const forwarder = await started(c.url, { onFailure: (f) => failures.push(f) });
    const events = conversationEvents(3);
    await forwarder.enqueue(events);
    await until(() => failures.length >= 8);
    expect(failures.map((f) => f.reason)).toContain('ECONNREFUSED');
    expect(forwarder.stats().pending).toBe(events.length);
    await c.up();
    await forwarder.idle();
    expect(byConversation(c.accepted)).toEqual(byConversation(events));
    expect(c.accepted).toHaveLength(events.length);
  });

  it('one conversation the consumer keeps refusing blocks only itself', async () => {
    const c = await consumer((e) => (e.userId === 'stuck' ? 400 : 200));
    cleanup.push(() => c.close());
    const forwarder = await started(c.url);
    const stuck = [event('p1', 'stuck', 1), event('p1', 'stuck', 2)];
    const others = conversationEvents(4);
    await forwarder.enqueue([...stuck, ...others]);
    await until(() => forwarder.stats().pending === 2 && forwarder.stats().failed === 1);
    expect(forwarder.stats()).toEqual({ pending: 2, failed: 1 });
    expect(byConversation(c.accepted)).toEqual(byConversation(others));
    c.mode = () => 200;
    await forwarder.idle();
    expect(c.accepted.slice(-2).map((e) => e.id)).toEqual(stuck.map((e) => e.id));
  });

  it('an event published again while pending is sent once; after delivery, again (at least once)', async () => {
    const c = await consumer(() => 503);
    cleanup.push(() => c.close());
    const forwarder = await started(c.url);
    const e = event('p1', 'u1', 1);
    await Promise.all([forwarder.enqueue([e, e]), forwarder.enqueue([e])]);
    expect(forwarder.stats().pending).toBe(1);
    c.mode = () => 200;
    await forwarder.idle();
    await forwarder.enqueue([e]);
    await forwarder.idle();
    expect(c.accepted.map((x) => x.id)).toEqual([e.id, e.id]);
  });
});

describe('the local event forwarder over DATA_DIR', () => {
  it('a restart sends what was pending, in order, and nothing accepted before it', async () => {
    // The consumer takes u1's first two events, then goes down (500) for everything.
    const c = await consumer();
    cleanup.push(() => c.close());
    const events = conversationEvents(4);
    const firstTwo = new Set(
      events
        .filter((e) => e.userId === 'u1' && e.pageId === 'p1')
        .slice(0, 2)
        .map((e) => e.id),
    );
    c.mode = (e) => (firstTwo.has(e.id) ? 200 : 500);

    const store1 = await LocalQueueStore.open(dir);
    const journal1 = store1.journal('pagewire-forwards');
    const failures: ForwardFailure[] = [];
    const first = new LocalEventForwarder({
      url: c.url,
      apiKey: KEY,
      backoff: FAST,
      journal: journal1,
      onFailure: (f) => failures.push(f),
    });
    expect(await first.restore()).toEqual({ pending: 0 });
    first.start();
    await first.enqueue(events);
    // The two accepted answers are in (deleted from the journal) and every conversation has failed once.
    await until(
      () =>
        first.stats().pending === events.length - 2 &&
        new Set(failures.map((f) => f.conversation)).size === 4,
    );
    await first.stop();
    await store1.close();
    expect(first.stats().pending).toBe(events.length - 2);

    c.mode = () => 200;
    const store2 = await LocalQueueStore.open(dir);
    cleanup.push(() => store2.close());
    const second = new LocalEventForwarder({
      url: c.url,
      apiKey: KEY,
      backoff: FAST,
      journal: store2.journal('pagewire-forwards'),
    });
    expect(await second.restore()).toEqual({ pending: events.length - 2 });
    second.start();
    cleanup.push(() => second.stop());
    await second.idle();

    const ids = c.accepted.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length); // none twice
    expect(ids.sort()).toEqual(events.map((e) => e.id).sort()); // none lost
    expect(byConversation(c.accepted)).toEqual(byConversation(events));
    // And the journal is empty: a third start sends nothing.
    await second.stop();
    const third = new LocalEventForwarder({ url: c.url, journal: store2.journal('pagewire-forwards') });
    expect(await third.restore()).toEqual({ pending: 0 });
  });

  it('enqueue resolves only once on disk: a crash right after loses nothing', async () => {
    const c = await consumer(() => 500);
    cleanup.push(() => c.close());
    const store1 = await LocalQueueStore.open(dir);
    const first = new LocalEventForwarder({
      url: c.url,
      backoff: FAST,
      journal: store1.journal('pagewire-forwards'),
    });
    await first.restore();
    const events = conversationEvents(2);
    await first.enqueue(events); // never started: nothing sent, then the "process" ends
    await store1.close();

    const store2 = await LocalQueueStore.open(dir);
    cleanup.push(() => store2.close());
    const second = new LocalEventForwarder({ url: c.url, journal: store2.journal('pagewire-forwards') });
    expect(await second.restore()).toEqual({ pending: events.length });
  });

  it('a publish whose write fails rejects and reaches neither the forwarder nor the tail log', async () => {
    const store = await LocalQueueStore.open(dir);
    const forwarder = new LocalEventForwarder({
      url: 'http://127.0.0.1:9/never',
      journal: store.journal('pagewire-forwards'),
    });
    await forwarder.restore();
    const publisher = new LocalEventPublisher(new LocalEventLog(), forwarder);
    await store.close();
    await expect(publisher.publish([event('p1', 'u1', 1)], NO_DEADLINE)).rejects.toThrow(/closed/);
    expect(publisher.stats()).toEqual({ pending: 0, failed: 0 });
    expect((await publisher.log.read()).events).toEqual([]);
  });
});

describe('the local event log (tail)', () => {
  it('reads after a cursor, filters by page, and a long poll wakes on the next event', async () => {
    const log = new LocalEventLog();
    const publisher = new LocalEventPublisher(log);
    const a = event('p1', 'u1', 1);
    const b = event('p2', 'u1', 1);
    await publisher.publish([a, b], NO_DEADLINE);
    const all = await log.read();
    expect(all.events).toEqual([a, b]);
    expect(await log.read({ after: all.cursor })).toEqual({ events: [], cursor: all.cursor });
    expect((await log.read({ pageId: 'p2' })).events).toEqual([b]);

    const waiting = log.read({ after: all.cursor, pageId: 'p1', waitMs: 60_000 });
    await publisher.publish([event('p2', 'u9', 1)], NO_DEADLINE); // another page: keeps waiting
    const c = event('p1', 'u2', 1);
    await publisher.publish([c], NO_DEADLINE);
    const next = await waiting;
    expect(next.events).toEqual([c]);
    expect((await log.read({ after: next.cursor })).events).toEqual([]);
  });

  it('keeps only the last `capacity` events; a cursor of another process reads from the start', async () => {
    const log = new LocalEventLog(3);
    const events = [1, 2, 3, 4, 5].map((i) => event('p1', 'u1', i));
    log.append(events);
    expect((await log.read()).events).toEqual(events.slice(2));
    expect((await log.read({ after: 'ffffffff.2' })).events).toEqual(events.slice(2));
    expect((await log.read({ limit: 1 })).events).toEqual(events.slice(4));
  });

  it('close() answers a waiting read at once', async () => {
    const log = new LocalEventLog();
    const waiting = log.read({ waitMs: 60_000 });
    log.close();
    expect((await waiting).events).toEqual([]);
  });
});
