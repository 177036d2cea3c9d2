import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { messageMediaPrefix } from '#media/media-key';
import type { MediaStore } from '#ports/media';
import { checkBlobKey } from '#ports/ports';

/**
 * How long a link to a copy is valid. SPEC §10 asks at least 15 minutes; a link signed with a Lambda
 * role's credentials dies with them too (FACTS: S3 presigned URLs), so one hour, not more.
 */
export const MEDIA_LINK_SECONDS = 3600;

/**
 * Copies as objects of the media bucket. A body of known length is one streamed PutObject; one of
 * unknown length (a chunked CDN answer) a multipart upload through lib-storage, holding one 5 MB part
 * at a time. Never a whole file in memory beyond that.
 */
export class S3MediaStore implements MediaStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Readable, meta: { contentType: string; length?: number }): Promise<void> {
    const input = { Bucket: this.bucket, Key: checkBlobKey(key), Body: body, ContentType: meta.contentType };
    if (meta.length !== undefined) {
      await this.client.send(new PutObjectCommand({ ...input, ContentLength: meta.length }));
      return;
    }
    // Parts are uploaded one at a time (queueSize 1); a failed upload is aborted (no parts left behind).
    await new Upload({ client: this.client, params: input, queueSize: 1, leavePartsOnError: false }).done();
  }

  linkFor(key: string): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: checkBlobKey(key) });
    return getSignedUrl(this.client, command, { expiresIn: MEDIA_LINK_SECONDS });
  }

  /** Needs s3:ListBucket (prefix media/) and s3:DeleteObject on the bucket: grant both to its caller. */
  async eraseMessage(pageId: string, userId: string, mid: string): Promise<number> {
    const prefix = messageMediaPrefix(pageId, userId, mid);
    const listed = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }));
    const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (!keys.length) return 0;
    await this.client.send(
      new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
    );
    return keys.length;
  }
}

/**
 * The deployed media store on bucket MEDIA_BUCKET. Checksums only when S3 requires them: a streamed
 * body would otherwise go out aws-chunked with a trailing CRC, and TLS already guards the bytes.
 */
export function s3MediaStore(bucket: string): S3MediaStore {
  return new S3MediaStore(
    new S3Client({
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    bucket,
  );
}
