import * as z from 'zod/mini';

/*
 * The Graph API's answers, as far as Pagewire reads them. Parsed, not cast: an answer of another shape
 * (a proxy's HTML, a changed field) becomes a clear GraphError instead of `undefined` deep inside a
 * caller. Unknown fields are ignored; ids Meta may send as numbers are read as strings.
 */

const IdString = z.pipe(
  z.union([z.string().check(z.minLength(1)), z.number()]),
  z.transform((id) => String(id)),
);

/** `GET /oauth/access_token` */
export const TokenAnswer = z.object({ access_token: z.string().check(z.minLength(1)) });

/** `GET /me/accounts`; `access_token` is absent when the user has no task granting one. */
export const AccountsAnswer = z.object({
  data: z.optional(
    z.array(z.object({ id: IdString, name: z.string(), access_token: z.optional(z.string()) })),
  ),
  paging: z.optional(z.object({ next: z.optional(z.string()) })),
});

/** `GET /{page-id}/subscribed_apps` */
export const SubscribedAppsAnswer = z.object({
  data: z.optional(z.array(z.object({ id: IdString, subscribed_fields: z.optional(z.array(z.string())) }))),
});

/** `GET /{psid}?fields=first_name,last_name,profile_pic`: Meta may answer an empty object. */
export const ProfileAnswer = z.object({
  first_name: z.optional(z.string()),
  last_name: z.optional(z.string()),
  profile_pic: z.optional(z.string()),
});

/** `POST /{page-id}/messages` */
export const SendAnswer = z.object({ message_id: z.string().check(z.minLength(1)) });

/** `POST`/`DELETE /{page-id}/subscribed_apps`: `{"success":true}`. */
export const SuccessAnswer = z.object({ success: z.optional(z.boolean()) });

/** Meta's error body: `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`. */
export const GraphErrorBody = z.object({
  error: z.object({
    message: z.optional(z.string()),
    code: z.optional(z.number()),
    error_subcode: z.optional(z.number()),
    fbtrace_id: z.optional(z.string()),
  }),
});

/** `GET /{app-id}/subscriptions` (app token): the app's webhook per object. */
export const AppSubscriptionsAnswer = z.object({
  data: z.optional(
    z.array(
      z.object({
        object: z.string(),
        callback_url: z.optional(z.string()),
        active: z.optional(z.boolean()),
        fields: z.optional(z.array(z.object({ name: z.string(), version: z.optional(z.string()) }))),
      }),
    ),
  ),
});

/**
 * `GET /debug_token?input_token=…` (app token). An invalid token still answers 200, with `is_valid`
 * false (and `data.error`); `expires_at` 0 is "never"; `data_access_expires_at` is in epoch seconds.
 */
export const DebugTokenAnswer = z.object({
  data: z.object({
    is_valid: z.boolean(),
    scopes: z.optional(z.array(z.string())),
    expires_at: z.optional(z.number()),
    data_access_expires_at: z.optional(z.number()),
    error: z.optional(z.object({ code: z.optional(z.number()), message: z.optional(z.string()) })),
  }),
});
