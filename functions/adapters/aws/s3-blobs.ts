import type { BlobStore } from '#ports/ports';

/**
 * The deployed blob store: S3 bucket `bucket` (BLOB_BUCKET). The S3 client loads on first use: the
 * verifier needs it only for the rare claim check, and its cold start is on Facebook's clock (the S3
 * client is about a third of a bundle).
 */
export function s3Blobs(bucket: string): BlobStore {
  let store: Promise<BlobStore> | undefined;
  const load = () => {
    store ??= Promise.all([import('./s3-client.js'), import('./s3-blob-store.js')]).then(
      ([{ S3Client }, { S3BlobStore }]) => new S3BlobStore(new S3Client({}), bucket),
    );
    return store;
  };
  return {
    put: async (key, body) => (await load()).put(key, body),
    get: async (key) => (await load()).get(key),
  };
}
