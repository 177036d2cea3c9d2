import * as z from 'zod/mini';

/**
 * The admin API's answers (SPEC §4), as the CLI and scripts read them. zod/mini, no imports beyond it,
 * so any client (bin/cli, bin/send-test-webhook.ts) can parse answers without pulling in server code.
 * Objects drop what they do not name: a client reads these fields; `--json` prints the answer as it came.
 */

const Text = z.optional(z.nullable(z.string()));

/** A page as the admin API shows it: never a token. */
export const PageView = z.object({
  pageId: z.string(),
  name: Text,
  status: z.optional(z.string()),
  subscribedFields: z.optional(z.array(z.string())),
  lastCheckedAt: Text,
  lastError: Text,
  connectedAt: Text,
  /** SPEC §9: the last webhook event of the page, and the doctor's warnings (`quiet` as of now). */
  lastEventAt: Text,
  warnings: z.optional(z.array(z.string())),
});
export type PageView = z.infer<typeof PageView>;

/** `GET /admin/pages`. */
export const PagesAnswer = z.object({ pages: z.array(PageView) });
export type PagesAnswer = z.infer<typeof PagesAnswer>;

/** `POST /admin/pages/connect`: each page with its status, and why it is not active. */
export const ConnectAnswer = z.object({
  pages: z.array(
    z.object({ pageId: z.string(), name: Text, status: z.string(), error: z.optional(z.string()) }),
  ),
});
export type ConnectAnswer = z.infer<typeof ConnectAnswer>;

/**
 * `POST /admin/pages/{pageId}/subscribe`, `DELETE /admin/pages/{pageId}`: 200 with the page as it ends
 * up (and a warning), or 202 while the command is queued.
 */
export const PageCommandAnswer = z.union([
  z.object({ page: PageView, warning: z.optional(z.string()) }),
  z.object({ pageId: z.string(), status: z.literal('queued'), message: z.string() }),
]);
export type PageCommandAnswer = z.infer<typeof PageCommandAnswer>;

/** `POST /admin/subscriptions/{check,resubscribe-all}`: SPEC §4's report of a run over every page. */
export const BulkReport = z.object({
  total: z.number(),
  succeeded: z.number(),
  failed: z.array(z.object({ pageId: z.string(), error: z.string() })),
  repaired: z.optional(z.array(z.string())),
  /** Pages handed to the page-commands queue (large runs go on in the background). */
  queued: z.optional(z.number()),
});
export type BulkReport = z.infer<typeof BulkReport>;

/** `GET /admin/pages/{pageId}/conversations`. */
export const ConversationsAnswer = z.object({
  conversations: z.array(
    z.object({
      userId: z.string(),
      name: Text,
      lastMessageAt: z.number(),
      lastInboundAt: z.nullable(z.number()),
    }),
  ),
});
export type ConversationsAnswer = z.infer<typeof ConversationsAnswer>;

/** One timeline entry; `status` only for what the page sent. */
export const MessageView = z.object({
  mid: z.string(),
  kind: z.string(),
  direction: z.enum(['in', 'out']),
  text: z.nullable(z.string()),
  timestamp: z.number(),
  status: z.nullable(z.string()),
});

/** `GET /admin/pages/{pageId}/conversations/{userId}/messages`. */
export const MessagesAnswer = z.object({ messages: z.array(MessageView) });
export type MessagesAnswer = z.infer<typeof MessagesAnswer>;

/** One entry of `GET /admin/quarantine`. */
export const QuarantinedView = z.object({
  eventId: z.string(),
  pageId: z.string(),
  userId: z.string(),
  timestamp: z.nullable(z.number()),
  reason: z.string(),
  quarantinedAt: z.string(),
  detail: Text,
});
export type QuarantinedView = z.infer<typeof QuarantinedView>;

/** `GET /admin/quarantine`. */
export const QuarantineAnswer = z.object({ events: z.array(QuarantinedView) });
export type QuarantineAnswer = z.infer<typeof QuarantineAnswer>;

/** Every error answer: `{"error":{"code","message"}}` (SPEC §4). */
export const ApiErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;
