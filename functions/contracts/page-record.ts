import * as z from 'zod/mini';

/**
 * What Pagewire stores for a page. One DynamoDB table; key layout in `store/table.ts`. Reads are parsed
 * with this schema (pages/page-repository.ts): `z.object` drops the key and index attributes, and a
 * record that is not a page fails loudly instead of travelling on as one.
 */
export const PAGE_STATUSES = [
  'subscribing',
  'active',
  'subscription_failed',
  'reauth_required',
  'disconnected',
] as const;
export const PageStatus = z.enum(PAGE_STATUSES);
export type PageStatus = z.infer<typeof PageStatus>;

/** The last page command run for a page: admin routes wait on it. */
export const LastCommand = z.object({
  id: z.string(),
  type: z.string(),
  ok: z.boolean(),
  error: z.optional(z.string()),
  at: z.string(),
});
export type LastCommand = z.infer<typeof LastCommand>;

export const PageRecord = z.object({
  pageId: z.string(),
  name: z.string(),
  status: PageStatus,
  /** The page token sealed by the TokenSealer with context {pageId}. Absent once disconnected. */
  sealedToken: z.optional(z.string()),
  /**
   * A token from a connect, waiting for its turn in the page's command queue: the connect command
   * makes it the page's token, so commands queued before the connect still act on the old one.
   */
  pendingSealedToken: z.optional(z.string()),
  subscribedFields: z.array(z.string()),
  connectedAt: z.string(),
  updatedAt: z.string(),
  lastCheckedAt: z.optional(z.string()),
  /** Last Graph error message for this page (Meta's words, never a token). */
  lastError: z.optional(z.string()),
  lastCommand: z.optional(LastCommand),
  /**
   * `instagram` for a page's linked Instagram professional account, stored as its own entry (SPEC §11):
   * `pageId` is the account id, `name` its username. Absent: a Messenger page.
   */
  channel: z.optional(z.enum(['messenger', 'instagram'])),
  /** Instagram entries: the Facebook page the account is linked to, whose token its calls use. */
  linkedPageId: z.optional(z.string()),
});
export type PageRecord = z.infer<typeof PageRecord>;
