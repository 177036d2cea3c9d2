/**
 * The contract between the verifier and the processor: one webhook event, as it travels on the
 * events queue. The raw event is kept verbatim so the processor can interpret it; nothing secret
 * is ever added to it.
 */
export interface QueuedEvent {
  v: 1;
  /** The Page the conversation belongs to (entry.id). */
  pageId: string;
  /** The other party: the PSID for Messenger, whichever direction the event travels. */
  userId: string;
  /** `mid` where the event has one of its own, else `h:` + a SHA-256 of the event. */
  eventId: string;
  /** The event timestamp in ms (falls back to entry.time). */
  timestamp: number;
  /** True when the event came in `entry[].standby[]` (another app owns the thread). */
  standby: boolean;
  event: Record<string, unknown>;
}

/**
 * A QueuedEvent too large for a queue message, sent as a claim check: the raw event's JSON is a blob
 * under `claim` (`claims/{sha256 of those bytes}.json`), the message carries the rest. Same group and
 * deduplication ids as the event itself would have (claim-check.ts writes it, read-queued-event.ts reads it).
 */
export interface ClaimCheck extends Omit<QueuedEvent, 'event'> {
  claim: string;
}

/** The blob key prefix of claim checks; the bucket expires it after SQS's longest retention (14 days). */
export const CLAIM_PREFIX = 'claims/';

/** One message for a FIFO queue. */
export interface QueueMessage {
  groupId: string;
  dedupId: string;
  body: string;
}

/** FIFO group = the conversation, the same for both directions. */
export function conversationGroupId(pageId: string, userId: string): string {
  return `${pageId}:${userId}`;
}
