import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type BlobStore, checkBlobKey } from '#ports/ports';

/** Blobs as objects of one S3 bucket (encrypted at rest by the bucket's default encryption). */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: checkBlobKey(key), Body: body }));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const output = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: checkBlobKey(key) }),
      );
      return output.Body ? Buffer.from(await output.Body.transformToByteArray()) : Buffer.alloc(0);
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}
