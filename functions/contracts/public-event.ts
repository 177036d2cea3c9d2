import * as z from 'zod/mini';

/*
 * Placeholder of the public event contract (SPEC §8), written by the events-local branch only so that
 * it compiles: the events-contract branch owns this file and its version wins at merge.
 */
export const PublicEvent = z.object({
  id: z.string().check(z.minLength(1)),
  type: z.string().check(z.minLength(1)),
  time: z.string(),
  version: z.literal(1),
  pageId: z.string().check(z.minLength(1)),
  channel: z.string(),
  userId: z.optional(z.string()),
  seq: z.optional(z.number()),
  data: z.record(z.string(), z.unknown()),
});
export type PublicEvent = z.infer<typeof PublicEvent>;
