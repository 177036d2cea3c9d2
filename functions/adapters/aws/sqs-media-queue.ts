import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SQS_MAX_BATCH_ENTRIES } from '#contracts/limits';
import type { MediaJob } from '#contracts/media-job';
import type { MediaQueue } from '#ports/media';
import { QueueSendError, sqsClient } from './sqs-event-queue.js';

/** The media queue: a standard SQS queue (copies need no order), sent to in batches of ten. */
export class SqsMediaQueue implements MediaQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(jobs: readonly MediaJob[]): Promise<void> {
    const batches: MediaJob[][] = [];
    for (let i = 0; i < jobs.length; i += SQS_MAX_BATCH_ENTRIES)
      batches.push(jobs.slice(i, i + SQS_MAX_BATCH_ENTRIES));
    const results = await Promise.all(
      batches.map((batch) =>
        this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((job, i) => ({ Id: String(i), MessageBody: JSON.stringify(job) })),
          }),
        ),
      ),
    );
    const failed = results.flatMap((r) => r.Failed ?? []);
    if (failed.length) {
      const codes = [...new Set(failed.map((f) => f.Code ?? 'unknown'))];
      throw new QueueSendError(jobs.length, failed.length, codes);
    }
  }
}

/** The deployed media queue's sender (loaded by sqs-media.ts on the first message with attachments). */
export const sqsMediaQueueNow = (queueUrl: string): MediaQueue => new SqsMediaQueue(sqsClient(), queueUrl);
