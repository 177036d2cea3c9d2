/** What Pagewire stores. One DynamoDB table; key layout in `store/table.ts`. */
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
