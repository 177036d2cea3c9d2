import * as z from 'zod/mini';
import {
  AttachmentPayload,
  type AttachmentSchema,
  DeliveryEvent,
  HANDOVER_ACTIONS,
  type HandoverAction,
  HandoverEvent,
  MessageEditEvent,
  MessageEvent,
  OptinEvent,
  PostbackEvent,
  ReactionEvent,
  ReadEvent,
  ReferralEvent,
} from './webhook.js';

/**
 * The kinds of webhook event the processor acts on (SPEC §6), each a schema from the raw event's
 * kind object (contracts/webhook.ts: what Meta sends) to what the processor stores and updates. The
 * event's key selects its kind (`EVENT_KINDS`, in Meta's order of precedence); an event whose kind
 * object does not parse, or that has no known key, is `unknown` (logged and skipped).
 * `ConversationEvent` (conversations/conversation-event.ts) is the union of their outputs.
 *
 * Each kind parses `{ eventId, value }`: `value` is the kind's object, `eventId` the event's own id,
 * which stands in for a missing mid.
 */
function kind<S extends z.ZodMiniType, T>(value: S, read: (value: z.output<S>, eventId: string) => T) {
  return z.pipe(
    z.object({ eventId: z.string(), value }),
    z.transform((input: { eventId: string; value: z.output<S> }) => read(input.value, input.eventId)),
  );
}

const attachment = (a: z.output<typeof AttachmentSchema>) => {
  const payload = AttachmentPayload.safeParse(a.payload);
  const p = payload.success ? payload.data : undefined;
  // Stickers are their own type (SPEC §11): Meta's `sticker`, and the older `image` with a sticker id.
  const sticker = a.type === 'sticker' || (a.type === 'image' && p?.sticker_id !== undefined);
  return {
    type: sticker ? 'sticker' : (a.type ?? 'unknown'),
    url: p?.url ?? a.url,
    title: a.title ?? p?.title,
    stickerId: p?.sticker_id,
    /** Anything else Meta sent in `payload` (templates on echoes, products, …). */
    payload: a.payload,
  };
};
export type EventAttachment = ReturnType<typeof attachment>;

/** The items of a lenient list that were of the right type. */
function defined<T>(items: Array<T | undefined>): T[] {
  return items.filter((item): item is T => item !== undefined);
}

export const MessageKind = kind(MessageEvent, (m, eventId) => {
  const echo = m.is_echo === true;
  // Instagram's unsend names the message taken back; without its mid there is nothing to take back.
  if (m.is_deleted === true && m.mid !== undefined) return { kind: 'unsend' as const, targetMid: m.mid };
  const story = m.reply_to?.story;
  return {
    kind: 'message' as const,
    /** `in` from the person, `out` for echoes of what the page sent. */
    direction: echo ? ('out' as const) : ('in' as const),
    mid: m.mid ?? eventId,
    text: m.text,
    attachments: defined(m.attachments).map(attachment),
    quickReplyPayload: m.quick_reply?.payload,
    replyToMid: m.reply_to?.mid,
    /** Instagram story replies: the story replied to (its URL expires with the story). */
    replyToStory: story && (story.url !== undefined || story.id !== undefined) ? story : undefined,
    /** Echoes: the app that sent it (263902037430900 = the Page inbox). */
    appId: echo ? m.app_id : undefined,
    metadata: echo ? m.metadata : undefined,
    referral: m.referral,
  };
});

export const PostbackKind = kind(PostbackEvent, (p, eventId) => ({
  kind: 'postback' as const,
  mid: p.mid ?? eventId,
  title: p.title,
  payload: p.payload,
  referral: p.referral,
}));

export const ReactionKind = kind(ReactionEvent, (r) => ({
  kind: 'reaction' as const,
  targetMid: r.mid,
  action: r.action === 'unreact' ? ('unreact' as const) : ('react' as const),
  reaction: r.reaction,
  emoji: r.emoji,
}));

export const DeliveryKind = kind(DeliveryEvent, (d) => ({
  kind: 'delivery' as const,
  watermark: d.watermark ?? 0,
  mids: defined(d.mids),
}));

export const ReadKind = kind(ReadEvent, (r) => ({
  kind: 'read' as const,
  watermark: r.watermark ?? 0,
  /** Instagram `messaging_seen`: the message seen, instead of a watermark. */
  mid: r.mid,
}));

export const EditKind = kind(MessageEditEvent, (e) => ({
  kind: 'edit' as const,
  targetMid: e.mid,
  text: e.text,
  /** Meta counts the edits: 1 for the first. Absent: counted as 1. */
  numEdit: e.num_edit ?? 1,
}));

export const ReferralKind = kind(ReferralEvent, (r, eventId) => ({
  kind: 'referral' as const,
  eventId,
  ref: r.ref,
  source: r.source,
  type: r.type,
  adId: r.ad_id,
}));

export const OptinKind = kind(OptinEvent, (o, eventId) => ({
  kind: 'optin' as const,
  eventId,
  type: o.type,
  payload: o.payload,
  ref: o.ref,
}));

/** Handover protocol events: the key names the action, its object is kept as it came. */
const handoverKind = (action: HandoverAction) =>
  kind(HandoverEvent, (detail, eventId) => ({ kind: 'handover' as const, eventId, action, detail }));

/** Each kind under the key that selects it, in order: the first key an event has decides. */
export const EVENT_KINDS = [
  ['message', MessageKind],
  ['message_edit', EditKind],
  ['postback', PostbackKind],
  ['reaction', ReactionKind],
  ['delivery', DeliveryKind],
  ['read', ReadKind],
  ['referral', ReferralKind],
  ['optin', OptinKind],
  ...HANDOVER_ACTIONS.map((action) => [action, handoverKind(action)] as const),
] as const;

/** An event of no known kind, or whose kind object does not parse: its keys, for the log. */
export interface UnknownEventBody {
  kind: 'unknown';
  eventId: string;
  keys: string[];
}

/** One kind's output: what an event says, without what every event has (conversations/conversation-event.ts). */
export type EventBody = z.output<(typeof EVENT_KINDS)[number][1]> | UnknownEventBody;
