import { randomUUID } from 'node:crypto';
import type { MediaJob } from '#contracts/media-job';
import { mediaKey } from '#media/media-key';
import type { MediaQueue } from '#ports/media';
import type { EventQueue } from '#ports/ports';

/**
 * The media queue on a local durable queue (fifo-queue.ts with its journal): one group per attachment,
 * so copies run side by side like on a standard SQS queue, and a fresh dedup id per send, so a job sent
 * again (a redelivered event) is queued again as SQS would.
 */
export class LocalMediaQueue implements MediaQueue {
  constructor(private readonly queue: EventQueue) {}

  send(jobs: readonly MediaJob[]): Promise<void> {
    return this.queue.send(
      jobs.map((job) => ({
        groupId: mediaKey(job.pageId, job.userId, job.mid, job.index),
        dedupId: randomUUID(),
        body: JSON.stringify(job),
      })),
    );
  }
}
