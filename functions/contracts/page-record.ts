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
  // --- Diagnostics (SPEC §9): written by the processor's liveness touch and the doctor, never by apply().
  /** The newest webhook event of the page (ISO), kept within a few minutes (pages/page-liveness.ts). */
  lastEventAt: z.optional(z.string()),
  /**
   * Days with events, one slot per day of the week: `eventDay{n}` holds the newest epoch day number
   * (UTC) with events whose number mod 7 is n, so the seven slots say which of the last seven days had
   * events (top-level numbers: one UpdateItem sets one, see pages/page-liveness.ts).
   */
  eventDay0: z.optional(z.number()),
  eventDay1: z.optional(z.number()),
  eventDay2: z.optional(z.number()),
  eventDay3: z.optional(z.number()),
  eventDay4: z.optional(z.number()),
  eventDay5: z.optional(z.number()),
  eventDay6: z.optional(z.number()),
  /** The warnings of the doctor's last run (SPEC §9 names; `quiet` included when it found the page quiet). */
  warnings: z.optional(z.array(z.string())),
  /** When the doctor last changed `warnings` or introspected the token (ISO). */
  warningsCheckedAt: z.optional(z.string()),
  /** When the doctor last introspected the page token (`/debug_token`; about once a day per page). */
  tokenCheckedAt: z.optional(z.string()),
  /**
   * `instagram` for a page's linked Instagram professional account, stored as its own entry (SPEC §11):
   * `pageId` is the account id, `name` its username. Absent: a Messenger page.
   */
  channel: z.optional(z.enum(['messenger', 'instagram'])),
  /** Instagram entries: the Facebook page the account is linked to, whose token its calls use. */
  linkedPageId: z.optional(z.string()),
});
export type PageRecord = z.infer<typeof PageRecord>;
