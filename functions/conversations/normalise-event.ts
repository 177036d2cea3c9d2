import * as z from 'zod/mini';
import { isJsonObject, type JsonObject } from '#contracts/json';
import type { QueuedEvent } from '#contracts/queue';
import { EVENT_KINDS, type EventBody } from '#contracts/webhook-events';
import type { ConversationEvent } from './conversation-event.js';

/** Interprets a queued webhook event. Pure; never throws, whatever shape the raw event has. */
export function normaliseEvent(q: QueuedEvent): ConversationEvent {
  const common = { pageId: q.pageId, userId: q.userId, timestamp: q.timestamp, standby: q.standby };
  return { ...common, fromPage: sentByPage(q), ...interpret(q.event, q.eventId) };
}

/** The sender is the page (or Instagram account) itself (ids may come as numbers). */
function sentByPage(q: QueuedEvent): boolean {
  const sender = q.event.sender;
  return isJsonObject(sender) && sender.id !== undefined && String(sender.id) === q.pageId;
}

/**
 * The first key that names a kind (contracts/webhook-events.ts) selects it; an event whose kind object
 * does not parse, or with no such key, is `unknown` (logged and skipped, SPEC §6).
 */
function interpret(e: JsonObject, eventId: string): EventBody {
  const selected = EVENT_KINDS.find(([key]) => e[key] !== undefined);
  if (selected) {
    const parsed = z.safeParse(selected[1], { eventId, value: e[selected[0]] });
    if (parsed.success) return parsed.data;
  }
  return { kind: 'unknown', eventId, keys: Object.keys(e) };
}
