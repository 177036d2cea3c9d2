import * as z from 'zod/mini';

/*
 * The Graph API's Instagram answers Pagewire reads (SPEC §11), parsed like every Graph answer
 * (contracts/graph.ts): an answer of another shape becomes a clear GraphError.
 */

const IdString = z.pipe(
  z.union([z.string().check(z.minLength(1)), z.number()]),
  z.transform((id) => String(id)),
);

/** `GET /{page-id}?fields=instagram_business_account{id,username}`: the field is absent without a link. */
export const InstagramAccountAnswer = z.object({
  instagram_business_account: z.optional(z.object({ id: IdString, username: z.optional(z.string()) })),
});

/** `GET /{igsid}?fields=name,username,profile_pic`: any of them may be missing. */
export const InstagramProfileAnswer = z.object({
  name: z.optional(z.string()),
  username: z.optional(z.string()),
  profile_pic: z.optional(z.string()),
});
