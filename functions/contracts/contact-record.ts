import * as z from 'zod/mini';

/**
 * What Pagewire stores of a person who wrote to a page (key layout in `store/table.ts`). Reads are
 * parsed with this schema (`recordOf`, store/records.ts).
 */
export const ProfileStatus = z.enum(['fetched', 'pending', 'unavailable']);
export type ProfileStatus = z.infer<typeof ProfileStatus>;

export const ContactRecord = z.object({
  pageId: z.string(),
  userId: z.string(),
  firstName: z.optional(z.string()),
  lastName: z.optional(z.string()),
  profilePic: z.optional(z.string()),
  profileStatus: ProfileStatus,
  updatedAt: z.string(),
});
export type ContactRecord = z.infer<typeof ContactRecord>;
