/**
 * An event that cannot be applied however often it is tried, kept instead of blocking its conversation
 * (one per page and event id, for ever). `reason` is a code (an error name); `detail` the error's own
 * message, which may quote the event, so it is shown to admins and never logged.
 */
export interface QuarantineRecord {
  pageId: string;
  userId: string;
  eventId: string;
  /** The event's timestamp, when it is a number the store can hold. */
  timestamp?: number;
  reason: string;
  detail?: string;
  quarantinedAt: string;
  /** How often the queue had delivered the event when it was quarantined. */
  receiveCount?: number;
  /** The queue message body as it came (the queued event), when it is small enough to keep inline. */
  body?: string;
  /** Where the body is in the blob store, when it is not inline. */
  bodyBlob?: string;
  bodySize: number;
}
