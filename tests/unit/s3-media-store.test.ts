/**
 * The AWS media adapters (SPEC §10): copies go to S3 as one streamed PutObject when the length is known
 * (content type and length set), links are presigned GETs of the key valid one hour, a message's copies
 * are erased by prefix, and jobs go to the standard media queue in batches of at most ten, a refused
 * entry failing the send.
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MEDIA_LINK_SECONDS, S3MediaStore } from '#adapters/aws/s3-media-store';
import { SqsMediaQueue } from '#adapters/aws/sqs-media-queue';
import type { MediaJob } from '#contracts/media-job';
import { mediaKey, messageMediaPrefix } from '#media/media-key';
import { first } from '#testkit/pick';

const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
beforeEach(() => {
  s3.reset();
  sqs.reset();
});

const client = () =>
  new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' },
  });

describe('S3MediaStore', () => {
  it('streams a body of known length as one PutObject with its content type and length', async () => {
    s3.on(PutObjectCommand).resolves({});
    const key = mediaKey('1', '2', 'm_1', 0);
    const body = Readable.from([Buffer.from('abc')]);
    await new S3MediaStore(client(), 'media-bucket').put(key, body, { contentType: 'image/png', length: 3 });
    const input = first(s3.commandCalls(PutObjectCommand), 'put').args[0].input;
    expect(input).toMatchObject({
      Bucket: 'media-bucket',
      Key: key,
      ContentType: 'image/png',
      ContentLength: 3,
    });
    expect(input.Body).toBe(body);
  });

  it('refuses a key that is not a blob key, before any request', async () => {
    await expect(
      new S3MediaStore(client(), 'b').put('../x', Readable.from([]), { contentType: 'a/b', length: 0 }),
    ).rejects.toThrow(/not a blob key/);
    expect(s3.calls()).toHaveLength(0);
  });

  it('links to a copy by a GET presigned for one hour (at least the 15 minutes SPEC §10 asks)', async () => {
    const key = mediaKey('1', '2', 'm_1', 3);
    const link = new URL(await new S3MediaStore(client(), 'media-bucket').linkFor(key));
    expect(link.protocol).toBe('https:');
    expect(`${link.hostname}${link.pathname}`).toMatch(/media-bucket.*\/media\/[0-9a-f]{64}\/3$/);
    expect(link.searchParams.get('X-Amz-Expires')).toBe(String(MEDIA_LINK_SECONDS));
    expect(MEDIA_LINK_SECONDS).toBeGreaterThanOrEqual(15 * 60);
    expect(link.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0); // signed locally, nothing fetched
  });

  it("erases one message's copies by their prefix", async () => {
    const prefix = messageMediaPrefix('1', '2', 'm_1');
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `${prefix}0` }, { Key: `${prefix}1` }] });
    s3.on(DeleteObjectsCommand).resolves({});
    expect(await new S3MediaStore(client(), 'b').eraseMessage('1', '2', 'm_1')).toBe(2);
    expect(first(s3.commandCalls(ListObjectsV2Command), 'list').args[0].input).toEqual({
      Bucket: 'b',
      Prefix: prefix,
    });
    expect(first(s3.commandCalls(DeleteObjectsCommand), 'delete').args[0].input).toEqual({
      Bucket: 'b',
      Delete: { Objects: [{ Key: `${prefix}0` }, { Key: `${prefix}1` }], Quiet: true },
    });
  });
});

describe('SqsMediaQueue', () => {
  const job = (index: number): MediaJob => ({
    pageId: '1',
    userId: '2',
    mid: 'm_1',
    index,
    url: 'https://scontent.xx.fbcdn.net/a.jpg',
    type: 'image',
  });

  it('sends jobs in batches of at most ten, each body a job (ids and the CDN URL, no token)', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await new SqsMediaQueue(new SQSClient({}), 'https://sqs/q').send(
      Array.from({ length: 23 }, (_, i) => job(i)),
    );
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries?.length)).toEqual([10, 10, 3]);
    expect(JSON.parse(first(first(calls, 'call').Entries ?? [], 'entry').MessageBody ?? '')).toEqual(job(0));
    expect(calls.every((c) => c.QueueUrl === 'https://sqs/q')).toBe(true);
  });

  it('fails the send when SQS refuses an entry (the processor record is then retried)', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [], Failed: [{ Id: '0', Code: 'Throttled', SenderFault: false }] });
    await expect(new SqsMediaQueue(new SQSClient({}), 'https://sqs/q').send([job(0)])).rejects.toThrow(
      /Throttled/,
    );
  });
});
