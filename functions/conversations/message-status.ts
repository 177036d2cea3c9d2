import type { ConversationRecord, OutStatus, TimelineItem } from '#contracts/conversation-records';

/**
 * The status of an `out` message, derived from the conversation's watermarks: a delivery or read
 * watermark covers every message sent up to it, so it is stored once per conversation, not per message.
 */
export function outStatus(item: TimelineItem, conversation: ConversationRecord | undefined): OutStatus {
  if (item.status === 'failed') return 'failed';
  if ((conversation?.readWatermark ?? -1) >= item.timestamp) return 'read';
  if (item.status === 'delivered' || (conversation?.deliveredWatermark ?? -1) >= item.timestamp)
    return 'delivered';
  return 'sent';
}
