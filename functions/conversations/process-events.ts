import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mediaJobsOf } from '#contracts/media-job';
import { conversationGroupId, type QueuedEvent } from '#contracts/queue';
import { readQueueBody } from '#ingest/read-queued-event';
import type { ConversationLock } from '#ports/conversation-lock';
import { NoLock } from '#ports/conversation-lock';
import type { EventPublisher } from '#ports/event-publisher';
import type { MediaQueue } from '#ports/media';
import type { BlobStore } from '#ports/ports';
import type { Deadline } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
import { type ApplyEventDeps, createEventApplier } from './apply-event.js';
import { classifyFailure, type Failure } from './failure-class.js';
import type { QuarantineRepository } from './quarantine-repository.js';

export interface ProcessorDeps extends ApplyEventDeps {
  /** Public events go out once their changes are stored; a failed publish fails the record. */
  publisher: EventPublisher;
  quarantine: QuarantineRepository;
  /** Where the verifier puts events too large for a queue message (claim checks). */
  blobs: BlobStore;
  /** Notes that the page got an event (pages/page-liveness.ts): throttled, and it never throws. */
  liveness?: { seen(pageId: string, eventMs: number): Promise<void> };
  /**
   * Where the attachments of stored messages are queued for a copy (SPEC §10). A failed send fails the
   * record: its redelivery finds the message stored, answers the same events and queues the jobs again.
   */
  mediaQueue?: MediaQueue;
}

/**
 * The events queue consumer: each record is one webhook event. A transient failure fails only the rest
 * of its conversation's group (skipGroupOnError), so other conversations in the batch go on and the
 * failed group is redelivered in order. An event that fails the same way every time is quarantined
 * (failure-class.ts): recorded with its reason and body, counted, and its conversation goes on at once.
 */
export function createEventsProcessor(deps: ProcessorDeps, lock: ConversationLock = new NoLock()) {
  const applyEvent = createEventApplier(deps);

  const recordHandler =
    (deadline: Deadline) =>
    async (record: SQSRecord): Promise<void> => {
      let event: QueuedEvent | undefined;
      try {
        event = await readQueueBody(record.body, deps.blobs);
        const queued = event;
        // With the optional lock, a conversation is also serialised across consumers (a DLQ redrive,
        // a second deployment); a lock not taken in time fails the record, redelivered in order.
        const key = conversationGroupId(queued.pageId, queued.userId);
        const events = await lock.withLock(key, () => applyEvent(queued, deadline), deadline);
        // Outside the lock: the changes are stored and their events recorded. A failed publish fails
        // the record; its redelivery finds every change stored and publishes the same events again.
        if (events.length) await deps.publisher.publish(events, deadline);
        const jobs = deps.mediaQueue ? mediaJobsOf(events) : [];
        if (jobs.length) await deps.mediaQueue?.send(jobs);
        // After the store: at most one small write per page per few minutes, and never a failure.
        await deps.liveness?.seen(queued.pageId, queued.timestamp);
      } catch (err) {
        const failure = classifyFailure(err, Number(record.attributes?.ApproximateReceiveCount) || 1);
        if (failure.retry) {
          logger.error('event failed; its conversation will be redelivered', {
            pageId: event?.pageId,
            receiveCount: record.attributes?.ApproximateReceiveCount,
            error: err as Error,
          });
          throw err;
        }
        await quarantine(deps.quarantine, record, event, failure);
      }
    };

  return async (event: SQSEvent, context: Context, deadline: Deadline): Promise<SQSBatchResponse> => {
    const response = await processPartialResponse(
      event,
      recordHandler(deadline),
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

/**
 * Records an event that cannot be applied, once, then lets its group go on. A record that cannot be
 * written (DynamoDB or the blob store failing) throws: the group is redelivered and it is tried again.
 * Logs carry ids and the reason code, never the event or the error message (which may quote it).
 */
async function quarantine(
  repository: QuarantineRepository,
  record: SQSRecord,
  event: QueuedEvent | undefined,
  failure: Extract<Failure, { retry: false }>,
): Promise<void> {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount);
  const identity = event
    ? { pageId: event.pageId, userId: event.userId, eventId: event.eventId, timestamp: event.timestamp }
    : identityOf(record);
  const outcome = await repository.add({
    ...identity,
    reason: failure.reason,
    detail: failure.detail,
    receiveCount: Number.isInteger(receiveCount) ? receiveCount : undefined,
    body: record.body,
  });
  if (outcome === 'quarantined') count('EventsQuarantined');
  logger.warn('event quarantined: it cannot be applied; its conversation goes on', {
    pageId: identity.pageId.slice(0, 200),
    eventId: identity.eventId.slice(0, 200),
    reason: failure.reason,
    receiveCount: record.attributes?.ApproximateReceiveCount,
    alreadyQuarantined: outcome === 'already',
  });
}

/** Without a readable body: the conversation from the FIFO group id (`{pageId}:{userId}`). */
function identityOf(record: SQSRecord): { pageId: string; userId: string; eventId: string } {
  const group = record.attributes?.MessageGroupId ?? '';
  const split = group.indexOf(':');
  return {
    pageId: split > 0 ? group.slice(0, split) : 'unknown',
    userId: split > 0 ? group.slice(split + 1) || 'unknown' : group || 'unknown',
    eventId: record.attributes?.MessageDeduplicationId || record.messageId,
  };
}
