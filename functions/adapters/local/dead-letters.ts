import {
  BODY_PREVIEW_CHARS,
  chosen,
  type DeadLetterQueues,
  type DeadLetterQueueView,
  type DeadLetterView,
  type QueueName,
  type RedriveOutcome,
} from '#contracts/dead-letters';
import type { DeadLetter, LocalFifoQueue } from './fifo-queue.js';

/** The admin API's dead letters on the local stack: the running stack's own queues. */
export class LocalDeadLetters implements DeadLetterQueues {
  constructor(private readonly queues: Record<QueueName, LocalFifoQueue>) {}

  async list(opts: { queue?: QueueName; limit: number }): Promise<DeadLetterQueueView[]> {
    return chosen(opts.queue).map((queue) => {
      const letters = this.queues[queue].deadLetters();
      return {
        queue,
        count: letters.length,
        approximate: false,
        messages: letters.slice(0, opts.limit).map(view),
      };
    });
  }

  async redrive(queue?: QueueName): Promise<RedriveOutcome[]> {
    const outcomes: RedriveOutcome[] = [];
    for (const name of chosen(queue)) {
      const count = await this.queues[name].redrive();
      outcomes.push({ queue: name, status: count > 0 ? 'moved' : 'empty', count });
    }
    return outcomes;
  }
}

function view(letter: DeadLetter): DeadLetterView {
  const truncated = letter.body.length > BODY_PREVIEW_CHARS;
  return {
    messageId: letter.messageId,
    groupId: letter.groupId,
    dedupId: letter.dedupId,
    receiveCount: letter.receiveCount,
    sentAt: new Date(letter.sentAt).toISOString(),
    deadAt: new Date(letter.deadAt).toISOString(),
    bytes: Buffer.byteLength(letter.body, 'utf8'),
    body: truncated ? letter.body.slice(0, BODY_PREVIEW_CHARS) : letter.body,
    ...(truncated ? { truncated: true } : {}),
  };
}
