import * as z from 'zod/mini';

/**
 * Facebook Login connect links (SPEC §12): what `POST /admin/connect-links` answers, what
 * `GET /admin/connect-links/{linkId}` answers while the CLI waits, and the stored link record.
 */

/**
 * A link's user token is sealed under the token key's `pageId` context slot with this prefix and the
 * link id: IAM lets only the connect function use such a context, and the page-token grants refuse it.
 */
export const LINK_SEAL_PREFIX = 'link-';

/** A link lives 15 minutes (SPEC §12); a caller may ask for less, never more. */
export const CONNECT_LINK_TTL_SECONDS = 15 * 60;
/** The stored record (and its result) stays readable this long after the link expired, then TTL deletes it. */
export const CONNECT_LINK_KEEP_SECONDS = 24 * 3600;

/** Facebook Login permissions Pagewire asks for: Messenger pages, then the Instagram accounts linked to them. */
export const LOGIN_SCOPES = [
  'pages_show_list',
  'pages_messaging',
  'pages_manage_metadata',
  'business_management',
  'instagram_basic',
  'instagram_manage_messages',
] as const;

/**
 * `created` → (`dialog_opened`) → `code_exchanged` (the single-use claim) → `connecting` (the picker
 * was submitted) → `done`; or `failed` from any state before `done`.
 */
export const ConnectLinkStatus = z.enum([
  'created',
  'dialog_opened',
  'code_exchanged',
  'connecting',
  'done',
  'failed',
]);
export type ConnectLinkStatus = z.infer<typeof ConnectLinkStatus>;

export const ConnectedPageView = z.object({
  pageId: z.string(),
  name: z.string(),
  status: z.string(),
  error: z.optional(z.string()),
});
export type ConnectedPageView = z.infer<typeof ConnectedPageView>;

export const CreateConnectLinkBody = z.nullable(
  z.object({
    expiresInSeconds: z.optional(
      z
        .int('expected whole seconds')
        .check(
          z.minimum(1, 'is at least 1'),
          z.maximum(CONNECT_LINK_TTL_SECONDS, `is at most ${CONNECT_LINK_TTL_SECONDS}`),
        ),
    ),
  }),
);

/** `POST /admin/connect-links`: the link to open in a browser (it carries the state: share it with care). */
export const ConnectLinkCreated = z.object({ linkId: z.string(), url: z.string(), expiresAt: z.string() });
export type ConnectLinkCreated = z.infer<typeof ConnectLinkCreated>;

/** `GET /admin/connect-links/{linkId}`: never the state, never a token. */
export const ConnectLinkView = z.object({
  linkId: z.string(),
  status: ConnectLinkStatus,
  expired: z.boolean(),
  expiresAt: z.string(),
  result: z.optional(z.array(ConnectedPageView)),
  error: z.optional(z.string()),
});
export type ConnectLinkView = z.infer<typeof ConnectLinkView>;

/** The stored link, keyed by the link id (a SHA-256 of the state, never the state itself). */
export const ConnectLinkRecord = z.object({
  linkId: z.string(),
  status: ConnectLinkStatus,
  createdAt: z.string(),
  expiresAt: z.string(),
  /** The long-lived user token, sealed for `link-{linkId}`, between the code exchange and the submit. */
  sealedUserToken: z.optional(z.string()),
  /** SHA-256 (hex) of the picker form's CSRF token, set with the cookie by the callback. */
  csrfHash: z.optional(z.string()),
  result: z.optional(z.array(ConnectedPageView)),
  error: z.optional(z.string()),
});
export type ConnectLinkRecord = z.infer<typeof ConnectLinkRecord>;
