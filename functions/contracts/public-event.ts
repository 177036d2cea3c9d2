import { createHash } from 'node:crypto';
import * as z from 'zod/mini';

/**
 * The public event, version 1 (SPEC §8): one per stored change, the same JSON object as the EventBridge
 * `detail` on AWS and the body of a forwarded event. Products built on Pagewire dedupe on `id` and
 * order a conversation's events by `seq`. `docs/public-event.schema.json` is generated from this schema
 * (`npm run schemas`); a test fails when the committed file is stale.
 */

/** Changes within one conversation (page × user): they carry `userId` and `seq`. */
export const CONVERSATION_EVENT_TYPES = [
  'message.received',
  'message.sent',
  'message.status',
  'message.reaction',
  'message.edited',
  'message.deleted',
  'message.media_stored',
  'postback',
  'referral',
  'optin',
  'handover',
  'contact.updated',
] as const;

/** Changes of a page itself: no `userId`, no `seq`. */
export const PAGE_EVENT_TYPES = ['page.status_changed', 'page.warning'] as const;

export const PUBLIC_EVENT_TYPES = [...CONVERSATION_EVENT_TYPES, ...PAGE_EVENT_TYPES] as const;
export const PublicEventType = z.enum(PUBLIC_EVENT_TYPES);
export type PublicEventType = z.infer<typeof PublicEventType>;
export type ConversationEventType = (typeof CONVERSATION_EVENT_TYPES)[number];
export type PageEventType = (typeof PAGE_EVENT_TYPES)[number];

export const PUBLIC_EVENT_VERSION = 1;
/** The EventBridge `source` of every public event (AWS rules match on it). */
export const PUBLIC_EVENT_SOURCE = 'pagewire';
export const PUBLIC_EVENT_CHANNELS = ['messenger', 'instagram'] as const;

/** `data`: the stored object as the admin API shows it. */
const Data = z.record(z.string(), z.unknown());

const common = {
  id: z.string().check(z.minLength(1)),
  time: z.iso.datetime(),
  version: z.literal(PUBLIC_EVENT_VERSION),
  pageId: z.string().check(z.minLength(1)),
  channel: z.enum(PUBLIC_EVENT_CHANNELS),
};

export const PublicConversationEvent = z.object({
  ...common,
  type: z.enum(CONVERSATION_EVENT_TYPES),
  userId: z.string().check(z.minLength(1)),
  /** One more for every stored change of the conversation: a consumer orders by it and sees gaps. */
  seq: z.int().check(z.positive()),
  data: Data,
});
export type PublicConversationEvent = z.infer<typeof PublicConversationEvent>;

/** Page events must not carry the conversation fields (a `never` rejects them instead of dropping them). */
const noConversation = { userId: z.optional(z.never()), seq: z.optional(z.never()) };

export const PageStatusChangedEvent = z.object({
  ...common,
  ...noConversation,
  type: z.literal('page.status_changed'),
  data: z.looseObject({ from: z.string(), to: z.string(), reason: z.optional(z.string()) }),
});

export const PageWarningEvent = z.object({
  ...common,
  ...noConversation,
  type: z.literal('page.warning'),
  data: Data,
});

export const PublicEvent = z.discriminatedUnion('type', [
  PublicConversationEvent,
  PageStatusChangedEvent,
  PageWarningEvent,
]);
export type PublicEvent = z.infer<typeof PublicEvent>;
export type PublicPageEvent = z.infer<typeof PageStatusChangedEvent> | z.infer<typeof PageWarningEvent>;

/** The identity of one stored change: the same change stored again (a redelivery) gives the same id. */
export interface ChangeIdentity {
  pageId: string;
  /** Absent for page events. */
  userId?: string;
  /** What names the change in the store, e.g. a message's mid plus what changed (`status:read`). */
  changeKey: string;
  type: PublicEventType;
}

/**
 * The event's `id`: a SHA-256 of the change's identity, shaped as an RFC 9562 UUID version 8 (the
 * "custom" version), so consumers that store ids as UUIDs can. JSON of the parts as a list keeps
 * `("a:b","c")` and `("a","b:c")` apart.
 */
export function eventId({ pageId, userId, changeKey, type }: ChangeIdentity): string {
  const hex = createHash('sha256')
    .update(JSON.stringify([PUBLIC_EVENT_VERSION, pageId, userId ?? null, changeKey, type]))
    .digest('hex');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `8${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}

/**
 * The JSON Schema of a version-1 event, for consumers in any language. Input mode: objects allow
 * properties they do not name, so a consumer validating with it keeps working when v1 gains a field.
 */
export function publicEventJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(PublicEvent, { io: 'input' }),
    title: 'Pagewire public event, version 1',
    description:
      'One stored change (SPEC §8): the EventBridge detail on AWS and the body of a forwarded event. ' +
      'Dedupe on id; order a conversation (pageId, userId) by seq.',
  };
}
