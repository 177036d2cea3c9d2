import type { Readable } from 'node:stream';
import type { MediaJob } from '#contracts/media-job';

/** Where attachment copies wait (SPEC §10): a standard SQS queue on AWS, a durable local queue locally. */
export interface MediaQueue {
  /** Resolves once every job is durably queued; rejects otherwise (the caller's record is retried). */
  send(jobs: readonly MediaJob[]): Promise<void>;
}

export interface MediaObject {
  body: Readable;
  contentType: string;
  size: number;
}

/**
 * The copies of attachments: S3 on AWS, files under `DATA_DIR/media` locally. Keys come from
 * functions/media/media-key.ts (`media/{hash of the message}/{index}`).
 */
export interface MediaStore {
  /**
   * Streams `body` into `key`; resolves once the object is stored whole. When `body` fails (a limit
   * passed, the CDN cut off) it rejects and nothing is left under `key`. Writing a key again replaces it.
   */
  put(key: string, body: Readable, meta: { contentType: string; length?: number }): Promise<void>;
  /** A link to the copy, valid at least 15 minutes (presigned on AWS, the admin route locally). */
  linkFor(key: string): Promise<string>;
  /** Erases every copy of one message's attachments; answers how many were erased. */
  eraseMessage(pageId: string, userId: string, mid: string): Promise<number>;
}

/** A store whose copies this process can read back (the local admin route). */
export interface ReadableMediaStore extends MediaStore {
  get(key: string): Promise<MediaObject | undefined>;
}
