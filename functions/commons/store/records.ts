/** What Pagewire stores. One DynamoDB table; key layout in `table-schema.ts`. */
export type PageStatus =
  | 'subscribing'
  | 'active'
  | 'subscription_failed'
  | 'reauth_required'
  | 'disconnected';

export interface PageRecord {
  pageId: string;
  name: string;
  status: PageStatus;
  /** The page token sealed by the TokenSealer with context {pageId}. Absent once disconnected. */
  sealedToken?: string;
  /**
   * A token from a connect, waiting for its turn in the page's command queue: the connect command
   * makes it the page's token, so commands queued before the connect still act on the old one.
   */
  pendingSealedToken?: string;
  subscribedFields: string[];
  connectedAt: string;
  updatedAt: string;
  lastCheckedAt?: string;
  /** Last Graph error message for this page (Meta's words, never a token). */
  lastError?: string;
  /** The last page command run for this page: admin routes wait on it. */
  lastCommand?: { id: string; type: string; ok: boolean; error?: string; at: string };
}

export type ProfileStatus = 'fetched' | 'pending' | 'unavailable';

export interface ContactRecord {
  pageId: string;
  userId: string;
  firstName?: string;
  lastName?: string;
  profilePic?: string;
  profileStatus: ProfileStatus;
  updatedAt: string;
}

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

/**
 * An event that cannot be applied however often it is tried, kept instead of blocking its conversation
 * (one per page and event id, for ever). `reason` is a code (an error name); `detail` the error's own
 * message, which may quote the event, so it is shown to admins and never logged.
 */
export interface QuarantineRecord {
  pageId: string;
  userId: string;
  eventId: string;
  /** The event's timestamp, when it is a number the store can hold. */
  timestamp?: number;
  reason: string;
  detail?: string;
  quarantinedAt: string;
  /** How often the queue had delivered the event when it was quarantined. */
  receiveCount?: number;
  /** The queue message body as it came (the queued event), when it is small enough to keep inline. */
  body?: string;
  /** Where the body is in the blob store, when it is not inline. */
  bodyBlob?: string;
  bodySize: number;
}
