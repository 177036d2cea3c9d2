/**
 * Dead letters through the admin API (issue 8): on AWS counted with GetQueueAttributes and moved back
 * with StartMessageMoveTask (request shapes checked with aws-sdk-client-mock); locally listed and
 * moved by the running stack's own queues.
 */
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterQueuesFromEnv, SQS_CANNOT_LIST, SqsDeadLetters } from '#adapters/aws/sqs-dead-letters';
import { LocalDeadLetters } from '#adapters/local/dead-letters';
import { LocalFifoQueue } from '#adapters/local/fifo-queue';
import { type AdminDeps, createAdminApi } from '#admin-api/routes';
import { type DeadLetterQueues, DeadLettersAnswer, RedriveAnswer } from '#contracts/dead-letters';
import { httpEvent } from '#testkit/http-events';
import { at, take } from '#testkit/pick';

const ACCOUNT = 'arn:aws:sqs:eu-west-1:123456789012';
const URL_BASE = 'https://sqs.eu-west-1.amazonaws.com/123456789012';
const ENV = {
  EVENTS_DLQ_URL: `${URL_BASE}/events-dlq.fifo`,
  EVENTS_DLQ_ARN: `${ACCOUNT}:events-dlq.fifo`,
  EVENTS_QUEUE_ARN: `${ACCOUNT}:events.fifo`,
  PAGE_COMMANDS_DLQ_URL: `${URL_BASE}/commands-dlq.fifo`,
  PAGE_COMMANDS_DLQ_ARN: `${ACCOUNT}:commands-dlq.fifo`,
  PAGE_COMMANDS_QUEUE_ARN: `${ACCOUNT}:commands.fifo`,
};
const sqs = mockClient(SQSClient);

function api(deadLetters?: DeadLetterQueues) {
  // The dead-letter routes use nothing else of the admin API's collaborators.
  return createAdminApi({ deadLetters } as unknown as AdminDeps);
}

async function call(handler: ReturnType<typeof api>, method: string, path: string, o: object = {}) {
  const result = await handler(httpEvent(method, path, o));
  return { status: result.statusCode, body: JSON.parse(String(result.body)) };
}

describe('dead letters on AWS (SQS)', () => {
  beforeEach(() => sqs.reset());
  afterEach(() => sqs.reset());
  const aws = () => new SqsDeadLetters(new SQSClient({ region: 'eu-west-1' }), deadLetterQueuesFromEnv(ENV));

  it('reads the six variables, and only queues with all three set', () => {
    expect(deadLetterQueuesFromEnv(ENV)).toEqual([
      {
        queue: 'events',
        deadLetterQueueUrl: ENV.EVENTS_DLQ_URL,
        deadLetterQueueArn: ENV.EVENTS_DLQ_ARN,
        sourceQueueArn: ENV.EVENTS_QUEUE_ARN,
      },
      {
        queue: 'page-commands',
        deadLetterQueueUrl: ENV.PAGE_COMMANDS_DLQ_URL,
        deadLetterQueueArn: ENV.PAGE_COMMANDS_DLQ_ARN,
        sourceQueueArn: ENV.PAGE_COMMANDS_QUEUE_ARN,
      },
    ]);
    const { PAGE_COMMANDS_QUEUE_ARN: _, ...partial } = ENV;
    expect(deadLetterQueuesFromEnv(partial).map((q) => q.queue)).toEqual(['events']);
  });

  it('lists counts (visible + in flight) and the latest redrive, saying SQS cannot list the messages', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ENV.EVENTS_DLQ_URL }).resolves({
      Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1' },
    });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ENV.PAGE_COMMANDS_DLQ_URL }).resolves({ Attributes: {} });
    sqs.on(ListMessageMoveTasksCommand, { SourceArn: ENV.EVENTS_DLQ_ARN }).resolves({
      Results: [
        {
          Status: 'COMPLETED',
          SourceArn: ENV.EVENTS_DLQ_ARN,
          DestinationArn: ENV.EVENTS_QUEUE_ARN,
          ApproximateNumberOfMessagesMoved: 7,
          ApproximateNumberOfMessagesToMove: 7,
          StartedTimestamp: Date.UTC(2026, 11, 1, 10),
        },
      ],
    });
    sqs.on(ListMessageMoveTasksCommand, { SourceArn: ENV.PAGE_COMMANDS_DLQ_ARN }).resolves({ Results: [] });

    const { status, body } = await call(api(aws()), 'GET', '/admin/dead-letters');
    expect(status).toBe(200);
    expect(DeadLettersAnswer.parse(body)).toEqual({
      queues: [
        {
          queue: 'events',
          count: 4,
          approximate: true,
          note: SQS_CANNOT_LIST,
          lastRedrive: { status: 'COMPLETED', moved: 7, toMove: 7, startedAt: '2026-12-01T10:00:00.000Z' },
        },
        { queue: 'page-commands', count: 0, approximate: true, note: SQS_CANNOT_LIST },
      ],
    });
    expect(sqs.commandCalls(GetQueueAttributesCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: ENV.EVENTS_DLQ_URL,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      },
      {
        QueueUrl: ENV.PAGE_COMMANDS_DLQ_URL,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      },
    ]);
    expect(sqs.commandCalls(ListMessageMoveTasksCommand).map((c) => c.args[0].input)).toEqual([
      { SourceArn: ENV.EVENTS_DLQ_ARN, MaxResults: 1 },
      { SourceArn: ENV.PAGE_COMMANDS_DLQ_ARN, MaxResults: 1 },
    ]);
  });

  it('redrives from each DLQ to its own queue; skips an empty one and one already being redriven', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ENV.EVENTS_DLQ_URL }).resolves({
      Attributes: { ApproximateNumberOfMessages: '5', ApproximateNumberOfMessagesNotVisible: '0' },
    });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ENV.PAGE_COMMANDS_DLQ_URL }).resolves({
      Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' },
    });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });

    const { status, body } = await call(api(aws()), 'POST', '/admin/dead-letters/redrive', { body: '{}' });
    expect(status).toBe(200);
    expect(RedriveAnswer.parse(body)).toEqual({
      queues: [
        { queue: 'events', status: 'started', count: 5, task: { status: 'RUNNING', taskHandle: 'handle-1' } },
        { queue: 'page-commands', status: 'empty', count: 0 },
      ],
    });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand).map((c) => c.args[0].input)).toEqual([
      { SourceArn: ENV.EVENTS_DLQ_ARN, DestinationArn: ENV.EVENTS_QUEUE_ARN },
    ]);

    sqs.reset();
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          Status: 'RUNNING',
          TaskHandle: 'handle-1',
          ApproximateNumberOfMessagesMoved: 2,
          ApproximateNumberOfMessagesToMove: 5,
        },
      ],
    });
    const running = await call(api(aws()), 'POST', '/admin/dead-letters/redrive', {
      body: JSON.stringify({ queue: 'events' }),
    });
    expect(running.body).toEqual({
      queues: [
        {
          queue: 'events',
          status: 'running',
          count: 3,
          task: { status: 'RUNNING', taskHandle: 'handle-1', moved: 2, toMove: 5 },
        },
      ],
    });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toEqual([]);
    expect(sqs.commandCalls(GetQueueAttributesCommand)).toEqual([]);
  });

  it('answers 502 with what SQS said when it refuses, and 503 for a queue not configured', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: sqs:StartMessageMoveTask'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    sqs.on(ListMessageMoveTasksCommand).rejects(denied);
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    const refused = await call(api(aws()), 'GET', '/admin/dead-letters', { query: { queue: 'events' } });
    expect(refused).toEqual({
      status: 502,
      body: {
        error: {
          code: 'queue_error',
          message: 'SQS: AccessDenied: User is not authorized to perform: sqs:StartMessageMoveTask',
        },
      },
    });

    const { PAGE_COMMANDS_DLQ_URL: _, ...partial } = ENV;
    const onlyEvents = new SqsDeadLetters(
      new SQSClient({ region: 'eu-west-1' }),
      deadLetterQueuesFromEnv(partial),
    );
    const missing = await call(api(onlyEvents), 'POST', '/admin/dead-letters/redrive', {
      body: '{"queue":"page-commands"}',
    });
    expect(missing.status).toBe(503);
    expect(missing.body.error.code).toBe('not_configured');
    expect(missing.body.error.message).toContain('PAGE_COMMANDS_DLQ_URL');
    expect((await call(api(undefined), 'GET', '/admin/dead-letters')).status).toBe(503);
  });

  it('refuses an unknown queue and a body it does not understand, with 400', async () => {
    const handler = api(aws());
    const badQuery = await call(handler, 'GET', '/admin/dead-letters', { query: { queue: 'nope' } });
    expect(badQuery).toEqual({
      status: 400,
      body: { error: { code: 'invalid_queue', message: 'queue must be one of events, page-commands' } },
    });
    for (const body of ['{"queue":"nope"}', '{"queues":["events"]}', '[1]', 'not json']) {
      const answer = await call(handler, 'POST', '/admin/dead-letters/redrive', { body });
      expect(answer.status, body).toBe(400);
    }
    expect(sqs.calls()).toEqual([]);
  });
});

describe('dead letters on the local stack', () => {
  const queues: LocalFifoQueue[] = [];
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.stop()));
  });

  function failingQueue(name: string) {
    let failing = true;
    const delivered: string[] = [];
    const queue = new LocalFifoQueue({
      name,
      maxReceiveCount: 1,
      onError: () => {},
      handler: async (event) => {
        if (failing) throw new Error('down');
        delivered.push(...event.Records.map((r) => r.body));
      },
    });
    queues.push(queue);
    queue.start();
    return { queue, delivered, recover: () => (failing = false) };
  }

  it('lists each queue with its letters (bodies cut at 2,000 characters), and redrives them', async () => {
    const events = failingQueue('events.fifo');
    const commands = failingQueue('commands.fifo');
    const long = `{"text":"${'x'.repeat(2_100)}"}`;
    await events.queue.send([
      { groupId: 'p:u', dedupId: 'm1', body: '{"n":1}' },
      { groupId: 'p:u', dedupId: 'm2', body: long },
      { groupId: 'p:v', dedupId: 'm3', body: '{"n":3}' },
    ]);
    await events.queue.idle();
    const handler = api(new LocalDeadLetters({ events: events.queue, 'page-commands': commands.queue }));

    const { status, body } = await call(handler, 'GET', '/admin/dead-letters', { query: { limit: '2' } });
    expect(status).toBe(200);
    const answer = DeadLettersAnswer.parse(body);
    expect(answer.queues.map((q) => [q.queue, q.count, q.approximate, q.messages?.length])).toEqual([
      ['events', 3, false, 2],
      ['page-commands', 0, false, 0],
    ]);
    const [first, second] = take(at(answer.queues, 0, 'queue').messages ?? [], 2, 'dead letter');
    expect(first).toMatchObject({
      groupId: 'p:u',
      dedupId: 'm1',
      receiveCount: 1,
      bytes: 7,
      body: '{"n":1}',
    });
    expect(first.truncated).toBeUndefined();
    expect(new Date(first.deadAt).getTime()).toBeGreaterThanOrEqual(new Date(first.sentAt).getTime());
    expect(second).toMatchObject({ dedupId: 'm2', bytes: long.length, truncated: true });
    expect(second.body).toBe(long.slice(0, 2_000));

    events.recover();
    const redriven = await call(handler, 'POST', '/admin/dead-letters/redrive', {
      body: '{"queue":"events"}',
    });
    expect(RedriveAnswer.parse(redriven.body)).toEqual({
      queues: [{ queue: 'events', status: 'moved', count: 3 }],
    });
    await events.queue.idle();
    expect(events.delivered).toEqual(['{"n":1}', long, '{"n":3}']);
    const all = await call(handler, 'POST', '/admin/dead-letters/redrive', {});
    expect(all.body).toEqual({
      queues: [
        { queue: 'events', status: 'empty', count: 0 },
        { queue: 'page-commands', status: 'empty', count: 0 },
      ],
    });
  });
});
