import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ConversationLock } from '../commons/lock/conversation-lock.js';
import { NoLock } from '../commons/lock/conversation-lock.js';
import { logger } from '../commons/observability.js';
import type { BlobStore } from '../commons/ports.js';
import { conversationGroupId, type QueuedEvent } from '../commons/webhook/queued-event.js';
import { readQueuedEvent } from '../commons/webhook/read-queued-event.js';
import { type ApplyEventDeps, createEventApplier } from './apply-event.js';

/**
 * The events queue consumer: each record is one webhook event; a failure fails only the rest of its
 * conversation's group (skipGroupOnError), so other conversations in the batch go on, and the failed
 * group is redelivered in order.
 */
export function createEventsProcessor(
  deps: ApplyEventDeps,
  lock: ConversationLock = new NoLock(),
  /** Where the verifier puts events too large for a queue message (claim checks). */
  blobs?: BlobStore,
) {
  const applyEvent = createEventApplier(deps);

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    let event: QueuedEvent;
    try {
      event = JSON.parse(record.body) as QueuedEvent;
    } catch {
      // Not ours (the verifier only writes JSON): retrying cannot help; the DLQ keeps it for a human.
      throw new Error(`queue message ${record.messageId} is not JSON`);
    }
    try {
      event = await readQueuedEvent(event, blobs);
      // With the optional lock, a conversation is also serialised across consumers (a DLQ redrive,
      // a second deployment); a lock not taken in time fails the record, redelivered in order.
      await lock.withLock(conversationGroupId(event.pageId, event.userId), () => applyEvent(event));
    } catch (err) {
      logger.error('event failed; its conversation will be redelivered', {
        pageId: event.pageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        error: err as Error,
      });
      throw err;
    }
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const response = await processPartialResponse(
      event,
      recordHandler,
      new SqsFifoPartialProcessorAsync() /* per invocation: it holds the batch's state */,
      {
        context,
        skipGroupOnError: true,
      },
    );
    if (response.batchItemFailures.length) {
      logger.warn('events will be redelivered', {
        failed: response.batchItemFailures.length,
        of: event.Records.length,
      });
    }
    return response;
  };
}
