import * as z from 'zod/mini';

/**
 * An event that cannot be applied however often it is tried, kept instead of blocking its conversation
 * (one per page and event id, for ever). `reason` is a code (an error name); `detail` the error's own
 * message, which may quote the event, so it is shown to admins and never logged. Reads are parsed with
 * this schema (`recordOf`, store/records.ts).
 */
export const QuarantineRecord = z.object({
  pageId: z.string(),
  userId: z.string(),
  eventId: z.string(),
  /** The event's timestamp, when it is a number the store can hold. */
  timestamp: z.optional(z.number()),
  reason: z.string(),
  detail: z.optional(z.string()),
  quarantinedAt: z.string(),
  /** How often the queue had delivered the event when it was quarantined. */
  receiveCount: z.optional(z.number()),
  /** The queue message body as it came (the queued event), when it is small enough to keep inline. */
  body: z.optional(z.string()),
  /** Where the body is in the blob store, when it is not inline. */
  bodyBlob: z.optional(z.string()),
  bodySize: z.number(),
});
export type QuarantineRecord = z.infer<typeof QuarantineRecord>;
