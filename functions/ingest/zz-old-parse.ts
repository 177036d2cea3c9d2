import { createHash } from 'node:crypto';
import { conversationGroupId, type QueuedEvent, type QueueMessage } from '#contracts/queue';

/** An entry or event that could not be queued. Positions and a code only: it gets logged. */
export interface RejectedEvent {
  entryIndex: number;
  /** Index within `messaging[]` or `standby[]` (see `field`); absent when the whole entry is bad. */
  eventIndex?: number;
  field?: 'messaging' | 'standby';
  reason: string;
}

export type ParsedWebhook =
  | { ok: true; events: QueuedEvent[]; rejected: RejectedEvent[] }
  | { ok: false; reason: 'invalid_json' | 'not_page' | 'invalid_envelope'; message: string };

type Json = Record<string, unknown>;

/** Far deeper than any Messenger event; keeps a later JSON.stringify off the stack limit. */
const MAX_DEPTH = 32;

/** SQS FIFO group and deduplication ids: 1–128 printable ASCII characters other than space. */
const SQS_ID = /^[!-~]{1,128}$/;

/**
 * Longest page id, user id or mid taken (UTF-16 units). Meta's are 15–20 digits and mids about 100–250
 * characters. The bound keeps every queue message that names an event small, a claim check included
 * (claim-check.ts: three ids of 16 Ki characters, each escaped at worst to 6 bytes, stay under 300 KB),
 * whatever else the event holds. Below it, an id too long for a DynamoDB key (1,024 bytes) is queued
 * and then quarantined by the processor with its reason (KeyTooLarge), not dropped here.
 */
export const MAX_ID_LENGTH = 16_384;

const EVENT_LISTS = [
  ['messaging', false],
  ['standby', true],
] as const;

/** Flattens a Messenger webhook body into one `QueuedEvent` per event of every entry. Never throws. */
export function parseWebhook(rawBody: Buffer | string): ParsedWebhook {
  let body: unknown;
  try {
    body = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid_json', message: 'body is not JSON' };
  }
  if (!isObject(body) || body.object !== 'page') {
    return { ok: false, reason: 'not_page', message: 'object is not "page"' };
  }
  if (!Array.isArray(body.entry)) {
    return { ok: false, reason: 'invalid_envelope', message: 'entry is not an array' };
  }
  const events: QueuedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  body.entry.forEach((entry: unknown, entryIndex: number) => {
    readEntry(entry, entryIndex, events, rejected);
  });
  return { ok: true, events, rejected };
}

/** The FIFO message for an event: grouped by conversation, deduplicated by event id. */
export function toQueueMessage(e: QueuedEvent): QueueMessage {
  return {
    groupId: sqsId(conversationGroupId(e.pageId, e.userId)),
    dedupId: sqsId(e.eventId),
    body: sqsSafeJson(e),
  };
}

/**
 * JSON that SQS accepts. JSON.stringify already escapes control characters and lone surrogates; SQS
 * also refuses U+FFFE and U+FFFF, which anyone can type into a message, so those are escaped too
 * (they only occur inside strings, where `\uFFFE` means the same).
 */
export function sqsSafeJson(value: unknown): string {
  const json = JSON.stringify(value);
  return NON_CHARACTERS.test(json)
    ? json.replace(NON_CHARACTERS_ALL, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
    : json;
}

const NON_CHARACTERS = /[\uFFFE\uFFFF]/;
const NON_CHARACTERS_ALL = /[\uFFFE\uFFFF]/g;

function readEntry(
  entry: unknown,
  entryIndex: number,
  events: QueuedEvent[],
  rejected: RejectedEvent[],
): void {
  if (!isObject(entry)) {
    rejected.push({ entryIndex, reason: 'entry_not_object' });
    return;
  }
  if (entry.messaging === undefined && entry.standby === undefined) {
    rejected.push({ entryIndex, reason: 'no_events' });
    return;
  }
  for (const [field, standby] of EVENT_LISTS) {
    const list = entry[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      rejected.push({ entryIndex, field, reason: 'not_an_array' });
      continue;
    }
    list.forEach((event: unknown, eventIndex: number) => {
      const result = readEvent(entry, event, standby);
      if (typeof result === 'string') rejected.push({ entryIndex, eventIndex, field, reason: result });
      else events.push(result);
    });
  }
}

/** The queued event, or the reason it cannot be queued. */
function readEvent(entry: Json, event: unknown, standby: boolean): QueuedEvent | string {
  if (!isObject(event)) return 'event_not_object';
  if (tooDeep(event, MAX_DEPTH)) return 'too_deep';
  const pageId = idOf(entry.id) ?? fallbackPageId(event);
  if (pageId === undefined) return 'no_page_id';
  const userId = otherParty(event, pageId);
  if (userId === undefined) return 'no_user_id';
  const timestamp = finite(event.timestamp) ?? finite(entry.time);
  if (timestamp === undefined) return 'no_timestamp';
  const eventId = eventIdOf(event);
  if (pageId.length > MAX_ID_LENGTH || userId.length > MAX_ID_LENGTH || eventId.length > MAX_ID_LENGTH) {
    return 'id_too_long';
  }
  return { v: 1, pageId, userId, eventId, timestamp, standby, event };
}

/** Without entry.id: the page is the recipient, or the sender of an echo. */
function fallbackPageId(event: Json): string | undefined {
  const echo = isObject(event.message) && event.message.is_echo === true;
  const page = echo ? event.sender : event.recipient;
  return isObject(page) ? idOf(page.id) : undefined;
}

/**
 * The person in the conversation, whichever way the event travels. Checkbox-plugin opt-ins name
 * the person only by `optin.user_ref`; `app_roles` concerns the whole page, so it uses the page id.
 */
function otherParty(event: Json, pageId: string): string | undefined {
  const sender = partyKey(event.sender);
  const other = sender === pageId ? partyKey(event.recipient) : sender;
  if (other !== undefined) return other;
  if (isObject(event.optin)) return userRef(event.optin.user_ref);
  if (isObject(event.app_roles)) return pageId;
  return undefined;
}

function partyKey(party: unknown): string | undefined {
  return isObject(party) ? (idOf(party.id) ?? userRef(party.user_ref)) : undefined;
}

function userRef(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? `ref:${value}` : undefined;
}

/** The event's own mid; a reaction's or delivery's mids name other messages, so they never count. */
function eventIdOf(event: Json): string {
  return midOf(event.message) ?? midOf(event.postback) ?? `h:${sha256(JSON.stringify(event))}`;
}

function midOf(value: unknown): string | undefined {
  return isObject(value) && typeof value.mid === 'string' && value.mid !== '' ? value.mid : undefined;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function tooDeep(value: unknown, depthLeft: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depthLeft === 0) return true;
  for (const key in value) {
    if (tooDeep((value as Json)[key], depthLeft - 1)) return true;
  }
  return false;
}

function sqsId(value: string): string {
  return SQS_ID.test(value) ? value : sha256(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
