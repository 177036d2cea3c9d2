import { createHash, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MAX_SQS_PAYLOAD_BYTES } from '../functions/commons/aws/sqs-event-queue.js';
import type { EventQueue } from '../functions/commons/ports.js';
import type { QueueMessage } from '../functions/commons/webhook/queued-event.js';

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
}

export interface DeadLetter {
  groupId: string;
  dedupId: string;
  body: string;
  receiveCount: number;
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

const MAX_ID_LENGTH = 128;
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
  messageId: string;
  dedupId: string;
  body: string;
  md5: string;
  sequenceNumber: string;
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
 */
export class LocalFifoQueue implements EventQueue {
  private readonly handler: SqsBatchHandler;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly visibilityTimeoutMs: number;
  private readonly maxReceiveCount: number;
  private readonly dedupWindowMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly arn: string;

  private readonly groups = new Map<string, Group>();
  /** Groups with visible messages and nothing in flight, served round robin. */
  private readonly ready = new Fifo<Group>();
  /** Dedup key → expiry. Insertion order is expiry order, so expired keys are evicted from the front. */
  private readonly seen = new Map<string, number>();
  private readonly hidden = new Map<Group, NodeJS.Timeout>();
  private readonly batches = new Set<Promise<void>>();
  private readonly dead: DeadLetter[] = [];
  private idleWaiters: (() => void)[] = [];

  private running = false;
  private wakeTimer: NodeJS.Immediate | undefined;
  private sequence = 0n;
  private pendingCount = 0;
  private inFlightCount = 0;
  private deliveredCount = 0;

  constructor(opts: LocalFifoQueueOptions) {
    this.handler = opts.handler;
    this.batchSize = Math.min(10, Math.max(1, opts.batchSize ?? 10));
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.visibilityTimeoutMs = opts.visibilityTimeoutMs ?? 30_000;
    this.maxReceiveCount = Math.max(1, opts.maxReceiveCount ?? 5);
    this.dedupWindowMs = opts.dedupWindowMs ?? 300_000;
    this.onError = opts.onError ?? ((err) => console.error(`[queue ${opts.name}] batch failed:`, err));
    this.arn = `arn:aws:sqs:local:${ACCOUNT}:${opts.name}`;
  }

  async send(messages: QueueMessage[]): Promise<void> {
    // Check all first, as SQS would refuse them, so that nothing of a bad call is accepted.
    messages.forEach(checkMessage);
    const now = Date.now();
    this.evictExpired(now);
    for (const message of messages) this.accept(message, now);
    this.wake();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  /** Stops delivering and waits for the batches in flight. Invisible messages become visible. */
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

  deadLetters(): DeadLetter[] {
    return this.dead.map((letter) => ({ ...letter }));
  }

  /** Resolves once nothing is pending or in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private accept(message: QueueMessage, now: number): void {
    // DeduplicationScope=messageGroup: the same dedup id in another group is another message.
    const key = `${message.groupId}\u0000${message.dedupId}`;
    if (this.seen.has(key)) return;
    this.seen.set(key, now + this.dedupWindowMs);
    const group = this.groupOf(message.groupId);
    group.fresh.push({
      group,
      messageId: randomUUID(),
      dedupId: message.dedupId,
      body: message.body,
      md5: createHash('md5').update(message.body, 'utf8').digest('hex'),
      sequenceNumber: (++this.sequence).toString().padStart(20, '0'),
      sentAt: now,
      receiveCount: 0,
      firstReceivedAt: 0,
    });
    this.pendingCount++;
    if (group.state === 'idle') this.markReady(group);
  }

  private evictExpired(now: number): void {
    for (const [key, expiresAt] of this.seen) {
      if (expiresAt > now) return;
      this.seen.delete(key);
    }
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
      this.dispatch(this.takeBatch());
    }
  }

  /** Whole groups, in order, until the batch is full; each group taken is busy until settled. */
  private takeBatch(): StoredMessage[] {
    const batch: StoredMessage[] = [];
    while (batch.length < this.batchSize && this.ready.length > 0) {
      const group = this.ready.shift() as Group;
      group.state = 'busy';
      while (batch.length < this.batchSize) {
        const message = group.retry.shift() ?? group.fresh.shift();
        if (!message) break;
        batch.push(message);
      }
    }
    return batch;
  }

  private dispatch(batch: StoredMessage[]): void {
    this.pendingCount -= batch.length;
    this.inFlightCount += batch.length;
    const now = Date.now();
    const records = batch.map((message) => this.receive(message, now));
    const done = this.invoke(records).then((failures) => this.settle(batch, failures));
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
        SequenceNumber: message.sequenceNumber,
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
    for (const message of batch) {
      const retry = retries.get(message.group) ?? [];
      retries.set(message.group, retry);
      if (failures !== ALL_FAILED && !failures.has(message.messageId)) this.deliveredCount++;
      else if (message.receiveCount >= this.maxReceiveCount) this.bury(message);
      else retry.push(message);
    }
    for (const [group, retry] of retries) this.retryLater(group, retry);
    this.notifyIdle();
    this.wake();
  }

  private bury(message: StoredMessage): void {
    const { group, dedupId, body, receiveCount } = message;
    this.dead.push({ groupId: group.id, dedupId, body, receiveCount });
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

function checkMessage(message: QueueMessage, index: number): void {
  for (const [field, value] of [
    ['groupId', message.groupId],
    ['dedupId', message.dedupId],
  ] as const) {
    if (!value || value.length > MAX_ID_LENGTH) {
      throw new Error(`Message ${index}: ${field} must be 1 to ${MAX_ID_LENGTH} characters`);
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
