import type { PublicEvent } from '#contracts/public-event';
import type { Deadline } from '#runtime/deadline';

/**
 * Where public events go (SPEC §8): an EventBridge bus on AWS, the local event log and forwarder
 * locally. Callers publish only what is durably stored, and let a failed publish fail their record:
 * the record comes back, the idempotent store makes the redo harmless, and the events go out again
 * with the same ids (at least once).
 */
export interface EventPublisher {
  /**
   * Resolves only when every event was accepted. Otherwise rejects (PublishError, or
   * EventTooLargeError before anything is sent), possibly after some events were accepted: a
   * retry publishes them again with the same ids, which consumers dedupe. Retries with back-off stop
   * in time for `deadline`.
   */
  publish(events: readonly PublicEvent[], deadline: Deadline): Promise<void>;
}

/**
 * The largest event (its JSON, UTF-8 bytes) every publisher accepts. EventBridge takes entries of
 * 256 KiB counting the source (`pagewire`), the detail-type (the event's type, at most 20 bytes) and 14
 * bytes for the time; 64 bytes are kept for them. A bigger event must be trimmed by its maker (for
 * instance `data` reduced to the ids and a pointer to the admin API), never dropped.
 */
export const MAX_EVENT_JSON_BYTES = 256 * 1024 - 64;

/**
 * Some events were not accepted. It carries counts and the publisher's error codes only: events hold
 * user data and must not reach logs through an error.
 */
export class PublishError extends Error {
  override readonly name = 'PublishError';

  constructor(
    readonly total: number,
    readonly failed: number,
    /** The distinct error codes met (EventBridge ErrorCode, SDK error names). */
    readonly codes: readonly string[],
  ) {
    super(`${failed} of ${total} events could not be published (${codes.join(', ') || 'no code'})`);
  }
}

/**
 * An event is bigger than the publisher takes; nothing of the call was sent. Retrying will not help:
 * the caller publishes a trimmed event instead (see MAX_EVENT_JSON_BYTES).
 */
export class EventTooLargeError extends Error {
  override readonly name = 'EventTooLargeError';

  constructor(
    readonly eventId: string,
    readonly type: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`Event ${eventId} (${type}) is ${bytes} bytes; at most ${maxBytes} can be published`);
  }
}
