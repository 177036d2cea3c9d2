import type { TimelineItem } from '#contracts/conversation-records';
import type { Change } from '#events/change-log';
import { messageView } from './views.js';

/** Meta's app id for messages typed in the Page inbox (their echoes carry it). */
export const PAGE_INBOX_APP_ID = '263902037430900';

/** Who sent an outbound message (SPEC §8 `data.source`). */
export function sourceOf(appId: string | undefined, ourAppId: string | undefined): string {
  if (appId === undefined || appId === ourAppId) return 'pagewire';
  if (appId === PAGE_INBOX_APP_ID) return 'page_inbox';
  return `app:${appId}`;
}

const ITEM_TYPES = {
  message: undefined,
  postback: 'postback',
  referral: 'referral',
  optin: 'optin',
  handover: 'handover',
} as const;

/**
 * A stored timeline item as its public event: `data` is the item as the admin API shows it. Keys are
 * per item (`item:{mid}`), so a send recorded by the admin function and its echo are one change.
 */
export function itemChange(item: TimelineItem, ourAppId?: string): Change {
  const view = eventView(item);
  const type =
    ITEM_TYPES[item.kind] ??
    (item.direction === 'out' ? ('message.sent' as const) : ('message.received' as const));
  const data =
    item.kind === 'message' && item.direction === 'out'
      ? { ...view, source: sourceOf(item.appId, ourAppId) }
      : view;
  return {
    pageId: item.pageId,
    userId: item.userId,
    key: itemKeyOf(item.mid),
    type,
    at: item.timestamp,
    data,
  };
}

/**
 * A stored item as its events carry it: the admin API's view without the copies' storage keys (those
 * become links in the admin API; an event gets `message.media_stored` instead).
 */
function eventView(item: TimelineItem) {
  const view = messageView(item, undefined);
  const attachments = view.attachments.map(({ mediaKey: _key, ...shown }) => shown);
  return { ...view, attachments };
}

/** A delivery or read watermark raised, or a delivery naming its mids (SPEC §8 `message.status`). */
export function statusChange(input: {
  pageId: string;
  userId: string;
  status: 'delivered' | 'read' | 'failed';
  watermark?: number;
  mids?: string[];
  at: number;
}): Change {
  const { pageId, userId, status, watermark, mids = [], at } = input;
  const which = watermark !== undefined && watermark > 0 ? `${watermark}` : [...mids].sort().join(',');
  return {
    pageId,
    userId,
    key: `status:${status}:${which}`,
    type: 'message.status',
    at,
    data: { status, ...(watermark !== undefined && watermark > 0 ? { watermark } : {}), mids },
  };
}

/** One person's reaction set or removed on a message. */
export function reactionChange(input: {
  pageId: string;
  userId: string;
  mid: string;
  action: 'react' | 'unreact';
  reaction?: string;
  emoji?: string;
  at: number;
}): Change {
  const { pageId, userId, mid, action, reaction, emoji, at } = input;
  return {
    pageId,
    userId,
    key: `reaction:${mid}:${action}:${at}`,
    type: 'message.reaction',
    at,
    data: { mid, action, ...(reaction ? { reaction } : {}), ...(emoji ? { emoji } : {}) },
  };
}

/** The contact's profile name became known (or changed). */
export function contactChange(pageId: string, userId: string, name: string, at: number): Change {
  return { pageId, userId, key: `contact:name:${name}`, type: 'contact.updated', at, data: { userId, name } };
}

/** A Messenger edit applied (SPEC §11 `message.edited`): one event per edit of a message. */
export function editChange(item: TimelineItem, numEdit: number, at: number): Change {
  return {
    pageId: item.pageId,
    userId: item.userId,
    key: editKeyOf(item.mid, numEdit),
    type: 'message.edited',
    at,
    data: { ...eventView(item), edits: numEdit },
  };
}

/** A message unsent (SPEC §11 `message.deleted`): the erased message, once per message. */
export function deletedChange(pageId: string, userId: string, mid: string, at: number): Change {
  return { pageId, userId, key: `deleted:${mid}`, type: 'message.deleted', at, data: deletedData(mid) };
}

/** What is left of an unsent message, in its own event and in the events that carried its content. */
export function deletedData(mid: string): Record<string, unknown> {
  return { mid, deleted: true };
}

/**
 * The changes whose events carry a message's content: the message itself and each of its edits up to
 * `edits` (an edit lost on the way has no event; looking it up costs one read).
 */
export function contentKeysOf(mid: string, edits = 0): string[] {
  return [itemKeyOf(mid), ...Array.from({ length: edits }, (_, i) => editKeyOf(mid, i + 1))];
}

function itemKeyOf(mid: string): string {
  return `item:${mid}`;
}

function editKeyOf(mid: string, numEdit: number): string {
  return `edit:${mid}:${numEdit}`;
}
