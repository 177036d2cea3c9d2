/**
 * A webhook event interpreted: what the processor acts on. Produced by `normaliseEvent` from a
 * `QueuedEvent`; pure data, no I/O. Its kinds are the outputs of the schemas in
 * contracts/webhook-events.ts; the fields every event has come from the queued event's envelope.
 */
import type { QueuedEvent } from '#contracts/queue';
import type { EventAttachment, EventBody } from '#contracts/webhook-events';

export type Attachment = EventAttachment;

export type ConversationEvent = Pick<QueuedEvent, 'pageId' | 'userId' | 'timestamp' | 'standby'> & {
  /** The page (or Instagram account) sent the event: an echo, or an edit of its own message. */
  fromPage: boolean;
} & EventBody;

export type ConversationEventKind = ConversationEvent['kind'];
