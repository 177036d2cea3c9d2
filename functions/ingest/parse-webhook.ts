import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { isJsonObject } from '#contracts/json';
import { MAX_ID_LENGTH, SQS_ID_MAX } from '#contracts/limits';
import { type Channel, conversationGroupId, type QueuedEvent, type QueueMessage } from '#contracts/queue';
import {
  EVENT_LISTS,
  EventList,
  type EventRouting,
  routingOf,
  WebhookEntry,
  WebhookEnvelope,
} from '#contracts/webhook';
import { type EntrySlices, eventSlices } from './event-slices.js';

/** An entry or event that could not be queued. Positions and a code only: it gets logged. */
export interface RejectedEvent {
  entryIndex: number;
  /** Index within `messaging[]` or `standby[]` (see `field`); absent when the whole entry is bad. */
  eventIndex?: number;
  field?: 'messaging' | 'standby';
  reason: string;
}

export type ParsedWebhook =
  | {
      ok: true;
      events: QueuedEvent[];
      /** Per event (same index), its own JSON text in the body, where it can be queued as it is. */
      eventJson: Array<string | undefined>;
      rejected: RejectedEvent[];
    }
  | { ok: false; reason: 'invalid_json' | 'not_page' | 'invalid_envelope'; message: string };

/** Far deeper than any Messenger event; keeps a later JSON.stringify off the stack limit. */
const MAX_DEPTH = 32;

/** SQS FIFO group and deduplication ids: 1–128 printable ASCII characters other than space (length apart: cheaper). */
const PRINTABLE = /^[!-~]+$/;

/** Longest page id, user id or mid taken (contracts/limits.ts says why). */
export { MAX_ID_LENGTH };

/**
 * Flattens a Messenger (`page`) or Instagram (`instagram`) webhook body into one `QueuedEvent` per event
 * of every entry; Instagram's carry `channel`. Meta sends one object per POST, so the body's object is
 * every entry's channel. Never throws.
 */
export function parseWebhook(rawBody: Buffer | string): ParsedWebhook {
  const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'invalid_json', message: 'body is not JSON' };
  }
  const envelope = z.safeParse(WebhookEnvelope, body);
  if (!envelope.success) {
    // Only `entry` wrong: a page webhook with a bad envelope; anything else is not a page webhook.
    return envelope.error.issues.every((issue) => issue.path[0] === 'entry')
      ? { ok: false, reason: 'invalid_envelope', message: 'entry is not an array' }
      : { ok: false, reason: 'not_page', message: 'object is not "page" or "instagram"' };
  }
  const out: Output = { events: [], eventJson: [], rejected: [] };
  const channel = envelope.data.object === 'instagram' ? 'instagram' : undefined;
  const source: RawBody = { text, slices: eventSlices(text), channel };
  envelope.data.entry.forEach((entry, entryIndex) => {
    readEntry(entry, entryIndex, source, out);
  });
  return { ok: true, ...out };
}

/** The FIFO message for an event: grouped by conversation, deduplicated by event id. */
export function toQueueMessage(e: QueuedEvent): QueueMessage {
  return toQueueMessageWithText(e, undefined);
}

/**
 * toQueueMessage, with the event's own text from the body (parseWebhook's `eventJson`) standing for
 * `event` where there is one: JSON.parse gives the same event back, and stringifying it again cost the
 * verifier more than the rest of its work.
 */
export function toQueueMessageWithText(e: QueuedEvent, raw: string | undefined): QueueMessage {
  return {
    groupId: sqsId(conversationGroupId(e.pageId, e.userId)),
    dedupId: sqsId(e.eventId),
    body: raw === undefined ? sqsSafeJson(e) : withRawEvent(e, raw),
  };
}

/**
 * `sqsSafeJson(e)` with the event's raw text in place of its stringified form; same keys, same order
 * (tests/unit/event-slices.property.test.ts). Written by hand: JSON.stringify of the envelope cost
 * ~0.7 µs per event, most of it escaping ids that need no escaping.
 */
function withRawEvent(e: QueuedEvent, raw: string): string {
  const head =
    `{"v":${e.v},"pageId":${jsonString(e.pageId)},"userId":${jsonString(e.userId)},` +
    `"eventId":${jsonString(e.eventId)},"timestamp":${jsonNumber(e.timestamp)},"standby":${e.standby}` +
    (e.channel === undefined ? '' : `,"channel":"${e.channel}"`);
  // Raw text may hold U+FFFE/U+FFFF, only ever inside strings (JSON allows them nowhere else).
  return sqsSafeText(`${head},"event":${raw}}`);
}

/** Printable ASCII but `"` and `\`: what JSON writes as it is, between quotes (ids nearly always are). */
const PLAIN_JSON_STRING = /^[ !#-[\]-~]*$/;

/** JSON.stringify of a string, without its cost for the ids that need no escaping. */
function jsonString(value: string): string {
  return PLAIN_JSON_STRING.test(value) ? `"${value}"` : JSON.stringify(value);
}

/** JSON.stringify of a number: finite ones as `String` writes them (`-0` as `0`), others as null. */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * JSON that SQS accepts. JSON.stringify already escapes control characters and lone surrogates; SQS
 * also refuses U+FFFE and U+FFFF, which anyone can type into a message, so those are escaped too
 * (they only occur inside strings, where `\uFFFE` means the same).
 */
export function sqsSafeJson(value: unknown): string {
  return sqsSafeText(JSON.stringify(value));
}

function sqsSafeText(json: string): string {
  return NON_CHARACTERS.test(json)
    ? json.replace(NON_CHARACTERS_ALL, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
    : json;
}

const NON_CHARACTERS = /[\uFFFE\uFFFF]/;
const NON_CHARACTERS_ALL = /[\uFFFE\uFFFF]/g;

interface RawBody {
  text: string;
  /** Where each event stands in `text`; undefined when the scanner was unsure. */
  slices: EntrySlices | undefined;
  /** `instagram` for an `object: "instagram"` body; absent for Messenger's `page`. */
  channel: Channel | undefined;
}

type Output = Omit<Extract<ParsedWebhook, { ok: true }>, 'ok'>;

function readEntry(raw: unknown, entryIndex: number, body: RawBody, out: Output): void {
  const { rejected } = out;
  const entry = z.safeParse(WebhookEntry, raw);
  if (!entry.success) {
    rejected.push({ entryIndex, reason: 'entry_not_object' });
    return;
  }
  if (entry.data.messaging === undefined && entry.data.standby === undefined) {
    rejected.push({ entryIndex, reason: 'no_events' });
    return;
  }
  for (const [field, standby] of EVENT_LISTS) {
    if (entry.data[field] === undefined) continue;
    const list = z.safeParse(EventList, entry.data[field]);
    if (!list.success) {
      rejected.push({ entryIndex, field, reason: 'not_an_array' });
      continue;
    }
    const slices = body.slices?.[entryIndex]?.[field];
    const sliced = slices !== undefined && slices.length === list.data.length;
    list.data.forEach((event, eventIndex) => {
      const at = sliced ? slices[eventIndex] : undefined;
      const source = at ? body.text.slice(at[0], at[1]) : undefined;
      const result = readEvent(entry.data, event, standby, source, body.channel);
      if (typeof result === 'string') {
        rejected.push({ entryIndex, eventIndex, field, reason: result });
        return;
      }
      out.events.push(result.queued);
      out.eventJson.push(result.json);
    });
  }
}

/**
 * The queued event, or the reason it cannot be queued. The raw event is queued as it came: `source`,
 * its text in the body, unless it holds a number JSON.parse changed (see `shapeOf`).
 */
function readEvent(
  entry: WebhookEntry,
  raw: unknown,
  standby: boolean,
  source: string | undefined,
  channel: Channel | undefined,
): { queued: QueuedEvent; json: string | undefined } | string {
  if (!isJsonObject(raw)) return 'event_not_object';
  const shape = shapeOf(raw, MAX_DEPTH);
  if (shape === TOO_DEEP) return 'too_deep';
  // EventRouting's fast twin (contracts/webhook.ts): for an object, it never fails.
  const r = routingOf(raw);
  const pageId = entry.id ?? fallbackPageId(r);
  if (pageId === undefined) return 'no_page_id';
  const userId = otherParty(r, pageId);
  if (userId === undefined) return 'no_user_id';
  const timestamp = r.timestamp ?? entry.time;
  if (timestamp === undefined) return 'no_timestamp';
  // An Instagram unsend carries the mid of the message it takes back: it is an event of its own (with
  // the message's mid, SQS would drop it as a duplicate of the message for five minutes).
  const mid = r.message?.is_deleted === true ? undefined : r.message?.mid;
  const eventId = mid ?? r.postback?.mid ?? `h:${sha256(JSON.stringify(raw))}`;
  if (pageId.length > MAX_ID_LENGTH || userId.length > MAX_ID_LENGTH || eventId.length > MAX_ID_LENGTH) {
    return 'id_too_long';
  }
  // Key order as withRawEvent writes it (channel before event).
  const queued: QueuedEvent =
    channel === undefined
      ? { v: 1, pageId, userId, eventId, timestamp, standby, event: raw }
      : { v: 1, pageId, userId, eventId, timestamp, standby, channel, event: raw };
  return { queued, json: shape === PLAIN ? source : undefined };
}

/** Without entry.id: the page is the recipient, or the sender of an echo. */
function fallbackPageId(r: EventRouting): string | undefined {
  return (r.message?.is_echo === true ? r.sender : r.recipient)?.id;
}

/**
 * The person in the conversation, whichever way the event travels. Checkbox-plugin opt-ins name
 * the person only by `optin.user_ref`; `app_roles` concerns the whole page, so it uses the page id.
 * A reaction's or delivery's mids name other messages, so only a message's or postback's counts.
 */
function otherParty(r: EventRouting, pageId: string): string | undefined {
  const sender = partyKey(r.sender);
  const other = sender === pageId ? partyKey(r.recipient) : sender;
  if (other !== undefined) return other;
  if (r.optin) return userRef(r.optin.user_ref);
  if (r.app_roles) return pageId;
  return undefined;
}

function partyKey(party: EventRouting['sender']): string | undefined {
  return party ? (party.id ?? userRef(party.user_ref)) : undefined;
}

function userRef(value: string | undefined): string | undefined {
  return value === undefined ? undefined : `ref:${value}`;
}

const PLAIN = 0;
/** Deeper than the depth asked. */
const TOO_DEEP = 1;
/** Holds a number JSON.stringify writes as another value (`1e400` parsed is Infinity, written `null`; `-0`
 * is written `0`): its raw text would not read back as the event stringified, so it is stringified. */
const RENUMBERED = 2;

/** One walk over the parsed event: too deep, renumbered, or plain. */
function shapeOf(value: unknown, depthLeft: number): number {
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? PLAIN : RENUMBERED;
  if (typeof value !== 'object' || value === null) return PLAIN;
  if (depthLeft === 0) return TOO_DEEP;
  let shape = PLAIN;
  for (const key in value) {
    const inner = shapeOf((value as Record<string, unknown>)[key], depthLeft - 1);
    if (inner === TOO_DEEP) return TOO_DEEP;
    if (inner === RENUMBERED) shape = RENUMBERED;
  }
  return shape;
}

function sqsId(value: string): string {
  return value.length <= SQS_ID_MAX && PRINTABLE.test(value) ? value : sha256(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
