import { randomUUID } from 'node:crypto';
import type { QueueMessage } from './queue.js';

/**
 * A change to one page's subscription, run by the page-commands consumer. Commands of one page share
 * a FIFO group, so they run in the order they were given: a connect followed by a disconnect can
 * never end subscribed.
 */
export type PageCommandType = 'connect' | 'subscribe' | 'disconnect' | 'check' | 'check-and-repair';

export interface PageCommand {
  v: 1;
  id: string;
  type: PageCommandType;
  pageId: string;
  requestedAt: string;
}

export function pageCommand(type: PageCommandType, pageId: string): PageCommand {
  return { v: 1, id: randomUUID(), type, pageId, requestedAt: new Date().toISOString() };
}

export function pageCommandMessage(c: PageCommand): QueueMessage {
  return { groupId: `page:${c.pageId}`, dedupId: c.id, body: JSON.stringify(c) };
}
