import type { PublicEvent } from '#contracts/public-event';
import { conversationGroupId } from '#contracts/queue';
import type { EventPublisher } from '#ports/event-publisher';
import { type Backoff, backoffMs } from '#runtime/backoff';
import type { Deadline } from '#runtime/deadline';
import { LocalEventLog } from './event-log.js';
import type { PersistedMessage, QueueJournal } from './queue-store.js';

/**
 * Local delivery of the public events (SPEC §8, `FORWARD_URL`): every event is POSTed as JSON to the
 * consumer, with `x-pagewire-key: FORWARD_API_KEY` when a key is set.
 *
 * - Durable: `enqueue()` resolves once the events are in the journal (queue-store.ts, the same LevelDB
 *   as the local queues); a delivered event is deleted from it. After a restart `restore()` brings back
 *   every event not delivered, in order.
 * - In order per conversation (`pageId:userId`; page events per `pageId`): the next event of a
 *   conversation is sent only once the one before was accepted (2xx).
 * - Never skipped: any failure (connection refused, timeout, any non-2xx, 4xx included) is retried
 *   with capped exponential back-off, for ever. A consumer that keeps refusing one event blocks only
 *   that conversation: the others go on (up to `concurrency` conversations are sent at once).
 * - At least once: an event whose answer was lost (or in flight at a stop) is sent again with the same
 *   `id`; consumers dedupe on it. An event published again while still pending is not queued twice.
 */
export interface ForwarderOptions {
  url: string;
  apiKey?: string;
  /** Without one, pending events live in memory (`MEMORY=1`) and are lost with the process. */
  journal?: QueueJournal;
  /** Conversations sent to at once (default 4). */
  concurrency?: number;
  /** Between failed attempts of one conversation (default 0.5 s doubling to 5 min, full jitter). */
  backoff?: Backoff;
  /** One POST's limit (default 10 s); a POST that takes longer counts as failed. */
  timeoutMs?: number;
  /** Told of each failed attempt; never given the key. */
  onFailure?: (failure: ForwardFailure) => void;
  fetch?: typeof fetch;
}

export interface ForwardFailure {
  eventId: string;
  conversation: string;
  attempt: number;
  /** `HTTP 500` or the network error's code. */
  reason: string;
  retryInMs: number;
}

export interface ForwardStats {
  /** Events not yet accepted by the consumer (in flight included). */
  pending: number;
  /** Of those, the events whose last attempt failed, waiting for their retry (one per stuck conversation). */
  failed: number;
}

const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 300_000, jitter: 'full' };

interface Pending {
  seq: number;
  event: PublicEvent;
  body: string;
  sentAt: number;
}

interface Conversation {
  key: string;
  queue: Pending[];
  attempts: number;
  /** idle: nothing to send; ready: waiting for a sending slot; busy: sending or backing off. */
  state: 'idle' | 'ready' | 'busy';
  timer?: NodeJS.Timeout;
}

/** The FIFO group of an event: its conversation, or its page for page events. */
export function conversationOf(event: Pick<PublicEvent, 'pageId' | 'userId'>): string {
  return event.userId === undefined ? event.pageId : conversationGroupId(event.pageId, event.userId);
}

export class LocalEventForwarder {
  private readonly conversations = new Map<string, Conversation>();
  private readonly ready: Conversation[] = [];
  private readonly pendingIds = new Set<string>();
  private readonly writing = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly concurrency: number;
  private readonly backoff: Backoff;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private stopping = new AbortController();
  private restored: boolean;
  private running = false;
  private sequence = 0;
  private pendingCount = 0;
  private failedCount = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: ForwarderOptions) {
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetch = opts.fetch ?? fetch;
    this.restored = opts.journal === undefined;
  }

  /** Brings back the events not delivered by the last process; call once, before anything else. */
  async restore(): Promise<{ pending: number }> {
    if (!this.opts.journal) throw new Error('the forwarder has no journal to restore from');
    if (this.restored) throw new Error('the forwarder is already restored');
    const snapshot = await this.opts.journal.load();
    this.sequence = snapshot.sequence;
    // Dead letters are never written by the forwarder (it never gives up); any there are sent again.
    const all = [...snapshot.messages, ...snapshot.deadLetters].sort((a, b) => a.seq - b.seq);
    for (const message of all) this.add(message.seq, eventOf(message), message.body);
    if (snapshot.deadLetters.length > 0) {
      await this.opts.journal.write({ unburied: snapshot.deadLetters.map((d) => d.seq) });
    }
    this.restored = true;
    return { pending: all.length };
  }

  /** Queues the events; resolves once they are on disk (with a journal), rejects accepting none. */
  async enqueue(events: readonly PublicEvent[]): Promise<void> {
    if (!this.restored) throw new Error('the forwarder: restore() must run before enqueue()');
    // Published again while still pending (a redelivered record): the pending one stands for it.
    // A duplicate still being written is accepted once that write is.
    const beingWritten = new Set<Promise<void>>();
    const fresh: PublicEvent[] = [];
    for (const event of dedupe(events)) {
      const written = this.writing.get(event.id);
      if (written) beingWritten.add(written);
      else if (!this.pendingIds.has(event.id)) fresh.push(event);
    }
    if (fresh.length > 0) await this.write(fresh);
    await Promise.all(beingWritten);
  }

  private async write(events: PublicEvent[]): Promise<void> {
    const now = Date.now();
    const items = events.map((event) => ({ seq: ++this.sequence, event, body: JSON.stringify(event) }));
    const written = Promise.resolve(
      this.opts.journal?.write({
        sent: items.map(({ seq, event, body }) => persisted(seq, event, body, now)),
        sequence: this.sequence,
      }),
    );
    for (const { event } of items) this.writing.set(event.id, written);
    try {
      await written;
    } finally {
      for (const { event } of items) this.writing.delete(event.id);
    }
    // Writes resolve in the order they were asked for, so events join their conversations in order.
    for (const { seq, event, body } of items) this.add(seq, event, body, now);
    this.pump();
  }

  start(): void {
    if (!this.restored) throw new Error('the forwarder: restore() must run before start()');
    if (this.running) return;
    this.running = true;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    this.pump();
  }

  /** Stops sending: POSTs in flight are cut (their events stay pending), retries are cancelled. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    for (const conversation of this.conversations.values()) {
      if (!conversation.timer) continue;
      clearTimeout(conversation.timer);
      conversation.timer = undefined;
      this.markReady(conversation);
    }
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  stats(): ForwardStats {
    return { pending: this.pendingCount, failed: this.failedCount };
  }

  /** Resolves once nothing is pending (every event accepted by the consumer). */
  idle(): Promise<void> {
    if (this.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private add(seq: number, event: PublicEvent, body: string, sentAt = Date.now()): void {
    const key = conversationOf(event);
    let conversation = this.conversations.get(key);
    if (!conversation) {
      conversation = { key, queue: [], attempts: 0, state: 'idle' };
      this.conversations.set(key, conversation);
    }
    conversation.queue.push({ seq, event, body, sentAt });
    this.pendingIds.add(event.id);
    this.pendingCount++;
    if (conversation.state === 'idle') this.markReady(conversation);
  }

  private markReady(conversation: Conversation): void {
    conversation.state = 'ready';
    this.ready.push(conversation);
  }

  private pump(): void {
    while (this.running && this.inFlight.size < this.concurrency) {
      const conversation = this.ready.shift();
      if (!conversation) return;
      conversation.state = 'busy';
      const sending = this.sendHead(conversation);
      this.inFlight.add(sending);
      void sending.finally(() => {
        this.inFlight.delete(sending);
        this.pump();
      });
    }
  }

  private async sendHead(conversation: Conversation): Promise<void> {
    const head = conversation.queue[0];
    if (!head) return this.release(conversation);
    const outcome = await this.post(head);
    if (outcome === 'accepted') {
      await this.delivered(conversation, head);
      return this.release(conversation);
    }
    if (!this.running) {
      // Stopping: the event stays pending, first in line at the next start (or after the restart).
      this.markReady(conversation);
      return;
    }
    if (conversation.attempts === 0) this.failedCount++;
    conversation.attempts++;
    const retryInMs = backoffMs(conversation.attempts, this.backoff);
    this.opts.onFailure?.({
      eventId: head.event.id,
      conversation: conversation.key,
      attempt: conversation.attempts,
      reason: outcome.reason,
      retryInMs: Math.round(retryInMs),
    });
    conversation.timer = setTimeout(() => {
      conversation.timer = undefined;
      this.markReady(conversation);
      this.pump();
    }, retryInMs);
    conversation.timer.unref();
  }

  private async delivered(conversation: Conversation, head: Pending): Promise<void> {
    conversation.queue.shift();
    if (conversation.attempts > 0) this.failedCount--;
    conversation.attempts = 0;
    this.pendingIds.delete(head.event.id);
    this.pendingCount--;
    // Awaited so that a restart never sends an event of this conversation after a later one; a delete
    // that does not reach the disk only means the event is sent again after a restart (at least once).
    await this.opts.journal?.write({ deleted: [head.seq] }).catch(() => undefined);
    if (this.pendingCount === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private release(conversation: Conversation): void {
    if (conversation.queue.length > 0) this.markReady(conversation);
    else {
      conversation.state = 'idle';
      this.conversations.delete(conversation.key);
    }
  }

  private async post(item: Pending): Promise<'accepted' | { reason: string }> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'pagewire-forwarder',
    };
    if (this.opts.apiKey) headers['x-pagewire-key'] = this.opts.apiKey;
    try {
      const res = await this.fetch(this.opts.url, {
        method: 'POST',
        headers,
        body: item.body,
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.timeoutMs)]),
        redirect: 'manual',
      });
      // Read to the end so the connection goes back to the pool.
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? 'accepted' : { reason: `HTTP ${res.status}` };
    } catch (err) {
      return { reason: networkReason(err) };
    }
  }
}

/**
 * The local EventPublisher: `publish()` resolves once the events are durably queued for forwarding
 * (when `FORWARD_URL` is set) and in the tail log. The deadline is not needed: a local write takes
 * about a millisecond.
 */
export class LocalEventPublisher implements EventPublisher {
  constructor(
    readonly log: LocalEventLog = new LocalEventLog(),
    readonly forwarder?: LocalEventForwarder,
  ) {}

  async publish(events: readonly PublicEvent[], _deadline: Deadline): Promise<void> {
    if (events.length === 0) return;
    await this.forwarder?.enqueue(events);
    this.log.append(events);
  }

  /** `{pending, failed}` of the forwarding (zeros without `FORWARD_URL`). */
  stats(): ForwardStats {
    return this.forwarder?.stats() ?? { pending: 0, failed: 0 };
  }
}

/** A record that does not parse is a damaged folder: refuse to start rather than drop the event. */
function eventOf(message: PersistedMessage): PublicEvent {
  try {
    return JSON.parse(message.body) as PublicEvent;
  } catch {
    throw new Error(
      `the forwarding queue holds a damaged event (number ${message.seq}, id ${message.messageId})`,
    );
  }
}

function dedupe(events: readonly PublicEvent[]): PublicEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.id) && seen.add(e.id));
}

function persisted(seq: number, event: PublicEvent, body: string, sentAt: number): PersistedMessage {
  return {
    seq,
    messageId: event.id,
    groupId: conversationOf(event),
    dedupId: event.id,
    body,
    sentAt,
    receiveCount: 0,
    firstReceivedAt: 0,
  };
}

function networkReason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError') return 'timeout';
  if (e.name === 'AbortError') return 'stopped';
  return e.cause?.code ?? e.message;
}
