import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { JsonObject } from '#contracts/json';
import { MAX_ID_LENGTH, SQS_ID_MAX } from '#contracts/limits';
import { conversationGroupId, type QueuedEvent, type QueueMessage } from '#contracts/queue';
import { EVENT_LISTS, EventList, EventRouting, WebhookEntry, WebhookEnvelope } from '#contracts/webhook';

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

/** Far deeper than any Messenger event; keeps a later JSON.stringify off the stack limit. */
const MAX_DEPTH = 32;

/** SQS FIFO group and deduplication ids: 1–128 printable ASCII characters other than space. */
const SQS_ID = new RegExp(`^[!-~]{1,${SQS_ID_MAX}}$`);

/** Longest page id, user id or mid taken (contracts/limits.ts says why). */
export { MAX_ID_LENGTH };

/** Flattens a Messenger webhook body into one `QueuedEvent` per event of every entry. Never throws. */
export function parseWebhook(rawBody: Buffer | string): ParsedWebhook {
  let body: unknown;
  try {
    body = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid_json', message: 'body is not JSON' };
  }
  const envelope = z.safeParse(WebhookEnvelope, body);
  if (!envelope.success) {
    // Only `entry` wrong: a page webhook with a bad envelope; anything else is not a page webhook.
    return envelope.error.issues.every((issue) => issue.path[0] === 'entry')
      ? { ok: false, reason: 'invalid_envelope', message: 'entry is not an array' }
      : { ok: false, reason: 'not_page', message: 'object is not "page"' };
  }
  const events: QueuedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  envelope.data.entry.forEach((entry, entryIndex) => {
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

function readEntry(raw: unknown, entryIndex: number, events: QueuedEvent[], rejected: RejectedEvent[]): void {
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
    list.data.forEach((event, eventIndex) => {
      const result = readEvent(entry.data, event, standby);
      if (typeof result === 'string') rejected.push({ entryIndex, eventIndex, field, reason: result });
      else events.push(result);
    });
  }
}

/** The queued event, or the reason it cannot be queued. The raw event is queued as it came. */
function readEvent(entry: WebhookEntry, raw: unknown, standby: boolean): QueuedEvent | string {
  const event = JsonObject.safeParse(raw);
  if (!event.success) return 'event_not_object';
  if (tooDeep(event.data, MAX_DEPTH)) return 'too_deep';
  const routing = z.safeParse(EventRouting, event.data);
  if (!routing.success) return 'event_not_object';
  const r = routing.data;
  const pageId = entry.id ?? fallbackPageId(r);
  if (pageId === undefined) return 'no_page_id';
  const userId = otherParty(r, pageId);
  if (userId === undefined) return 'no_user_id';
  const timestamp = r.timestamp ?? entry.time;
  if (timestamp === undefined) return 'no_timestamp';
  const eventId = r.message?.mid ?? r.postback?.mid ?? `h:${sha256(JSON.stringify(event.data))}`;
  if (pageId.length > MAX_ID_LENGTH || userId.length > MAX_ID_LENGTH || eventId.length > MAX_ID_LENGTH) {
    return 'id_too_long';
  }
  return { v: 1, pageId, userId, eventId, timestamp, standby, event: event.data };
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

function tooDeep(value: unknown, depthLeft: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depthLeft === 0) return true;
  for (const key in value) {
    if (tooDeep((value as Record<string, unknown>)[key], depthLeft - 1)) return true;
  }
  return false;
}

function sqsId(value: string): string {
  return SQS_ID.test(value) ? value : sha256(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
