export interface ConversationRecord {
  pageId: string;
  userId: string;
  /** The contact's "first last", once the profile is known. */
  name?: string;
  lastMessageAt: number;
  /** Timestamp of the person's last message or postback: opens the 24-hour window. */
  lastInboundAt?: number;
  deliveredWatermark?: number;
  readWatermark?: number;
}

export type TimelineKind = 'message' | 'postback' | 'referral' | 'optin' | 'handover';
export type OutStatus = 'sent' | 'delivered' | 'read' | 'failed';

/** One entry of a conversation's timeline, unique by `mid` for ever. */
export interface TimelineItem {
  pageId: string;
  userId: string;
  mid: string;
  kind: TimelineKind;
  direction: 'in' | 'out';
  timestamp: number;
  text?: string;
  attachments?: Array<Record<string, unknown>>;
  quickReplyPayload?: string;
  replyToMid?: string;
  /** Postbacks: the button's title and payload. */
  title?: string;
  payload?: string;
  /** Referral / optin / handover details. */
  detail?: Record<string, unknown>;
  /** Out messages: the stored status ('sent', 'failed', or 'delivered' when a delivery named the mid). */
  status?: OutStatus;
  /** Reactions on this message, by the reacting user id. */
  reactions?: Record<string, { reaction?: string; emoji?: string; timestamp: number }>;
  /** Echoes: the sending app id. */
  appId?: string;
  standby?: boolean;
  /** Parts of an oversize item were moved to the blob store and cannot be read back now. */
  partsUnavailable?: boolean;
}
