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
