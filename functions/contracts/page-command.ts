import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { QueueMessage } from './queue.js';

/**
 * A change to one page's subscription, run by the page-commands consumer. Commands of one page share
 * a FIFO group, so they run in the order they were given: a connect followed by a disconnect can
 * never end subscribed.
 */
export const PAGE_COMMAND_TYPES = [
  'connect',
  'subscribe',
  'disconnect',
  'check',
  'check-and-repair',
] as const;
export const PageCommandType = z.enum(PAGE_COMMAND_TYPES);
export type PageCommandType = z.infer<typeof PageCommandType>;

export const PageCommand = z.object({
  v: z.literal(1),
  id: z.string().check(z.minLength(1)),
  type: PageCommandType,
  pageId: z.string().check(z.minLength(1)),
  requestedAt: z.string(),
});
export type PageCommand = z.infer<typeof PageCommand>;

export function pageCommand(type: PageCommandType, pageId: string): PageCommand {
  return { v: 1, id: randomUUID(), type, pageId, requestedAt: new Date().toISOString() };
}

export function pageCommandMessage(c: PageCommand): QueueMessage {
  return { groupId: `page:${c.pageId}`, dedupId: c.id, body: JSON.stringify(c) };
}
