import { createHash, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  MAX_RECEIVE_COUNT,
  SQS_MAX_PAYLOAD_BYTES as MAX_SQS_PAYLOAD_BYTES,
  SQS_ID_MAX,
} from '#contracts/limits';
import type { QueueMessage } from '#contracts/queue';
import type { EventQueue } from '#ports/ports';
import type { PersistedDeadLetter, PersistedMessage, QueueChanges, QueueJournal } from './queue-store.js';

/** The processor's handler, typed as Lambda's `SQSHandler` answers (void when nothing failed). */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers typed as aws-lambda's SQSHandler return void.
export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined | void>;

export interface LocalFifoQueueOptions {
  name: string;
  handler: SqsBatchHandler;
  /** Records per handler call, at most 10 as for Lambda on FIFO (default 10). */
  batchSize?: number;
  /** Batches in flight at once (default 4). */
  concurrency?: number;
  /** How long failed records stay invisible before they are delivered again (default 30 s). */
  visibilityTimeoutMs?: number;
  /** Receives after which a record that fails again goes to the dead letters (default 5). */
  maxReceiveCount?: number;
  /** A (group, dedup id) pair seen within this window is accepted and dropped (default 5 min). */
  dedupWindowMs?: number;
  /** Told when the handler throws or answers nonsense; the batch is retried either way. */
  onError?: (err: unknown) => void;
  /**
   * Where the queue keeps its messages, dead letters and dedup keys (see queue-store.ts). With one,
   * `send()` resolves only once the messages are on disk, and `restore()` must run before anything
   * else; without one, everything lives in memory and is lost with the process.
   */
  journal?: QueueJournal;
}

export interface DeadLetter {
  messageId: string;
  groupId: string;
  dedupId: string;
  body: string;
  receiveCount: number;
  sentAt: number;
  deadAt: number;
}

/** What `restore()` found on disk. */
export interface RestoreSummary {
  pending: number;
  /** Of the pending, those received before: in flight when the last process ended. */
  redelivered: number;
  deadLetters: number;
}

export interface LocalFifoQueueStats {
  /** Messages waiting, visible or not. */
  pending: number;
  /** Messages in a batch the handler is working on. */
  inFlight: number;
  deadLetters: number;
  /** Messages the handler has processed (deleted from the queue). */
  delivered: number;
}

const ACCOUNT = '000000000000';

/** A queue without O(n) `shift()`: reads advance a head index, the array is compacted now and then. */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

interface Group {
  id: string;
  /** Failed messages waiting to be delivered again; they come before `fresh`. */
  retry: StoredMessage[];
  fresh: Fifo<StoredMessage>;
  /** idle: nothing to do or not yet queued; ready: in the ready queue; busy: in flight or invisible. */
  state: 'idle' | 'ready' | 'busy';
}

interface StoredMessage {
  group: Group;
  seq: number;
  messageId: string;
  dedupId: string;
  body: string;
  md5: string;
  sentAt: number;
  receiveCount: number;
  firstReceivedAt: number;
}

/** Every record of the batch failed: the handler threw or its answer could not be trusted. */
const ALL_FAILED = 'all';
type Failures = Set<string> | typeof ALL_FAILED;

/**
 * An in-process SQS FIFO queue with its Lambda event source mapping, for the local stack. It keeps
 * what the processor relies on from AWS: order within a message group, one batch per group at a
 * time, deduplication per group within a window, partial batch failures, visibility timeout,
 * receive counts and dead letters. Work per operation is O(1) or O(batch).
 *
 * With a journal it is durable: a send resolves once its messages are on disk; receive counts are
 * written before the handler sees a record; a processed message is deleted from disk, a message that
 * fails too often moves to the dead letters on disk. After a crash, `restore()` brings back every
 * message not yet processed, in order per group (those in flight are delivered again with their
 * counts kept, as SQS does after a visibility timeout), the dead letters and the dedup window.
 * Any local queue can use it: events, page commands, and later forwards and media copies.
 */
export class LocalFifoQueue implements EventQueue {
  private readonly name: string;
  private readonly handler: SqsBatchHandler;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly visibilityTimeoutMs: number;
  private readonly maxReceiveCount: number;
  private readonly dedupWindowMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly arn: string;
  private readonly journal: QueueJournal | undefined;

  private readonly groups = new Map<string, Group>();
  /** Groups with visible messages and nothing in flight, served round robin. */
  private readonly ready = new Fifo<Group>();
  /** Dedup key → expiry. Insertion order is expiry order, so expired keys are evicted from the front. */
  private readonly seen = new Map<string, number>();
  /** Dedup keys whose send is still being written: a duplicate must not succeed before it does. */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly hidden = new Map<Group, NodeJS.Timeout>();
  private readonly batches = new Set<Promise<void>>();
  private readonly dead: DeadLetter[] = [];
  /** Sequence numbers of the dead letters, for the journal (parallel to `dead`). */
  private readonly deadSeqs = new WeakMap<DeadLetter, number>();
  private idleWaiters: (() => void)[] = [];

  private running = false;
  private restored: boolean;
  private wakeTimer: NodeJS.Immediate | undefined;
  private sequence = 0;
  private pendingCount = 0;
  private inFlightCount = 0;
  private deliveredCount = 0;

  constructor(opts: LocalFifoQueueOptions) {
    this.name = opts.name;
    this.handler = opts.handler;
    this.batchSize = Math.min(10, Math.max(1, opts.batchSize ?? 10));
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.visibilityTimeoutMs = opts.visibilityTimeoutMs ?? 30_000;
    this.maxReceiveCount = Math.max(1, opts.maxReceiveCount ?? MAX_RECEIVE_COUNT);
    this.dedupWindowMs = opts.dedupWindowMs ?? 300_000;
    this.onError = opts.onError ?? ((err) => console.error(`[queue ${opts.name}] batch failed:`, err));
    this.arn = `arn:aws:sqs:local:${ACCOUNT}:${opts.name}`;
    this.journal = opts.journal;
    this.restored = this.journal === undefined;
  }

  /**
   * Loads what the journal holds from the last run: call once, before `send()` and `start()`. Messages
   * come back in send order per group, those in flight when the process ended first in their group.
   */
  async restore(): Promise<RestoreSummary> {
    if (!this.journal) throw new Error(`queue ${this.name} has no journal to restore from`);
    if (this.restored) throw new Error(`queue ${this.name} is already restored`);
    const snapshot = await this.journal.load();
    const now = Date.now();
    this.sequence = snapshot.sequence;
    for (const [key, expiresAt] of snapshot.dedup) if (expiresAt > now) this.seen.set(key, expiresAt);
    const expired = snapshot.dedup.filter(([, expiresAt]) => expiresAt <= now).map(([key]) => key);
    if (expired.length) await this.journal.write({ dedupExpired: expired });
    for (const { groupId, ...m } of snapshot.messages) {
      this.enqueue({ ...m, group: this.groupOf(groupId), md5: md5(m.body) });
    }
    for (const d of snapshot.deadLetters) this.addDeadLetter(deadLetterOf(d), d.seq);
    this.restored = true;
    return {
      pending: snapshot.messages.length,
      redelivered: snapshot.messages.filter((m) => m.receiveCount > 0).length,
      deadLetters: snapshot.deadLetters.length,
    };
  }

  /**
   * Queues the messages. With a journal, resolves once they are on disk, and rejects (accepting none of
   * them) when they cannot be written; a duplicate of a message still being written waits for it.
   */
  async send(messages: QueueMessage[]): Promise<void> {
    // Check all first, as SQS would refuse them, so that nothing of a bad call is accepted.
    messages.forEach(checkMessage);
    if (!this.restored) throw new Error(`queue ${this.name}: restore() must run before send()`);
    const now = Date.now();
    const dedupExpired = this.evictExpired(now);
    const accepted: StoredMessage[] = [];
    const dedup: Array<[string, number]> = [];
    const duplicatesBeingWritten = new Set<Promise<void>>();
    for (const message of messages) {
      // DeduplicationScope=messageGroup: the same dedup id in another group is another message.
      const key = `${message.groupId}\u0000${message.dedupId}`;
      if (this.seen.has(key)) {
        const written = this.writing.get(key);
        if (written) duplicatesBeingWritten.add(written);
        continue;
      }
      const expiresAt = now + this.dedupWindowMs;
      this.seen.set(key, expiresAt);
      dedup.push([key, expiresAt]);
      accepted.push(this.newMessage(message, now));
    }
    if (this.journal && (accepted.length > 0 || dedupExpired.length > 0)) {
      const written = this.journal.write({
        sent: accepted.map(persisted),
        sequence: this.sequence,
        dedup,
        dedupExpired,
      });
      for (const [key] of dedup) this.writing.set(key, written);
      try {
        await written;
      } catch (err) {
        for (const [key] of dedup) this.seen.delete(key);
        throw err;
      } finally {
        for (const [key] of dedup) if (this.writing.get(key) === written) this.writing.delete(key);
      }
    }
    // Writes resolve in the order they were asked for, so messages join their groups in send order.
    for (const message of accepted) this.enqueue(message);
    this.wake();
    await Promise.all(duplicatesBeingWritten);
  }

  start(): void {
    if (this.running) return;
    if (!this.restored) throw new Error(`queue ${this.name}: restore() must run before start()`);
    this.running = true;
    this.wake();
  }

  /**
   * Stops delivering and waits for the batches in flight. Invisible messages become visible. With a
   * journal, everything not processed stays on disk for the next start.
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.wakeTimer) clearImmediate(this.wakeTimer);
    this.wakeTimer = undefined;
    while (this.batches.size > 0) await Promise.all(this.batches);
    for (const [group, timer] of this.hidden) {
      clearTimeout(timer);
      this.reveal(group);
    }
  }

  stats(): LocalFifoQueueStats {
    return {
      pending: this.pendingCount,
      inFlight: this.inFlightCount,
      deadLetters: this.dead.length,
      delivered: this.deliveredCount,
    };
  }

  /** The dead letters, oldest first. */
  deadLetters(): DeadLetter[] {
    return this.dead.map((letter) => ({ ...letter }));
  }

  /**
   * Moves every dead letter back to the end of its group, as new messages (new id, no receives, past
   * the dedup window, as an SQS redrive does). Resolves how many moved, once that is on disk.
   */
  async redrive(): Promise<number> {
    if (!this.restored) throw new Error(`queue ${this.name}: restore() must run before redrive()`);
    // Taken out at once, so a second redrive meanwhile cannot move the same letters again.
    const letters = this.dead.splice(0, this.dead.length);
    if (letters.length === 0) return 0;
    const now = Date.now();
    const messages = letters.map((letter) => this.newMessage(letter, now));
    try {
      await this.journal?.write({
        unburied: letters.map((letter) => this.deadSeqs.get(letter) as number),
        sent: messages.map(persisted),
        sequence: this.sequence,
      });
    } catch (err) {
      this.dead.unshift(...letters);
      throw err;
    }
    for (const message of messages) this.enqueue(message);
    this.wake();
    return letters.length;
  }

  /** Resolves once nothing is pending or in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private newMessage(message: QueueMessage, now: number): StoredMessage {
    return {
      group: this.groupOf(message.groupId),
      seq: ++this.sequence,
      messageId: randomUUID(),
      dedupId: message.dedupId,
      body: message.body,
      md5: md5(message.body),
      sentAt: now,
      receiveCount: 0,
      firstReceivedAt: 0,
    };
  }

  private enqueue(message: StoredMessage): void {
    const group = message.group;
    // The group may have been forgotten while the message was being written.
    if (this.groups.get(group.id) !== group) this.groups.set(group.id, group);
    group.fresh.push(message);
    this.pendingCount++;
    if (group.state === 'idle') this.markReady(group);
  }

  /** Forgets expired dedup keys; answers them, for the journal. */
  private evictExpired(now: number): string[] {
    const expired: string[] = [];
    for (const [key, expiresAt] of this.seen) {
      if (expiresAt > now) break;
      this.seen.delete(key);
      expired.push(key);
    }
    return expired;
  }

  private groupOf(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group) {
      group = { id: groupId, retry: [], fresh: new Fifo(), state: 'idle' };
      this.groups.set(groupId, group);
    }
    return group;
  }

  private markReady(group: Group): void {
    group.state = 'ready';
    this.ready.push(group);
  }

  /** Schedules one delivery round; many sends in one tick share it. */
  private wake(): void {
    if (!this.running || this.wakeTimer) return;
    this.wakeTimer = setImmediate(() => {
      this.wakeTimer = undefined;
      this.deliver();
    });
  }

  private deliver(): void {
    while (this.running && this.batches.size < this.concurrency && this.ready.length > 0) {
      const batch = this.takeBatch();
      if (batch.length > 0) this.dispatch(batch);
    }
    this.notifyIdle();
  }

  /**
   * Whole groups, in order, until the batch is full; each group taken is busy until settled. A message
   * already received `maxReceiveCount` times (the process ended during its last attempt) goes to the
   * dead letters instead, as SQS moves it on its next receive.
   */
  private takeBatch(): StoredMessage[] {
    const batch: StoredMessage[] = [];
    const buried: StoredMessage[] = [];
    const taken: Group[] = [];
    while (batch.length < this.batchSize && this.ready.length > 0) {
      const group = this.ready.shift() as Group;
      group.state = 'busy';
      taken.push(group);
      while (batch.length < this.batchSize) {
        const message = group.retry.shift() ?? group.fresh.shift();
        if (!message) break;
        if (message.receiveCount >= this.maxReceiveCount) buried.push(message);
        else batch.push(message);
      }
    }
    if (buried.length > 0) {
      this.pendingCount -= buried.length;
      this.bury(buried);
      // A group left with nothing to deliver is not in the batch: let it go again.
      const inBatch = new Set(batch.map((message) => message.group));
      for (const group of taken) if (!inBatch.has(group)) this.release(group);
    }
    return batch;
  }

  private dispatch(batch: StoredMessage[]): void {
    this.pendingCount -= batch.length;
    this.inFlightCount += batch.length;
    const now = Date.now();
    const records = batch.map((message) => this.receive(message, now));
    // The receive counts reach the disk before the handler sees the records, so a message that keeps
    // killing the process still runs out of receives.
    const received = this.journal ? this.persist({ received: batch.map(persisted) }) : Promise.resolve();
    const done = received.then(() => this.invoke(records)).then((failures) => this.settle(batch, failures));
    this.batches.add(done);
    void done.finally(() => this.batches.delete(done));
  }

  private receive(message: StoredMessage, now: number): SQSRecord {
    message.receiveCount++;
    if (message.receiveCount === 1) message.firstReceivedAt = now;
    return {
      messageId: message.messageId,
      receiptHandle: randomUUID(),
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: ACCOUNT,
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
        SequenceNumber: String(message.seq).padStart(20, '0'),
        MessageGroupId: message.group.id,
        MessageDeduplicationId: message.dedupId,
      },
      messageAttributes: {},
      md5OfBody: message.md5,
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: 'local',
    };
  }

  private async invoke(records: SQSRecord[]): Promise<Failures> {
    try {
      const response = (await this.handler({ Records: records })) ?? undefined;
      return failuresOf(response, records);
    } catch (err) {
      this.onError(err);
      return ALL_FAILED;
    }
  }

  /**
   * Deletes what succeeded, even behind a failure of the same group, as SQS does. Failed messages
   * go back to the head of their group, which stays blocked until they are visible again.
   */
  private settle(batch: StoredMessage[], failures: Failures): void {
    this.inFlightCount -= batch.length;
    const retries = new Map<Group, StoredMessage[]>();
    const deleted: StoredMessage[] = [];
    const buried: StoredMessage[] = [];
    for (const message of batch) {
      const retry = retries.get(message.group) ?? [];
      retries.set(message.group, retry);
      if (failures !== ALL_FAILED && !failures.has(message.messageId)) deleted.push(message);
      else if (message.receiveCount >= this.maxReceiveCount) buried.push(message);
      else retry.push(message);
    }
    this.deliveredCount += deleted.length;
    // Not awaited: a delete that does not reach the disk only means the message is delivered again
    // after a restart, which the consumers take (exactly-once effect per mid).
    if (this.journal && deleted.length > 0) void this.persist({ deleted: deleted.map((m) => m.seq) });
    if (buried.length > 0) this.bury(buried);
    for (const [group, retry] of retries) this.retryLater(group, retry);
    this.notifyIdle();
    this.wake();
  }

  private bury(messages: StoredMessage[]): void {
    const deadAt = Date.now();
    const letters = messages.map((message) => {
      const letter: DeadLetter = {
        messageId: message.messageId,
        groupId: message.group.id,
        dedupId: message.dedupId,
        body: message.body,
        receiveCount: message.receiveCount,
        sentAt: message.sentAt,
        deadAt,
      };
      this.addDeadLetter(letter, message.seq);
      return { ...persisted(message), deadAt };
    });
    if (this.journal) void this.persist({ buried: letters });
  }

  private addDeadLetter(letter: DeadLetter, seq: number): void {
    this.dead.push(letter);
    this.deadSeqs.set(letter, seq);
  }

  /** Writes a change no caller waits for; a failure is reported, never thrown. */
  private persist(changes: QueueChanges): Promise<void> {
    return (this.journal as QueueJournal).write(changes).catch((err: Error) => {
      this.onError(new Error(`queue ${this.name}: could not write to its journal: ${err.message}`));
    });
  }

  private retryLater(group: Group, retry: StoredMessage[]): void {
    if (retry.length === 0) {
      this.release(group);
      return;
    }
    // The messages the batch did not take (only ever retries) still come after these.
    group.retry = retry.concat(group.retry);
    this.pendingCount += retry.length;
    const timer = setTimeout(() => {
      this.reveal(group);
      this.wake();
    }, this.visibilityTimeoutMs);
    this.hidden.set(group, timer);
  }

  private reveal(group: Group): void {
    this.hidden.delete(group);
    this.release(group);
  }

  /** The group has nothing in flight or invisible any more: queue it again, or forget it if empty. */
  private release(group: Group): void {
    group.state = 'idle';
    if (group.retry.length > 0 || group.fresh.length > 0) this.markReady(group);
    else this.groups.delete(group.id);
  }

  private isIdle(): boolean {
    return this.pendingCount === 0 && this.inFlightCount === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function md5(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

function persisted(message: StoredMessage): PersistedMessage {
  return {
    seq: message.seq,
    messageId: message.messageId,
    groupId: message.group.id,
    dedupId: message.dedupId,
    body: message.body,
    sentAt: message.sentAt,
    receiveCount: message.receiveCount,
    firstReceivedAt: message.firstReceivedAt,
  };
}

function deadLetterOf(d: PersistedDeadLetter): DeadLetter {
  const { messageId, groupId, dedupId, body, receiveCount, sentAt, deadAt } = d;
  return { messageId, groupId, dedupId, body, receiveCount, sentAt, deadAt };
}

function checkMessage(message: QueueMessage, index: number): void {
  for (const [field, value] of [
    ['groupId', message.groupId],
    ['dedupId', message.dedupId],
  ] as const) {
    if (!value || value.length > SQS_ID_MAX) {
      throw new Error(`Message ${index}: ${field} must be 1 to ${SQS_ID_MAX} characters`);
    }
  }
  const bytes = Buffer.byteLength(message.body, 'utf8');
  if (bytes === 0 || bytes > MAX_SQS_PAYLOAD_BYTES) {
    throw new Error(`Message ${index}: body is ${bytes} bytes; SQS accepts 1 to ${MAX_SQS_PAYLOAD_BYTES}`);
  }
  // SQS accepts #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF (InvalidMessageContents).
  if (!SQS_BODY.test(message.body)) throw new Error(`Message ${index}: body holds characters SQS refuses`);
}

const SQS_BODY = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/**
 * The failed message ids of a handler's answer. Like Lambda, an identifier that names no record of
 * the batch makes the whole batch count as failed.
 */
function failuresOf(response: SQSBatchResponse | undefined, records: SQSRecord[]): Failures {
  const failures = new Set<string>();
  if (!response?.batchItemFailures) return failures;
  const ids = new Set(records.map((record) => record.messageId));
  for (const { itemIdentifier } of response.batchItemFailures) {
    if (!ids.has(itemIdentifier)) {
      throw new Error(`batchItemFailures names ${JSON.stringify(itemIdentifier)}, not a record of the batch`);
    }
    failures.add(itemIdentifier);
  }
  return failures;
}
