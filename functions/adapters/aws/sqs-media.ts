import type { MediaQueue } from '#ports/media';

/**
 * The deployed media queue (MEDIA_QUEUE_URL). The SQS client loads with the first message that has
 * attachments: the processor sends nothing else to SQS, and the client is a good part of a cold start.
 */
export function sqsMediaQueue(queueUrl: string): MediaQueue {
  let queue: Promise<MediaQueue> | undefined;
  return {
    send: async (jobs) => {
      queue ??= import('./sqs-media-queue.js').then(({ sqsMediaQueueNow }) => sqsMediaQueueNow(queueUrl));
      return (await queue).send(jobs);
    },
  };
}
