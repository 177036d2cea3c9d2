/**
 * The SQS fake on loopback (testkit/sqs-fake.ts), driven by the real SQSClient: what the SDK sends
 * is understood, and SQS's answers and limits are played back as the SDK expects them.
 */
import { createHash } from 'node:crypto';
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { take } from '#testkit/pick';
import { fakeSqsClient, SqsFake } from '#testkit/sqs-fake';

let fake: SqsFake;
let client: SQSClient;
let queueUrl: string;

beforeEach(async () => {
  fake = new SqsFake();
  await fake.start();
  client = fakeSqsClient(fake);
  queueUrl = fake.createQueue('events.fifo');
});

afterEach(async () => {
  client.destroy();
  await fake.stop();
});

const entry = (id: string, body: string, group = 'page:user', dedup = `d-${id}`) => ({
  Id: id,
  MessageBody: body,
  MessageGroupId: group,
  MessageDeduplicationId: dedup,
});

const batch = (entries: ReturnType<typeof entry>[], url = queueUrl) =>
  client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));

describe('SQS fake', () => {
  it('takes a batch from the SDK: ids, MD5s the SDK accepts, rising sequence numbers, messages in order', async () => {
    const out = await batch([entry('0', '{"a":"é"}'), entry('1', '{"b":2}', 'page:other')]);
    expect(out.Failed ?? []).toEqual([]);
    expect(out.Successful?.map((s) => s.Id)).toEqual(['0', '1']);
    expect(out.Successful?.[0]?.MD5OfMessageBody).toBe(createHash('md5').update('{"a":"é"}').digest('hex'));
    const [first, second] = take(
      out.Successful?.map((s) => BigInt(s.SequenceNumber ?? '0')) ?? [],
      2,
      'sequence number',
    );
    expect(second > first).toBe(true);
    expect(fake.messages('events.fifo').map((m) => [m.body, m.groupId, m.dedupId])).toEqual([
      ['{"a":"é"}', 'page:user', 'd-0'],
      ['{"b":2}', 'page:other', 'd-1'],
    ]);
    expect(fake.calls).toEqual([{ action: 'SendMessageBatch', queue: 'events.fifo', entries: 2 }]);
  });

  it('accepts a duplicate (same group and dedup id) without storing it twice, as FIFO does', async () => {
    await batch([entry('0', 'x', 'g', 'same')]);
    const again = await batch([entry('0', 'x', 'g', 'same'), entry('1', 'y', 'other-group', 'same')]);
    expect(again.Successful?.map((s) => s.Id)).toEqual(['0', '1']);
    expect(fake.messages('events.fifo').map((m) => m.body)).toEqual(['x', 'y']);
  });

  it('answers SendMessage too', async () => {
    const out = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'one',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd',
      }),
    );
    expect(out.MD5OfMessageBody).toBe(createHash('md5').update('one').digest('hex'));
    expect(fake.messages('events.fifo').map((m) => m.body)).toEqual(['one']);
  });

  it('refuses whole calls as SQS does: over 10 entries, over 1 MiB, repeated ids, unknown queue', async () => {
    const errorOf = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: Error) => e.name,
      );
    const eleven = Array.from({ length: 11 }, (_, i) => entry(String(i), 'x'));
    expect(await errorOf(batch(eleven))).toBe('TooManyEntriesInBatchRequest');
    const big = [entry('0', 'x'.repeat(600_000)), entry('1', 'y'.repeat(600_000))];
    expect(await errorOf(batch(big))).toBe('BatchRequestTooLong');
    expect(await errorOf(batch([entry('0', 'x'), entry('0', 'y')]))).toBe('BatchEntryIdsNotDistinct');
    expect(await errorOf(batch([entry('0', 'x')], `${fake.url}/000000000000/nope.fifo`))).toBe(
      'QueueDoesNotExist',
    );
    expect(await errorOf(client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl })))).toBe(
      'UnsupportedOperation',
    );
    expect(fake.messages('events.fifo')).toEqual([]);
  });

  it('fails single entries as SQS does: characters it refuses, FIFO ids missing', async () => {
    const out = await batch([
      entry('0', 'a\uffffb'),
      {
        Id: '1',
        MessageBody: 'x',
        MessageGroupId: undefined as unknown as string,
        MessageDeduplicationId: 'd',
      },
      entry('2', 'fine'),
    ]);
    expect(out.Failed?.map((f) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ['0', 'InvalidMessageContents', true],
      ['1', 'MissingParameter', true],
    ]);
    expect(fake.messages('events.fifo').map((m) => m.body)).toEqual(['fine']);
  });

  it('reports the entries failEntry picks as failed, and stores the others', async () => {
    await fake.stop();
    fake = new SqsFake({
      failEntry: (e) => (e.Id === '1' ? { Code: 'InternalError', SenderFault: false } : undefined),
    });
    await fake.start();
    client = fakeSqsClient(fake);
    queueUrl = fake.createQueue('events.fifo');
    const out = await batch([entry('0', 'a'), entry('1', 'b')]);
    expect(out.Failed).toEqual([{ Id: '1', Code: 'InternalError', SenderFault: false }]);
    expect(fake.messages('events.fifo').map((m) => m.body)).toEqual(['a']);
  });

  it('holds calls while paused, counting them in flight', async () => {
    fake.pause();
    const sends = [batch([entry('0', 'a', 'g1')]), batch([entry('0', 'b', 'g2')])];
    await fake.waitForInFlight(2);
    expect(fake.messages('events.fifo')).toEqual([]);
    fake.resume();
    await Promise.all(sends);
    expect(fake.maxInFlight).toBe(2);
    expect(fake.inFlight).toBe(0);
    expect(fake.messages('events.fifo')).toHaveLength(2);
  });

  it('refuses a request that is not AWS JSON 1.0', async () => {
    const res = await fetch(fake.url, { method: 'POST', body: 'Action=SendMessage' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'com.amazonaws.sqs#InvalidAction' });
  });
});
