import type { QueuedEvent } from '#contracts/queue';
import type { Attachment, ConversationEvent } from './conversation-event.js';

type Json = Record<string, unknown>;
type CommonKey = 'pageId' | 'userId' | 'timestamp' | 'standby';
/** One member of the union without the fields every event shares. */
type Body = ConversationEvent extends infer E ? (E extends unknown ? Omit<E, CommonKey> : never) : never;

const HANDOVER_ACTIONS = [
  'pass_thread_control',
  'take_thread_control',
  'request_thread_control',
  'app_roles',
] as const;

/** Interprets a queued webhook event. Pure; never throws, whatever shape the raw event has. */
export function normaliseEvent(q: QueuedEvent): ConversationEvent {
  const common = { pageId: q.pageId, userId: q.userId, timestamp: q.timestamp, standby: q.standby };
  return { ...common, ...interpret(q.event, q.eventId) };
}

function interpret(e: Json, eventId: string): Body {
  if (isObject(e.message)) return message(e.message, eventId);
  if (isObject(e.postback)) return postback(e.postback, eventId);
  if (isObject(e.reaction) && nonEmpty(e.reaction.mid)) return reaction(e.reaction);
  if (isObject(e.delivery)) {
    return {
      kind: 'delivery',
      watermark: wholeNumber(e.delivery.watermark) ?? 0,
      mids: strings(e.delivery.mids),
    };
  }
  if (isObject(e.read)) return { kind: 'read', watermark: wholeNumber(e.read.watermark) ?? 0 };
  if (isObject(e.referral)) return referral(e.referral, eventId);
  if (isObject(e.optin)) {
    const { type, payload, ref } = e.optin;
    return { kind: 'optin', eventId, type: text(type), payload: text(payload), ref: text(ref) };
  }
  const action = HANDOVER_ACTIONS.find((key) => isObject(e[key]));
  if (action) return { kind: 'handover', eventId, action, detail: e[action] as Json };
  return { kind: 'unknown', eventId, keys: Object.keys(e) };
}

function message(m: Json, eventId: string): Body {
  const echo = m.is_echo === true;
  return {
    kind: 'message',
    direction: echo ? 'out' : 'in',
    mid: nonEmpty(m.mid) ?? eventId,
    text: text(m.text),
    attachments: Array.isArray(m.attachments) ? m.attachments.filter(isObject).map(attachment) : [],
    quickReplyPayload: text(field(m.quick_reply, 'payload')),
    replyToMid: nonEmpty(field(m.reply_to, 'mid')),
    appId: echo ? idString(m.app_id) : undefined,
    metadata: echo ? text(m.metadata) : undefined,
    referral: objectOrUndefined(m.referral),
  };
}

/** `fallback` attachments may carry `url`/`title` beside a null payload, or no payload at all. */
function attachment(a: Json): Attachment {
  const payload = objectOrUndefined(a.payload);
  return {
    type: text(a.type) ?? 'unknown',
    url: text(payload?.url) ?? text(a.url),
    title: text(a.title) ?? text(payload?.title),
    stickerId: wholeNumber(payload?.sticker_id),
    payload,
  };
}

/** Standby postbacks carry no payload. */
function postback(p: Json, eventId: string): Body {
  return {
    kind: 'postback',
    mid: nonEmpty(p.mid) ?? eventId,
    title: text(p.title),
    payload: text(p.payload),
    referral: objectOrUndefined(p.referral),
  };
}

function reaction(r: Json): Body {
  return {
    kind: 'reaction',
    targetMid: nonEmpty(r.mid) ?? '',
    action: r.action === 'unreact' ? 'unreact' : 'react',
    reaction: text(r.reaction),
    emoji: text(r.emoji),
  };
}

function referral(r: Json, eventId: string): Body {
  return {
    kind: 'referral',
    eventId,
    ref: text(r.ref),
    source: text(r.source),
    type: text(r.type),
    adId: idString(r.ad_id),
  };
}

function field(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Ids Meta sometimes sends as numbers (`app_id`, `ad_id`). */
function idString(value: unknown): string | undefined {
  return nonEmpty(value) ?? (typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined);
}

/**
 * Watermarks (ms) and sticker ids are whole numbers below 2^53; anything else is not one (and a number
 * beyond 2^53 or below 1e-130 would be refused by the store). The raw value stays in the payload.
 */
function wholeNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function objectOrUndefined(value: unknown): Json | undefined {
  return isObject(value) ? value : undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
