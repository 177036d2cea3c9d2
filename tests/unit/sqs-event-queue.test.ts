import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_BATCHES_IN_FLIGHT,
  MessageTooLargeError,
  QueueSendError,
  SqsEventQueue,
} from '#adapters/aws/sqs-event-queue';
import type { QueueMessage } from '#contracts/queue';
import { at, first, present, take } from '#testkit/pick';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/events.fifo';
const sqs = mockClient(SQSClient);

function messages(count: number, body = (i: number) => `{"secret":"user text ${i}"}`): QueueMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    groupId: `page:user${i % 3}`,
    dedupId: `m_${i}`,
    body: body(i),
  }));
}

/** Every entry succeeds. */
function acceptAll(input: SendMessageBatchCommandInput): Partial<SendMessageBatchCommandOutput> {
  return {
    Successful: (input.Entries ?? []).map((entry) => ({
      Id: entry.Id,
      MessageId: `id-${entry.Id}`,
      MD5OfMessageBody: '',
    })),
  };
}

function calls(): SendMessageBatchCommandInput[] {
  return sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
}

function queue(maxAttempts?: number): SqsEventQueue {
  return new SqsEventQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL, { maxAttempts, backoffMs: 1 });
}

beforeEach(() => sqs.reset());
afterEach(() => sqs.reset());

describe('SqsEventQueue', () => {
  it('sends the exact request shape', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    await queue().send([
      { groupId: '111:222', dedupId: 'm_abc', body: '{"a":1}' },
      { groupId: '111:333', dedupId: 'h:ff', body: '{"b":2}' },
    ]);
    expect(calls()).toEqual([
      {
        QueueUrl: QUEUE_URL,
        Entries: [
          { Id: '0', MessageBody: '{"a":1}', MessageGroupId: '111:222', MessageDeduplicationId: 'm_abc' },
          { Id: '1', MessageBody: '{"b":2}', MessageGroupId: '111:333', MessageDeduplicationId: 'h:ff' },
        ],
      },
    ]);
  });

  it('sends nothing for no messages', async () => {
    await queue().send([]);
    expect(calls()).toHaveLength(0);
  });

  it('packs 25 messages of three conversations into three batches, each conversation whole and in order', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const sent = messages(25);
    await queue().send(sent);
    const batches = calls().map((input) => input.Entries ?? []);
    for (const entries of batches) expect(new Set(entries.map((e) => e.Id)).size).toBe(entries.length);
    expect(batches.map((entries) => entries.map((e) => Number(e.Id)))).toEqual([
      [0, 3, 6, 9, 12, 15, 18, 21, 24],
      [1, 4, 7, 10, 13, 16, 19, 22],
      [2, 5, 8, 11, 14, 17, 20, 23],
    ]);
    for (const entries of batches) {
      for (const e of entries)
        expect(e.MessageBody).toBe(present(sent[Number(e.Id)], 'sent[Number(e.Id)]').body);
    }
  });

  it('keeps a conversation spread over the call in one batch, in order; cuts a longer one into runs of 10', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const sent: QueueMessage[] = Array.from({ length: 60 }, (_, i) => ({
      groupId: [0, 17, 33].includes(i) ? 'page:spread' : i >= 35 ? 'page:long' : `page:alone${i}`,
      dedupId: `m_${i}`,
      body: `{"n":${i}}`,
    }));
    await queue().send(sent);
    const batches = calls().map((input) => (input.Entries ?? []).map((e) => Number(e.Id)));
    const runsOf = (group: string) =>
      batches
        .map((ids) => ids.filter((i) => at(sent, i, 'sent').groupId === group))
        .filter((ids) => ids.length)
        .sort((x, y) => first(x, 'run') - first(y, 'run')); // batches go in parallel: their order means nothing
    expect(runsOf('page:spread')).toEqual([[0, 17, 33]]);
    expect(runsOf('page:long')).toEqual([
      [35, 36, 37, 38, 39, 40, 41, 42, 43, 44],
      [45, 46, 47, 48, 49, 50, 51, 52, 53, 54],
      [55, 56, 57, 58, 59],
    ]);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    expect(batches.every((ids) => ids.length <= 10)).toBe(true);
    expect(batches).toHaveLength(6); // 60 messages: no batch wasted
  });

  it('splits by bytes so no batch carries more than 1 MiB of bodies', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    // 'ä' is 2 bytes in UTF-8: 300,000 characters = 600,000 bytes, so two never fit together.
    const big = 'ä'.repeat(300_000);
    await queue().send([...messages(3, () => big), ...messages(2, () => 'x'.repeat(400_000))]);
    const sizes = calls().map((input) =>
      (input.Entries ?? []).reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''), 0),
    );
    // Groups user0, user1, user2, user0, user1: each 600 KB message shares a batch with its 400 KB sibling.
    expect(calls().map((input) => input.Entries?.map((e) => e.Id))).toEqual([['0', '3'], ['1', '4'], ['2']]);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(1_048_576);
  });

  it('accepts a message of exactly 1 MiB alone', async () => {
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    await queue().send(messages(2, () => 'x'.repeat(1_048_576)));
    expect(calls().map((input) => input.Entries?.length)).toEqual([1, 1]);
  });

  it('rejects a message over 1 MiB before sending anything, without its body', async () => {
    const body = `secret-${'x'.repeat(1_048_576)}`;
    const error = await queue()
      .send([...messages(1), { groupId: 'g', dedupId: 'd', body }])
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as Error).message).toContain('Message 1');
    expect((error as Error).message).not.toContain('secret');
    expect(calls()).toHaveLength(0);
  });

  it('retries only the failed entries, with the same ids and values', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'a', MD5OfMessageBody: '', SequenceNumber: '1' }],
        Failed: [
          { Id: '1', SenderFault: false, Code: 'InternalError' },
          { Id: '2', SenderFault: false, Code: 'ServiceUnavailable' },
        ],
      })
      .resolvesOnce({
        Successful: [{ Id: '2', MessageId: 'c', MD5OfMessageBody: '', SequenceNumber: '3' }],
        Failed: [{ Id: '1', SenderFault: false, Code: 'InternalError' }],
      })
      .callsFake(acceptAll);
    const sent = messages(3);
    await queue().send(sent);
    const [first, second, third] = take(calls(), 3, 'SendMessageBatch call');
    expect(first.Entries?.map((e) => e.Id)).toEqual(['0', '1', '2']);
    expect(second.Entries).toEqual(first.Entries?.slice(1));
    expect(third.Entries).toEqual([
      {
        Id: '1',
        MessageBody: at(sent, 1, 'sent').body,
        MessageGroupId: at(sent, 1, 'sent').groupId,
        MessageDeduplicationId: 'm_1',
      },
    ]);
    expect(calls()).toHaveLength(3);
  });

  it('does not retry sender faults and reports them', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '1', MessageId: 'b', MD5OfMessageBody: '', SequenceNumber: '2' }],
      Failed: [{ Id: '0', SenderFault: true, Code: 'InvalidParameterValue', Message: 'bad {"secret"}' }],
    });
    const error = await queue()
      .send(messages(2))
      .catch((err: unknown) => err);
    expect(calls()).toHaveLength(1);
    expect(error).toBeInstanceOf(QueueSendError);
    expect(error).toMatchObject({ total: 2, unsent: 1, codes: ['InvalidParameterValue'] });
  });

  it('gives up after maxAttempts with counts and codes only, never bodies', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: [],
      Failed: (input.Entries ?? []).map((entry) => ({
        Id: entry.Id,
        SenderFault: false,
        Code: 'InternalError',
        Message: `failed ${entry.MessageBody}`,
      })),
    }));
    const error = await queue(3)
      .send(messages(12))
      .catch((err: unknown) => err);
    expect(calls()).toHaveLength(6); // two batches, three attempts each
    expect(error).toBeInstanceOf(QueueSendError);
    expect(error).toMatchObject({ total: 12, unsent: 12 });
    const text = `${(error as Error).message} ${JSON.stringify(error)}`;
    expect(text).toContain('InternalError');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('user text');
  });

  it('mixes sender faults and exhausted retries in one report', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Failed: (input.Entries ?? []).map((entry) =>
        entry.Id === '0'
          ? { Id: '0', SenderFault: true, Code: 'InvalidParameterValue' }
          : { Id: entry.Id, SenderFault: false, Code: 'InternalError' },
      ),
    }));
    const error = await queue(2)
      .send(messages(2))
      .catch((err: unknown) => err);
    expect(calls().map((input) => input.Entries?.map((e) => e.Id))).toEqual([['0', '1'], ['1']]);
    expect(error).toMatchObject({
      unsent: 2,
      codes: expect.arrayContaining(['InvalidParameterValue', 'InternalError']),
    });
  });

  it('treats entries SQS does not acknowledge as failed', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const error = await queue(2)
      .send(messages(1))
      .catch((err: unknown) => err);
    expect(calls()).toHaveLength(2);
    expect(error).toMatchObject({ unsent: 1, codes: ['NotAcknowledged'] });
  });

  it('wraps a failed request without the SDK message', async () => {
    const sdkError = Object.assign(new Error('Value {"secret":"user text 0"} is invalid'), {
      name: 'InvalidMessageContents',
    });
    sqs.on(SendMessageBatchCommand).rejects(sdkError);
    const error = await queue()
      .send(messages(2))
      .catch((err: unknown) => err);
    expect(calls()).toHaveLength(1);
    expect(error).toBeInstanceOf(QueueSendError);
    expect(error).toMatchObject({ unsent: 2, codes: ['InvalidMessageContents'] });
    expect((error as Error).message).not.toContain('secret');
  });
});

describe('SqsEventQueue: batches in parallel', () => {
  /** SQS answering each call only once the test releases it; counts the calls in flight. */
  function heldSqs() {
    const state = { inFlight: 0, max: 0, held: [] as Array<() => void>, autoAnswer: false };
    const waiters: Array<{ count: number; resolve: () => void }> = [];
    sqs.on(SendMessageBatchCommand).callsFake(
      (input: SendMessageBatchCommandInput) =>
        new Promise((resolve) => {
          const answer = () => {
            state.inFlight--;
            resolve(acceptAll(input));
          };
          state.inFlight++;
          state.max = Math.max(state.max, state.inFlight);
          if (state.autoAnswer) return answer();
          state.held.push(answer);
          for (const w of waiters.filter((x) => state.inFlight >= x.count)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }),
    );
    return {
      state,
      waitForInFlight: (count: number) =>
        new Promise<void>((resolve) => {
          // The mock answers synchronously: the calls may all be in flight already.
          if (state.inFlight >= count) resolve();
          else waiters.push({ count, resolve });
        }),
      answerAll() {
        state.autoAnswer = true;
        for (const answer of state.held.splice(0)) answer();
      },
    };
  }

  const manyConversations = (count: number): QueueMessage[] =>
    Array.from({ length: count }, (_, i) => ({
      groupId: `page:user${i}`,
      dedupId: `m_${i}`,
      body: `{"n":${i}}`,
    }));

  it('sends 1,000 messages as 100 batches, 50 at once and never more', async () => {
    const held = heldSqs();
    const sent = manyConversations(1_000);
    const sending = queue().send(sent);
    await held.waitForInFlight(50);
    // Nothing has been answered: no 51st call can have started.
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.state.inFlight).toBe(MAX_BATCHES_IN_FLIGHT);
    held.answerAll();
    await sending;
    expect(held.state.max).toBe(50);
    expect(calls()).toHaveLength(100);
    const bodies = calls().flatMap((input) => (input.Entries ?? []).map((e) => e.MessageBody));
    expect(bodies.sort()).toEqual(sent.map((m) => m.body).sort());
  });

  it('keeps to a smaller bound when given one', async () => {
    const held = heldSqs();
    const sending = new SqsEventQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL, {
      concurrency: 3,
    }).send(manyConversations(100));
    await held.waitForInFlight(3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.state.inFlight).toBe(3);
    held.answerAll();
    await sending;
    expect(held.state.max).toBe(3);
    expect(calls()).toHaveLength(10);
  });

  it('retries the failed entries of one batch while the other batches go on', async () => {
    let failedOnce = false;
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      const entries = input.Entries ?? [];
      if (!failedOnce && entries.some((e) => e.Id === '0')) {
        failedOnce = true;
        return {
          Successful: entries
            .filter((e) => e.Id !== '0')
            .map((e) => ({ Id: e.Id, MessageId: 'x', MD5OfMessageBody: '' })),
          Failed: [{ Id: '0', SenderFault: false, Code: 'InternalError' }],
        };
      }
      return acceptAll(input);
    });
    const sent = manyConversations(30);
    await queue().send(sent);
    const ids = calls().flatMap((input) => (input.Entries ?? []).map((e) => e.Id));
    expect(calls()).toHaveLength(4); // three batches, and the retry of entry 0 alone
    expect(
      calls()
        .at(-1)
        ?.Entries?.map((e) => e.Id),
    ).toEqual(['0']);
    expect(ids.filter((id) => id === '0')).toHaveLength(2);
    expect(new Set(ids).size).toBe(30);
  });
});
