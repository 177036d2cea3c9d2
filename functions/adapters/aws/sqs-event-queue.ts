import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import pMap from 'p-map';
import { SQS_MAX_PAYLOAD_BYTES } from '#contracts/limits';
import type { QueueMessage } from '#contracts/queue';
import type { EventQueue } from '#ports/ports';
import { backoffMs, sleep } from '#runtime/backoff';

/** SQS's limit for one message and for the sum of a batch's payloads (1 MiB since 2025). */
export const MAX_SQS_PAYLOAD_BYTES = SQS_MAX_PAYLOAD_BYTES;
export const MAX_SQS_BATCH_ENTRIES = 10;
/**
 * SendMessageBatch calls in flight at once for one `send`. The SDK's node HTTP handler keeps at most 50
 * sockets per host by default: more calls would only wait for a socket (and make the SDK warn). 1,000
 * events are 100 batches, so two rounds of 50.
 */
export const MAX_BATCHES_IN_FLIGHT = 50;

/** The longest pause between two attempts of a batch (the verifier answers on Meta's clock). */
const MAX_BACKOFF_MS = 1_000;

/**
 * The SQS client options SqsEventQueue is meant for (`sqsClient()` builds the deployed client with them).
 * No MD5 of every message body: the SDK computes and compares one per entry in JavaScript, about half
 * the CPU of a SendMessageBatch call (1,000 events are 100 calls, on Meta's clock), while TLS already
 * protects the bytes on their way to SQS.
 */
export const SQS_CLIENT_CONFIG = { md5: false } as const;

/**
 * Some messages could not be queued. It carries counts and SQS error codes only: message bodies
 * hold user data and must not reach logs through an error.
 */
export class QueueSendError extends Error {
  override readonly name = 'QueueSendError';

  constructor(
    readonly total: number,
    readonly unsent: number,
    /** The distinct SQS error codes (or SDK error names) met. */
    readonly codes: string[],
  ) {
    super(`${unsent} of ${total} messages could not be queued (${codes.join(', ') || 'no code'})`);
  }
}

/** A message is bigger than SQS accepts; nothing of the call was sent. */
export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';

  constructor(
    readonly index: number,
    readonly bytes: number,
  ) {
    super(`Message ${index} is ${bytes} bytes; SQS accepts at most ${MAX_SQS_PAYLOAD_BYTES}`);
  }
}

export interface SqsEventQueueOptions {
  /** Attempts per batch, the first included (default 4). */
  maxAttempts?: number;
  /** Delay before the first retry, doubled on each further one (default 100 ms). */
  backoffMs?: number;
  /** Batches sent at once (default MAX_BATCHES_IN_FLIGHT). */
  concurrency?: number;
}

interface Outcome {
  unsent: number;
  codes: string[];
}

export class SqsEventQueue implements EventQueue {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly concurrency: number;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    opts: SqsEventQueueOptions = {},
  ) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
    this.backoffMs = opts.backoffMs ?? 100;
    this.concurrency = Math.max(1, opts.concurrency ?? MAX_BATCHES_IN_FLIGHT);
  }

  /**
   * Sends every message, batches in parallel (at most `concurrency` at once): a 1,000-event POST waits
   * for two rounds of calls instead of a hundred calls in a row (npm run bench: about 10× sooner).
   *
   * Parallel batches reach the queue in any order, and that stays correct:
   * - A conversation's messages stay in one batch whenever they fit (up to 10 and 1 MiB; see
   *   packBatches), and SQS FIFO keeps the order of the entries of one batch.
   * - A conversation with more messages in one call spans batches that may land in any order, as a
   *   retried entry always could, and as Meta's own deliveries do across POSTs. The processor does
   *   not depend on arrival order: the timeline's sort key is the event timestamp (ties by mid),
   *   watermarks and conversation times are conditional writes that only rise, reactions keep the
   *   newest by timestamp, and each mid is stored exactly once (conditional put). What it cannot do is
   *   apply a reaction (or a delivery without watermark) before the message it names exists: that one
   *   is skipped, as it already is when Meta delivers the two out of order in separate POSTs.
   */
  async send(messages: QueueMessage[]): Promise<void> {
    const sized = checkSizes(messages);
    const batches = packBatches(sized).map((batch) =>
      batch.map(({ message, index }) => toEntry(message, index)),
    );
    const outcomes = await pMap(batches, (batch) => this.sendBatch(batch), { concurrency: this.concurrency });
    const unsent = outcomes.reduce((sum, outcome) => sum + outcome.unsent, 0);
    const codes = new Set(outcomes.flatMap((outcome) => outcome.codes));
    if (unsent > 0) throw new QueueSendError(messages.length, unsent, [...codes]);
  }

  /** Sends one batch, retrying only the entries SQS reports as failed through no fault of ours. */
  private async sendBatch(batch: SendMessageBatchRequestEntry[]): Promise<Outcome> {
    let pending = batch;
    const givenUp: BatchResultErrorEntry[] = [];
    for (let attempt = 1; ; attempt++) {
      const failed = await this.sendEntries(pending);
      // A sender fault (bad id, bad value) fails the same way every time: not worth a retry.
      givenUp.push(...failed.filter((failure) => failure.SenderFault));
      const retryable = failed.filter((failure) => !failure.SenderFault);
      if (retryable.length === 0 || attempt >= this.maxAttempts) {
        const unsent = [...givenUp, ...retryable];
        return { unsent: unsent.length, codes: unsent.map((failure) => failure.Code ?? 'Unknown') };
      }
      const retryIds = new Set(retryable.map((failure) => failure.Id));
      pending = pending.filter((entry) => retryIds.has(entry.Id));
      await sleep(backoffMs(attempt, { baseMs: this.backoffMs, maxMs: MAX_BACKOFF_MS, jitter: 'none' }));
    }
  }

  /** The entries that did not succeed: those SQS lists as failed, and any it does not list at all. */
  private async sendEntries(entries: SendMessageBatchRequestEntry[]): Promise<BatchResultErrorEntry[]> {
    let output: SendMessageBatchCommandOutput;
    try {
      output = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
      );
    } catch (err) {
      // The SDK has already retried what it deems transient; keep the code, not the SDK's message.
      const code = err instanceof Error ? err.name : 'UnknownError';
      return entries.map((entry) => ({ Id: entry.Id, Code: code, SenderFault: true }));
    }
    const succeeded = new Set((output.Successful ?? []).map((entry) => entry.Id));
    const failed = new Map((output.Failed ?? []).map((entry) => [entry.Id, entry]));
    return entries
      .filter((entry) => !succeeded.has(entry.Id))
      .map((entry) => failed.get(entry.Id) ?? { Id: entry.Id, Code: 'NotAcknowledged', SenderFault: false });
  }
}

function toEntry(message: QueueMessage, index: number): SendMessageBatchRequestEntry {
  return {
    Id: String(index),
    MessageBody: message.body,
    MessageGroupId: message.groupId,
    MessageDeduplicationId: message.dedupId,
  };
}

/** Throws before anything is sent when one message alone is over SQS's limit. */
function checkSizes(messages: QueueMessage[]): Sized[] {
  return messages.map((message, index) => {
    const bytes = Buffer.byteLength(message.body, 'utf8');
    if (bytes > MAX_SQS_PAYLOAD_BYTES) throw new MessageTooLargeError(index, bytes);
    return { message, index, bytes };
  });
}

/** A message with its place in the call (the batch entry's Id) and its body's size. */
interface Sized {
  message: QueueMessage;
  index: number;
  bytes: number;
}

interface Pack {
  items: Sized[];
  bytes: number;
}

const fits = (pack: Pack, entries: number, bytes: number) =>
  pack.items.length + entries <= MAX_SQS_BATCH_ENTRIES && pack.bytes + bytes <= MAX_SQS_PAYLOAD_BYTES;

/**
 * Batches of at most 10 entries and 1 MiB of bodies. Each group's messages are cut,
 * in order, into runs that fit one batch; runs are packed whole, first fit. So a group with up to 10
 * messages (and 1 MiB) travels in a single batch, in order.
 */
function packBatches(sized: Sized[]): Sized[][] {
  const runs = new Map<string, Pack[]>();
  for (const item of sized) {
    const groupRuns = runs.get(item.message.groupId) ?? [];
    runs.set(item.message.groupId, groupRuns);
    const last = groupRuns.at(-1);
    if (last && fits(last, 1, item.bytes)) {
      last.items.push(item);
      last.bytes += item.bytes;
    } else {
      groupRuns.push({ items: [item], bytes: item.bytes });
    }
  }
  const batches: Pack[] = [];
  for (const run of [...runs.values()].flat()) {
    const batch = batches.find((b) => fits(b, run.items.length, run.bytes));
    if (batch) {
      batch.items.push(...run.items);
      batch.bytes += run.bytes;
    } else {
      batches.push({ items: [...run.items], bytes: run.bytes });
    }
  }
  return batches.map((batch) => batch.items);
}

let sharedClient: SQSClient | undefined;

/** The container's one SQS client (the queues and the dead letters of a function share it). */
export function sqsClient(): SQSClient {
  sharedClient ??= new SQSClient(SQS_CLIENT_CONFIG);
  return sharedClient;
}

/** The deployed queue at `queueUrl` (EVENTS_QUEUE_URL, PAGE_COMMANDS_QUEUE_URL). */
export const sqsQueue = (queueUrl: string): SqsEventQueue => new SqsEventQueue(sqsClient(), queueUrl);
