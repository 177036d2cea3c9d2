import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3BlobStore } from '#adapters/aws/s3-blob-store';
import { first } from '#testkit/pick';

const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());

describe('S3BlobStore', () => {
  it('puts the bytes under the key in the bucket', async () => {
    s3.on(PutObjectCommand).resolves({});
    await new S3BlobStore(new S3Client({}), 'blobs').put('claims/x.json', Buffer.from('{}'));
    const calls = s3.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(1);
    expect(first(calls, 'calls').args[0].input).toEqual({
      Bucket: 'blobs',
      Key: 'claims/x.json',
      Body: Buffer.from('{}'),
    });
  });

  it('gets the bytes back, and undefined for a missing key', async () => {
    s3.on(GetObjectCommand, { Bucket: 'blobs', Key: 'a' }).resolves({
      // The SDK's stream mixin, reduced to the one method the adapter calls.
      Body: { transformToByteArray: async () => new Uint8Array(Buffer.from('hello')) } as never,
    });
    s3.on(GetObjectCommand, { Bucket: 'blobs', Key: 'b' }).rejects(
      new NoSuchKey({ message: 'no such key', $metadata: {} }),
    );
    const store = new S3BlobStore(new S3Client({}), 'blobs');
    expect((await store.get('a'))?.toString()).toBe('hello');
    expect(await store.get('b')).toBeUndefined();
  });

  it('refuses a key that is not a blob key before calling S3', async () => {
    await expect(new S3BlobStore(new S3Client({}), 'blobs').get('../x')).rejects.toThrow(/not a blob key/);
    expect(s3.calls()).toHaveLength(0);
  });
});
