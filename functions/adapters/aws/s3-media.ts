import type { MediaStore } from '#ports/media';

/**
 * The deployed media store on bucket MEDIA_BUCKET, its S3 client evaluated on first use: the processor
 * needs it only for an unsent message's copies, the admin function only for messages with copies.
 */
export function s3Media(bucket: string): MediaStore {
  let store: Promise<MediaStore> | undefined;
  const load = () => {
    store ??= import('./s3-media-store.js').then(({ s3MediaStore }) => s3MediaStore(bucket));
    return store;
  };
  return {
    put: async (key, body, meta) => (await load()).put(key, body, meta),
    linkFor: async (key) => (await load()).linkFor(key),
    eraseMessage: async (pageId, userId, mid) => (await load()).eraseMessage(pageId, userId, mid),
  };
}
