import * as z from 'zod/mini';
import { JsonObject } from './json.js';

/**
 * The contract between the verifier and the processor: one webhook event, as it travels on the
 * events queue. The raw event is kept verbatim so the processor can interpret it; nothing secret
 * is ever added to it. The processor reads every message with these schemas (ingest/read-queued-event.ts);
 * a message that does not fit is poison: quarantined with its reason, never retried.
 */
const Envelope = {
  v: z.literal(1),
  /** The Page the conversation belongs to (entry.id). */
  pageId: z.string().check(z.minLength(1)),
  /** The other party: the PSID for Messenger, whichever direction the event travels. */
  userId: z.string().check(z.minLength(1)),
  /** `mid` where the event has one of its own, else `h:` + a SHA-256 of the event. */
  eventId: z.string().check(z.minLength(1)),
  /** The event timestamp in ms (falls back to entry.time). */
  timestamp: z.number(),
  /** True when the event came in `entry[].standby[]` (another app owns the thread). */
  standby: z.boolean(),
  /**
   * The channel the webhook object named (SPEC §11): `instagram` for `object: "instagram"` bodies, then
   * `pageId` is the Instagram account id and `userId` the IGSID. Absent: Messenger (every message
   * queued before Instagram existed reads the same).
   */
  channel: z.optional(z.enum(['messenger', 'instagram'])),
};

export type Channel = 'messenger' | 'instagram';

/** One queued event. `event` is checked, not copied: it stays as it came. */
export const QueuedEvent = z.object({ ...Envelope, event: JsonObject });
export type QueuedEvent = z.infer<typeof QueuedEvent>;

/** The blob key prefix of claim checks; the bucket expires it after SQS's longest retention (14 days). */
export const CLAIM_PREFIX = 'claims/';

/** A claim check's blob key: `claims/{sha256 of the event's bytes}.json`. */
export const CLAIM_KEY = new RegExp(`^${CLAIM_PREFIX}([0-9a-f]{64})\\.json$`);

/**
 * A QueuedEvent too large for a queue message, sent as a claim check: the raw event's JSON is a blob
 * under `claim`, the message carries the rest. Same group and deduplication ids as the event itself
 * would have (ingest/claim-check.ts writes it, ingest/read-queued-event.ts reads it).
 */
export const ClaimCheck = z.object({ ...Envelope, claim: z.string().check(z.regex(CLAIM_KEY)) });
export type ClaimCheck = z.infer<typeof ClaimCheck>;

/** A message body that names a claim (whether or not it is a well-formed claim check). */
export const NamesClaim = z.object({ claim: z.unknown() });

/** One message for a FIFO queue. */
export const QueueMessage = z.object({ groupId: z.string(), dedupId: z.string(), body: z.string() });
export type QueueMessage = z.infer<typeof QueueMessage>;

/**
 * FIFO group = the conversation, the same for both directions: `{pageId}:{userId}` for Messenger,
 * `{igAccountId}:{igsid}` for Instagram (account ids and page ids never collide: both are Meta ids).
 */
export function conversationGroupId(pageId: string, userId: string): string {
  return `${pageId}:${userId}`;
}
