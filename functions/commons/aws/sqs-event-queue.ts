import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { EventQueue } from '../ports.js';
import type { QueueMessage } from '../webhook/queued-event.js';

/** SQS's limit for one message and for the sum of a batch's payloads (1 MiB since 2025). */
export const MAX_SQS_PAYLOAD_BYTES = 1_048_576;
export const MAX_SQS_BATCH_ENTRIES = 10;

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
}

interface Outcome {
  unsent: number;
  codes: string[];
}

export class SqsEventQueue implements EventQueue {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    opts: SqsEventQueueOptions = {},
  ) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
    this.backoffMs = opts.backoffMs ?? 100;
  }

  async send(messages: QueueMessage[]): Promise<void> {
    const sizes = checkSizes(messages);
    const entries = messages.map(toEntry);
    const codes = new Set<string>();
    let unsent = 0;
    // One batch after the other, so a conversation's messages usually reach the queue in the given
    // order. Not always: a retried entry lands after later ones. The processor does not rely on arrival
    // order (the timeline is ordered by event timestamp; watermarks and conversation times only rise).
    for (const batch of chunk(entries, sizes)) {
      const outcome = await this.sendBatch(batch);
      unsent += outcome.unsent;
      for (const code of outcome.codes) codes.add(code);
    }
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
      await sleep(this.backoffMs * 2 ** (attempt - 1));
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
function checkSizes(messages: QueueMessage[]): number[] {
  return messages.map((message, index) => {
    const bytes = Buffer.byteLength(message.body, 'utf8');
    if (bytes > MAX_SQS_PAYLOAD_BYTES) throw new MessageTooLargeError(index, bytes);
    return bytes;
  });
}

/** Consecutive batches of at most 10 entries and 1 MiB of bodies, in the given order. */
function chunk(entries: SendMessageBatchRequestEntry[], sizes: number[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let batch: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  entries.forEach((entry, index) => {
    const size = sizes[index];
    if (batch.length === MAX_SQS_BATCH_ENTRIES || bytes + size > MAX_SQS_PAYLOAD_BYTES) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  });
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
