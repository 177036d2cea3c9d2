import type { ConversationRecord, ListedConversation, TimelineItem } from '#contracts/conversation-records';
import type { PageRecord } from '#contracts/page-record';
import type { QuarantineRecord } from '#contracts/quarantine-record';
import { outStatus } from './message-status.js';
import type { QuarantineSummary } from './quarantine-repository.js';

/**
 * What `GET /admin/pages` shows of a page: everything but its sealed token, with its `channel`. An
 * Instagram entry (SPEC §11) shows the status of its page (`shownStatus`) when the caller passes it (`shown`).
 */
export function pageView(p: PageRecord, shown?: { status?: PageRecord['status'] }) {
  const { sealedToken: _sealed, pendingSealedToken: _pending, ...visible } = p;
  return {
    ...visible,
    // `?.`: callers also pass pageView to `map`, whose second argument is an index.
    status: shown?.status ?? p.status,
    channel: p.channel ?? 'messenger',
    subscribedFields: p.subscribedFields ?? [],
    lastCheckedAt: p.lastCheckedAt ?? null,
  };
}

export function conversationView(c: ListedConversation) {
  return {
    userId: c.userId,
    name: c.name ?? null,
    lastMessageAt: c.lastMessageAt,
    lastInboundAt: c.lastInboundAt ?? null,
  };
}

/** One timeline entry as SPEC §4 shows it; `status` only for what the page sent. */
export function messageView(item: TimelineItem, conversation: ConversationRecord | undefined) {
  return {
    mid: item.mid,
    kind: item.kind,
    direction: item.direction,
    text: item.text ?? null,
    attachments: item.attachments ?? [],
    timestamp: item.timestamp,
    status: item.direction === 'out' ? outStatus(item, conversation) : null,
    ...(item.quickReplyPayload ? { quickReplyPayload: item.quickReplyPayload } : {}),
    ...(item.replyToMid ? { replyToMid: item.replyToMid } : {}),
    ...(item.title || item.payload ? { title: item.title, payload: item.payload } : {}),
    ...(item.reactions && Object.keys(item.reactions).length ? { reactions: item.reactions } : {}),
    ...(item.detail ? { detail: item.detail } : {}),
    ...(item.standby ? { standby: true } : {}),
    ...(item.partsUnavailable ? { partsUnavailable: true } : {}),
    ...(item.deleted ? { deleted: true } : {}),
    ...(item.edits ? { edits: item.edits, editedAt: item.editedAt } : {}),
  };
}

/** A quarantined event as `GET /admin/quarantine` lists it. */
export function quarantineView(q: QuarantineSummary) {
  return {
    eventId: q.eventId,
    pageId: q.pageId,
    userId: q.userId,
    timestamp: q.timestamp ?? null,
    reason: q.reason,
    quarantinedAt: q.quarantinedAt,
    detail: q.detail ?? null,
    receiveCount: q.receiveCount ?? null,
    bodySize: q.bodySize,
  };
}

/** One quarantined event with the queue message body as it came (text: it may not even be JSON). */
export function quarantinedEventView(q: QuarantineRecord) {
  return { ...quarantineView(q), body: q.body ?? null };
}
