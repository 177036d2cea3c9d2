import { createHash } from 'node:crypto';

/** Every copy lives under this prefix of the media store. */
export const MEDIA_PREFIX = 'media/';

/**
 * The folder of one message's copies: a hash of (page, user, mid), so ids of any length or alphabet make
 * a short, valid key, and a redelivered job lands on the same object.
 */
export function messageMediaPrefix(pageId: string, userId: string, mid: string): string {
  const hash = createHash('sha256').update(`${pageId}|${userId}|${mid}`, 'utf8').digest('hex');
  return `${MEDIA_PREFIX}${hash}/`;
}

/** The key of attachment `index` of a message. */
export function mediaKey(pageId: string, userId: string, mid: string, index: number): string {
  return `${messageMediaPrefix(pageId, userId, mid)}${index}`;
}

const MEDIA_KEY = /^media\/[0-9a-f]{64}\/\d{1,4}$/;

/** True for a key this module makes (the local route serves nothing else). */
export function isMediaKey(key: string): boolean {
  return MEDIA_KEY.test(key);
}
