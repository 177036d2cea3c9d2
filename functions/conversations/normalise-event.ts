import type * as z from 'zod/mini';
import type { JsonObject } from '#contracts/json';
import type { QueuedEvent } from '#contracts/queue';
import {
  AttachmentPayload,
  type AttachmentSchema,
  DeliveryEvent,
  HANDOVER_ACTIONS,
  HandoverEvent,
  MessageEvent,
  OptinEvent,
  PostbackEvent,
  ReactionEvent,
  ReadEvent,
  ReferralEvent,
} from '#contracts/webhook';
import type { Attachment, ConversationEvent } from './conversation-event.js';

type CommonKey = 'pageId' | 'userId' | 'timestamp' | 'standby';
/** One member of the union without the fields every event shares. */
type Body = ConversationEvent extends infer E ? (E extends unknown ? Omit<E, CommonKey> : never) : never;

/** Interprets a queued webhook event. Pure; never throws, whatever shape the raw event has. */
export function normaliseEvent(q: QueuedEvent): ConversationEvent {
  const common = { pageId: q.pageId, userId: q.userId, timestamp: q.timestamp, standby: q.standby };
  return { ...common, ...interpret(q.event, q.eventId) };
}

/**
 * The first key that holds its kind (contracts/webhook.ts) decides; a key whose value does not fit
 * its kind is passed over, and an event of no known kind is `unknown` (logged and skipped, SPEC §6).
 */
function interpret(e: JsonObject, eventId: string): Body {
  const m = MessageEvent.safeParse(e.message);
  if (m.success) return message(m.data, eventId);
  const p = PostbackEvent.safeParse(e.postback);
  if (p.success) return postback(p.data, eventId);
  const r = ReactionEvent.safeParse(e.reaction);
  if (r.success) return reaction(r.data);
  const d = DeliveryEvent.safeParse(e.delivery);
  if (d.success) return { kind: 'delivery', watermark: d.data.watermark ?? 0, mids: defined(d.data.mids) };
  const read = ReadEvent.safeParse(e.read);
  if (read.success) return { kind: 'read', watermark: read.data.watermark ?? 0 };
  const ref = ReferralEvent.safeParse(e.referral);
  if (ref.success) return referral(ref.data, eventId);
  const o = OptinEvent.safeParse(e.optin);
  if (o.success) {
    const { type, payload, ref } = o.data;
    return { kind: 'optin', eventId, type, payload, ref };
  }
  for (const action of HANDOVER_ACTIONS) {
    const h = HandoverEvent.safeParse(e[action]);
    if (h.success) return { kind: 'handover', eventId, action, detail: h.data };
  }
  return { kind: 'unknown', eventId, keys: Object.keys(e) };
}

function message(m: z.infer<typeof MessageEvent>, eventId: string): Body {
  const echo = m.is_echo === true;
  return {
    kind: 'message',
    direction: echo ? 'out' : 'in',
    mid: m.mid ?? eventId,
    text: m.text,
    attachments: defined(m.attachments).map(attachment),
    quickReplyPayload: m.quick_reply?.payload,
    replyToMid: m.reply_to?.mid,
    appId: echo ? m.app_id : undefined,
    metadata: echo ? m.metadata : undefined,
    referral: m.referral,
  };
}

function attachment(a: z.infer<typeof AttachmentSchema>): Attachment {
  const payload = AttachmentPayload.safeParse(a.payload);
  const p = payload.success ? payload.data : undefined;
  return {
    type: a.type ?? 'unknown',
    url: p?.url ?? a.url,
    title: a.title ?? p?.title,
    stickerId: p?.sticker_id,
    payload: a.payload,
  };
}

function postback(p: z.infer<typeof PostbackEvent>, eventId: string): Body {
  return {
    kind: 'postback',
    mid: p.mid ?? eventId,
    title: p.title,
    payload: p.payload,
    referral: p.referral,
  };
}

function reaction(r: z.infer<typeof ReactionEvent>): Body {
  return {
    kind: 'reaction',
    targetMid: r.mid,
    action: r.action === 'unreact' ? 'unreact' : 'react',
    reaction: r.reaction,
    emoji: r.emoji,
  };
}

function referral(r: z.infer<typeof ReferralEvent>, eventId: string): Body {
  return { kind: 'referral', eventId, ref: r.ref, source: r.source, type: r.type, adId: r.ad_id };
}

/** The items of a lenient list that were of the right type. */
function defined<T>(items: Array<T | undefined>): T[] {
  return items.filter((item): item is T => item !== undefined);
}
