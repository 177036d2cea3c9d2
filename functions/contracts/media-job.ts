import * as z from 'zod/mini';
import { PUBLIC_EVENT_CHANNELS, type PublicConversationEvent } from './public-event.js';

/**
 * One attachment to copy (SPEC §10), as the media queue carries it. Ids and Meta's CDN URL only: never a
 * token (the CDN URL is signed by Meta for anyone holding it, which is why it is fetched, not forwarded).
 */
export const MediaJob = z.object({
  pageId: z.string().check(z.minLength(1)),
  userId: z.string().check(z.minLength(1)),
  mid: z.string().check(z.minLength(1)),
  index: z.int().check(z.nonnegative()),
  url: z.string().check(z.minLength(1)),
  type: z.string(),
  /** The conversation's channel, for the copy's public event (absent: messenger). */
  channel: z.optional(z.enum(PUBLIC_EVENT_CHANNELS)),
});
export type MediaJob = z.infer<typeof MediaJob>;

/** Meta's policy: story-mention media must never be stored. */
export const NEVER_COPIED_TYPES: ReadonlySet<string> = new Set(['story_mention']);

/** The most bytes one attachment may have (Meta's own limit for attachments is 25 MB). */
export const MEDIA_MAX_BYTES = 25 * 1024 * 1024;

/**
 * The copies a stored message asks for, from its public events (`message.received` / `message.sent`,
 * whose `data` is the stored message): one job per attachment with a `payload.url`, story mentions
 * excepted. Derived from the events so a redelivery, which finds the message stored and answers the same
 * events, queues the same jobs again.
 */
export function mediaJobsOf(events: readonly PublicConversationEvent[]): MediaJob[] {
  const jobs: MediaJob[] = [];
  for (const event of events) {
    if (event.type !== 'message.received' && event.type !== 'message.sent') continue;
    const { mid, attachments } = event.data;
    if (typeof mid !== 'string' || !Array.isArray(attachments)) continue;
    attachments.forEach((attachment: unknown, index) => {
      const a = attachment as { type?: unknown; payload?: { url?: unknown } } | null;
      const url = a?.payload?.url;
      const type = typeof a?.type === 'string' ? a.type : 'unknown';
      if (typeof url !== 'string' || url === '' || NEVER_COPIED_TYPES.has(type)) return;
      const { pageId, userId, channel } = event;
      jobs.push({ pageId, userId, mid, index, url, type, ...(channel === 'instagram' ? { channel } : {}) });
    });
  }
  return jobs;
}
