/**
 * Issue 8: one bad event must not take its conversation with it. Events whose free-form parts DynamoDB
 * cannot hold as maps, and items over 400 KB, are stored (free-form parts as JSON text, large parts in
 * the blob store); an event that truly cannot be applied is quarantined with its reason and body,
 * counted, listed by the admin API and the CLI, and its conversation goes on at once. Real processor,
 * dynalite, the Graph fake, the local FIFO event source.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalFifoQueue } from '#adapters/local/fifo-queue';
import { LocalKeyring } from '#adapters/local/keyring';
import { createAdminApi } from '#admin-api/routes';
import { adminDeps } from '#app/admin';
import { loadConfig } from '#app/config';
import { conversationGroupId, type QueueMessage } from '#contracts/queue';
import { serveHttp } from '#local/http-server';
import type { HttpResult } from '#runtime/http';
import { counters } from '#runtime/observability';
import { INLINE_ITEM_LIMIT } from '#store/item-codec';
import { DYNAMO_ITEM_LIMIT } from '#store/storable';
import { itemKey } from '#store/table';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { httpEvent } from '#testkit/http-events';
import { at, first, only, take } from '#testkit/pick';
import {
  createProcessorWorld,
  isConversationUpdate,
  type ProcessorWorld,
  queueMessagesOf,
  recordsOf,
  sqsEvent,
  sqsRecord,
} from '#testkit/processor-harness';
import { entry, metaJson, PAGE_A, PAGE_B, TIME, textEvent, USER_A1, webhookBody } from '#testkit/webhooks';
import { main } from '../../bin/cli/main.js';
import { Output } from '../../bin/cli/output.js';

const USER_X = '5550001112223334';
const USER_Y = '5550001112223335';

let dynamo: TestDynamo;
const worlds: ProcessorWorld[] = [];

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.stop()));
});

async function world(): Promise<ProcessorWorld> {
  const w = await createProcessorWorld(dynamo);
  worlds.push(w);
  await w.seedPage(PAGE_A);
  return w;
}

/** The admin API on the world's table and blob store. */
function adminOf(w: ProcessorWorld) {
  const config = loadConfig({ TABLE_NAME: w.tableName });
  return createAdminApi(
    adminDeps(config, dynamo.doc, LocalKeyring.ephemeral(), new EnvCredentials({}), undefined, w.blobs),
  );
}

// biome-ignore lint/suspicious/noExplicitAny: each test reads the part of the answer it expects
async function adminGet(w: ProcessorWorld, path: string, query?: Record<string, string>): Promise<any> {
  const res = (await adminOf(w)(httpEvent('GET', path, { query }))) as HttpResult;
  return { status: res.statusCode, ...JSON.parse(res.body as string) };
}

/** The conversation as `GET /admin/pages/{pageId}/conversations/{userId}/messages` answers it. */
async function messagesOf(w: ProcessorWorld, userId: string, pageId = PAGE_A) {
  const answer = await adminGet(w, `/admin/pages/${pageId}/conversations/${userId}/messages`);
  expect(answer.status).toBe(200);
  return answer.messages as Array<Record<string, unknown>>;
}

const inbox = (events: readonly string[], pageId = PAGE_A) => webhookBody(entry(pageId, events));
const failedIds = (res: SQSBatchResponse) => res.batchItemFailures.map((f) => f.itemIdentifier);
const say = (userId: string, mid: string, timestamp: number) =>
  textEvent({ userId, mid, text: mid, timestamp });
const redelivered = (r: SQSRecord): SQSRecord => ({
  ...r,
  attributes: {
    ...r.attributes,
    ApproximateReceiveCount: String(Number(r.attributes.ApproximateReceiveCount) + 1),
  },
});

/** A raw inbound message event with whatever `message` holds (JSON text, own `__proto__` keys kept). */
const messageEvent = (userId: string, timestamp: number, messageJson: string) =>
  `{"sender":{"id":"${userId}"},"recipient":{"id":"${PAGE_A}"},"timestamp":${timestamp},"message":${messageJson}}`;

describe('events the store could not take before are stored, and their conversation goes on', () => {
  it('a `__proto__` key in an attachment payload: stored as it came, with the events after it', async () => {
    const w = await world();
    const payload =
      '{"url":"https://scontent.xx.fbcdn.net/a.jpg","__proto__":{"admin":true},"x":[{"__proto__":1}]}';
    const proto = messageEvent(
      USER_A1,
      TIME + 2,
      `{"mid":"m_proto","attachments":[{"type":"image","payload":${payload}}]}`,
    );

    const res = await w.deliver(
      inbox([say(USER_A1, 'm_before', TIME + 1), proto, say(USER_A1, 'm_after', TIME + 3)]),
    );

    expect(res.batchItemFailures).toEqual([]);
    const messages = await messagesOf(w, USER_A1);
    expect(messages.map((m) => m.mid)).toEqual(['m_before', 'm_proto', 'm_after']);
    const attachment = first(
      at(messages, 1, 'messages').attachments as Array<{ type: string; url: string; payload: object }>,
      'attachment',
    );
    expect(attachment).toMatchObject({ type: 'image', url: 'https://scontent.xx.fbcdn.net/a.jpg' });
    expect(Object.keys(attachment.payload)).toEqual(['url', '__proto__', 'x']);
    expect(JSON.stringify(attachment.payload)).toBe(JSON.stringify(JSON.parse(payload)));
    expect(Object.getPrototypeOf(attachment.payload)).toBe(Object.prototype);
  });

  it('free-form parts no DynamoDB map can hold (constructor and empty keys, numbers past 2^53 or under 1e-130, deep nesting) are stored exactly', async () => {
    const w = await world();
    let deep = '{"leaf":true}';
    for (let i = 0; i < 25; i++) deep = `{"d":${deep}}`;
    const referral = `{"ref":"ad","source":"ADS","type":"OPEN_THREAD","ads_context_data":{"constructor":{"x":1},"":"empty key","big":1e300,"tiny":5e-324,"int":12345678901234567890,"deep":${deep}}}`;
    const handover = `{"new_owner_app_id":"1","metadata":"m","constructor":"c","toString":1,"":[]}`;
    const events = [
      messageEvent(USER_A1, TIME + 1, `{"mid":"m_ref","text":"hola","referral":${referral}}`),
      `{"sender":{"id":"${USER_A1}"},"recipient":{"id":"${PAGE_A}"},"timestamp":${TIME + 2},"pass_thread_control":${handover}}`,
      `{"sender":{"id":"${USER_A1}"},"recipient":{"id":"${PAGE_A}"},"timestamp":${TIME + 3},"postback":{"mid":"m_pb","title":"t","payload":"p","referral":${referral}}}`,
      say(USER_A1, 'm_last', TIME + 4),
    ];

    expect((await w.deliver(inbox(events))).batchItemFailures).toEqual([]);

    const messages = await messagesOf(w, USER_A1);
    expect(messages).toHaveLength(4);
    const asSent = (json: string) => JSON.stringify(JSON.parse(json));
    expect(JSON.stringify((first(messages, 'messages').detail as { referral: unknown }).referral)).toBe(
      asSent(referral),
    );
    expect(messages[1]).toMatchObject({ kind: 'handover' });
    expect(JSON.stringify((at(messages, 1, 'messages').detail as { detail: unknown }).detail)).toBe(
      asSent(handover),
    );
    expect(JSON.stringify((at(messages, 2, 'messages').detail as { referral: unknown }).referral)).toBe(
      asSent(referral),
    );
    expect(at(messages, 3, 'messages').mid).toBe('m_last');
  });

  it('a message just over 400 KB: stored, its large parts in the blob store, read back whole', async () => {
    const w = await world();
    // Over 400 KB counted in characters too (dynalite counts those; DynamoDB counts UTF-8 bytes).
    const text = `Hola, ¿qué tal? 🚀 ${'x'.repeat(350_000)}`;
    const payload = { url: 'https://scontent.xx.fbcdn.net/big.jpg', notes: 'y'.repeat(60_000) };
    const big = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: TIME + 2,
      message: { mid: 'm_big', text, attachments: [{ type: 'image', payload }] },
    });
    expect(text.length + payload.notes.length).toBeGreaterThan(DYNAMO_ITEM_LIMIT);

    const res = await w.deliver(
      inbox([say(USER_A1, 'm_before', TIME + 1), big, say(USER_A1, 'm_after', TIME + 3)]),
    );

    expect(res.batchItemFailures).toEqual([]);
    const { Item } = await dynamo.doc.send(
      new GetCommand({ TableName: w.tableName, Key: itemKey(PAGE_A, USER_A1, 'm_big') }),
    );
    expect(Item?.text).toBeUndefined();
    expect(Item?.overflow).toMatchObject({
      key: expect.stringMatching(/^items\/[0-9a-f]{64}\/[0-9a-f]{64}\.json$/),
    });
    expect(Buffer.byteLength(JSON.stringify(Item))).toBeLessThan(INLINE_ITEM_LIMIT);
    expect(w.blobs.blobs.has(Item?.overflow.key)).toBe(true);

    const messages = await messagesOf(w, USER_A1);
    expect(messages.map((m) => m.mid)).toEqual(['m_before', 'm_big', 'm_after']);
    expect(at(messages, 1, 'messages').text).toBe(text);
    expect(at(messages, 1, 'messages').attachments).toEqual([{ type: 'image', url: payload.url, payload }]);
    expect(at(messages, 1, 'messages').partsUnavailable).toBeUndefined();

    // The item stays updatable: a reaction lands on it.
    const react = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: TIME + 4,
      reaction: { mid: 'm_big', action: 'react', reaction: 'love', emoji: '❤️' },
    });
    expect((await w.deliver(inbox([react]))).batchItemFailures).toEqual([]);
    expect(at(await messagesOf(w, USER_A1), 1, 'message').reactions).toEqual({
      [USER_A1]: { reaction: 'love', emoji: '❤️', timestamp: TIME + 4 },
    });
  });

  it('an oversize item whose blob is gone still lists, flagged, with the rest of its conversation', async () => {
    const w = await world();
    const big = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: TIME + 1,
      message: { mid: 'm_big', text: 'z'.repeat(200_000) },
    });
    await w.deliver(inbox([big, say(USER_A1, 'm_next', TIME + 2)]));
    w.blobs.blobs.clear();

    const messages = await messagesOf(w, USER_A1);
    expect(messages.map((m) => [m.mid, m.text, m.partsUnavailable])).toEqual([
      ['m_big', null, true],
      ['m_next', 'm_next', undefined],
    ]);
  });
});

describe('an event that cannot be applied is quarantined, and its conversation goes on at once', () => {
  it('a mid longer than a DynamoDB key allows: quarantined once with its reason and body; nothing of it written', async () => {
    const w = await world();
    const longMid = `m_${'k'.repeat(1100)}`;
    const bad = say(USER_A1, longMid, TIME + 9);
    const records = recordsOf(inbox([say(USER_A1, 'm_1', TIME + 1), bad, say(USER_A1, 'm_2', TIME + 2)]));
    const before = counters().EventsQuarantined ?? 0;

    const res = await w.run(sqsEvent(records));

    expect(res.batchItemFailures).toEqual([]);
    expect((await w.conversations.listItems(PAGE_A, USER_A1)).map((i) => i.mid)).toEqual(['m_1', 'm_2']);
    // The bad event (the newest) touched nothing: the conversation is as the good ones left it.
    expect((await w.conversations.get(PAGE_A, USER_A1))?.lastMessageAt).toBe(TIME + 2);
    expect(counters().EventsQuarantined).toBe(before + 1);
    const [listed] = await w.quarantine.list();
    expect(listed).toMatchObject({
      pageId: PAGE_A,
      userId: USER_A1,
      eventId: `${longMid.slice(0, 1024)}…`,
      timestamp: TIME + 9,
      reason: 'KeyTooLarge',
      receiveCount: 1,
    });
    const record = await w.quarantine.get(PAGE_A, longMid);
    expect(record?.body).toBe(at(records, 1, 'records').body);

    // Meta delivers it again days later: still one record, counted once, nothing failed.
    const again = await w.run(sqsEvent([redelivered(at(records, 1, 'records'))]));
    expect(again.batchItemFailures).toEqual([]);
    expect(await w.quarantine.list()).toHaveLength(1);
    expect(counters().EventsQuarantined).toBe(before + 1);
  });

  it('a timestamp the store cannot hold: quarantined before anything is written', async () => {
    const w = await world();
    const bad = `{"sender":{"id":"${USER_X}"},"recipient":{"id":"${PAGE_A}"},"timestamp":1e300,"message":{"mid":"m_far","text":"hi"}}`;

    const res = await w.deliver(inbox([bad, say(USER_X, 'm_ok', TIME)]));

    expect(res.batchItemFailures).toEqual([]);
    expect((await w.conversations.listItems(PAGE_A, USER_X)).map((i) => i.mid)).toEqual(['m_ok']);
    expect((await w.conversations.get(PAGE_A, USER_X))?.lastMessageAt).toBe(TIME);
    const answer = await adminGet(w, '/admin/quarantine');
    expect(answer.events).toEqual([
      expect.objectContaining({
        eventId: 'm_far',
        pageId: PAGE_A,
        userId: USER_X,
        timestamp: null,
        reason: 'UnstorableValue',
      }),
    ]);
  });

  it('DynamoDB refusing a request (ValidationException) is quarantined at the first receive, not retried', async () => {
    const w = await world();
    const records = recordsOf(inbox([say(USER_A1, 'm_1', TIME + 1), say(USER_A1, 'm_2', TIME + 2)]));
    w.failNext((c) => isConversationUpdate(c, PAGE_A, USER_A1), 1, 'ValidationException');

    const res = await w.run(sqsEvent(records));

    expect(res.batchItemFailures).toEqual([]);
    expect((await w.conversations.listItems(PAGE_A, USER_A1)).map((i) => i.mid)).toEqual(['m_2']);
    expect(await w.quarantine.list()).toEqual([
      expect.objectContaining({ eventId: 'm_1', reason: 'ValidationException' }),
    ]);
  });

  it('throttles, server errors, timeouts and unknown errors are retried in order, never quarantined', async () => {
    const w = await world();
    const names = [
      'ProvisionedThroughputExceededException',
      'InternalServerError',
      'TimeoutError',
      'AccessDeniedException',
    ];
    const users = names.map((_, i) => `77700000000000${i}`);
    const records = users.flatMap((userId, i) =>
      recordsOf(inbox([say(userId, `m_${i}_1`, TIME + 1), say(userId, `m_${i}_2`, TIME + 2)])),
    );
    names.forEach((name, i) => {
      w.failNext((c) => isConversationUpdate(c, PAGE_A, at(users, i, 'users')), 1, name);
    });
    const other = only(recordsOf(inbox([say(USER_Y, 'm_y', TIME)])), 'record'); // a batch that fails whole is thrown

    const res = await w.run(sqsEvent([...records, other]));

    expect(failedIds(res)).toEqual(records.map((r) => r.messageId));
    expect(await w.quarantine.list()).toEqual([]);
    const retried = await w.run(sqsEvent(records.map(redelivered)));
    expect(retried.batchItemFailures).toEqual([]);
    for (const [i, userId] of users.entries()) {
      expect((await w.conversations.listItems(PAGE_A, userId)).map((m) => m.mid)).toEqual([
        `m_${i}_1`,
        `m_${i}_2`,
      ]);
    }
  });

  it('a queue body that is no event (not JSON, or JSON of another shape): quarantined under its group; the group goes on', async () => {
    const w = await world();
    const group = conversationGroupId(PAGE_A, USER_X);
    const notJson = sqsRecord({ groupId: group, dedupId: 'poison-1', body: '{"v":1,"pageId":' });
    const notEvent = sqsRecord({
      groupId: group,
      dedupId: 'poison-2',
      body: JSON.stringify({
        v: 1,
        pageId: PAGE_A,
        userId: USER_X,
        eventId: 'poison-2',
        timestamp: 1,
        standby: false,
        event: null,
      }),
    });
    const [x1, x2] = take(
      recordsOf(inbox([say(USER_X, 'm_x1', TIME + 1), say(USER_X, 'm_x2', TIME + 2)])),
      2,
      'record',
    );

    const res = await w.run(sqsEvent([x1, notJson, notEvent, x2]));

    expect(res.batchItemFailures).toEqual([]);
    expect((await w.conversations.listItems(PAGE_A, USER_X)).map((i) => i.mid)).toEqual(['m_x1', 'm_x2']);
    const listed = await w.quarantine.list({ pageId: PAGE_A });
    expect(listed.map((q) => [q.eventId, q.pageId, q.userId, q.reason]).sort()).toEqual([
      ['poison-1', PAGE_A, USER_X, 'UnreadableQueueMessage'],
      ['poison-2', PAGE_A, USER_X, 'InvalidQueuedEvent'],
    ]);
    expect((await w.quarantine.get(PAGE_A, 'poison-1'))?.body).toBe('{"v":1,"pageId":');
  });

  it('a large body is kept in the blob store and read back whole by the admin API', async () => {
    const w = await world();
    const body = `not an event ${'b'.repeat(40_000)}`;
    const poison = sqsRecord({ groupId: conversationGroupId(PAGE_A, USER_X), dedupId: 'poison-big', body });

    expect((await w.run(sqsEvent([poison]))).batchItemFailures).toEqual([]);

    const [key] = [...w.blobs.blobs.keys()];
    expect(key).toMatch(/^items\/[0-9a-f]{64}\/[0-9a-f]{64}\.json$/);
    const answer = await adminGet(w, `/admin/quarantine/${PAGE_A}/poison-big`);
    expect(answer).toMatchObject({
      status: 200,
      eventId: 'poison-big',
      reason: 'UnreadableQueueMessage',
      bodySize: body.length,
      body,
    });
    expect((await adminGet(w, `/admin/quarantine/${PAGE_A}/nothing-here`)).status).toBe(404);
  });

  it('a quarantine record DynamoDB throttles fails its record (retried in order), then is written once', async () => {
    const w = await world();
    const group = conversationGroupId(PAGE_A, USER_X);
    const poison = sqsRecord({ groupId: group, dedupId: 'poison-t', body: 'nope' });
    const [x1, y1] = take(
      recordsOf(inbox([say(USER_X, 'm_x1', TIME + 1), say(USER_Y, 'm_y1', TIME + 1)])),
      2,
      'record',
    );
    w.failNext(
      (c) => c.command instanceof PutCommand && (c.input.Item as { gsi1pk?: string }).gsi1pk === 'QUARANTINE',
    );

    const first = await w.run(sqsEvent([poison, x1, y1]));
    expect(failedIds(first)).toEqual([poison.messageId, x1.messageId]);
    expect(await w.quarantine.list()).toEqual([]);

    const second = await w.run(sqsEvent([redelivered(poison), redelivered(x1)]));
    expect(second.batchItemFailures).toEqual([]);
    expect(await w.quarantine.list()).toEqual([
      expect.objectContaining({ eventId: 'poison-t', receiveCount: 2 }),
    ]);
    expect((await w.conversations.listItems(PAGE_A, USER_X)).map((i) => i.mid)).toEqual(['m_x1']);
  });

  it('through the local FIFO event source: no dead letter, every conversation complete and in order', async () => {
    const w = await world();
    const people = [USER_A1, USER_X, USER_Y];
    const messages: QueueMessage[] = [];
    for (let n = 1; n <= 4; n++) {
      for (const userId of people) {
        messages.push(...queueMessagesOf(inbox([say(userId, `m_${userId}_${n}`, TIME + n)])));
        if (n === 2) {
          messages.push(
            ...queueMessagesOf(inbox([say(userId, `m_${'q'.repeat(1100)}_${userId}`, TIME + n)])),
          );
        }
      }
    }
    messages.push({ groupId: conversationGroupId(PAGE_A, USER_X), dedupId: 'poison-fifo', body: 'not json' });
    messages.push(...queueMessagesOf(inbox([say(USER_X, `m_${USER_X}_5`, TIME + 5)])));
    const errors: unknown[] = [];
    const queue = new LocalFifoQueue({
      name: 'pagewire-events.fifo',
      handler: (event) => w.run(event),
      batchSize: 4,
      concurrency: 2,
      visibilityTimeoutMs: 10,
      onError: (err) => errors.push(err),
    });
    queue.start();
    try {
      await queue.send(messages);
      await queue.idle();
    } finally {
      await queue.stop();
    }

    expect(errors).toEqual([]);
    expect(queue.deadLetters()).toEqual([]);
    expect(queue.stats()).toMatchObject({ delivered: messages.length, deadLetters: 0, pending: 0 });
    for (const userId of people) {
      const want = [1, 2, 3, 4, ...(userId === USER_X ? [5] : [])].map((n) => `m_${userId}_${n}`);
      expect((await w.conversations.listItems(PAGE_A, userId)).map((i) => i.mid)).toEqual(want);
    }
    expect((await w.quarantine.list()).map((q) => q.reason).sort()).toEqual([
      'KeyTooLarge',
      'KeyTooLarge',
      'KeyTooLarge',
      'UnreadableQueueMessage',
    ]);
  });
});

describe('an unclassified failure on its last receive', () => {
  it('is quarantined (RetriesExhausted) instead of dead-lettering the events behind it', async () => {
    const w = await world();
    const first = (c: Parameters<Parameters<typeof w.failNext>[0]>[0]) =>
      isConversationUpdate(c, PAGE_A, USER_X) &&
      (c.input.ExpressionAttributeValues as Record<string, unknown>)[':ts'] === TIME + 1;
    w.failNext(first, 1_000, 'NobodyClassifiedThis');
    const messages = [1, 2, 3].flatMap((n) => queueMessagesOf(inbox([say(USER_X, `m_${n}`, TIME + n)])));
    const errors: unknown[] = [];
    const queue = new LocalFifoQueue({
      name: 'pagewire-events.fifo',
      handler: (event) => w.run(event),
      visibilityTimeoutMs: 1,
      onError: (err) => errors.push(err),
    });
    queue.start();
    try {
      await queue.send(messages);
      await queue.idle();
    } finally {
      await queue.stop();
    }

    // Receives 1 to 4 fail the whole batch (the group's first event fails, the rest are skipped).
    expect(errors.map((e) => (e as Error).name)).toEqual(Array(4).fill('FullBatchFailureError'));
    expect(queue.deadLetters()).toEqual([]);
    expect((await w.conversations.listItems(PAGE_A, USER_X)).map((i) => i.mid)).toEqual(['m_2', 'm_3']);
    expect(await w.quarantine.list()).toEqual([
      expect.objectContaining({ eventId: 'm_1', reason: 'RetriesExhausted', receiveCount: 5 }),
    ]);
  });
});

describe('what the admin sees', () => {
  it('GET /admin/quarantine lists every page newest first, ?pageId= one page, ?limit= the newest n', async () => {
    const w = await world();
    await w.seedPage(PAGE_B);
    const poison = (pageId: string, userId: string, dedupId: string) =>
      sqsRecord({ groupId: conversationGroupId(pageId, userId), dedupId, body: `bad ${dedupId}` });
    for (const [pageId, dedupId] of [
      [PAGE_A, 'q-1'],
      [PAGE_B, 'q-2'],
      [PAGE_A, 'q-3'],
    ] as const) {
      await w.run(sqsEvent([poison(pageId, USER_X, dedupId)]));
      await new Promise((resolve) => setTimeout(resolve, 2)); // distinct quarantinedAt milliseconds
    }

    const all = await adminGet(w, '/admin/quarantine');
    expect(all.status).toBe(200);
    expect(all.events.map((e: { eventId: string }) => e.eventId)).toEqual(['q-3', 'q-2', 'q-1']);
    expect(Object.keys(all.events[0]).sort()).toEqual([
      'bodySize',
      'detail',
      'eventId',
      'pageId',
      'quarantinedAt',
      'reason',
      'receiveCount',
      'timestamp',
      'userId',
    ]);
    expect(all.events[0]).toMatchObject({ pageId: PAGE_A, userId: USER_X, reason: 'UnreadableQueueMessage' });
    expect(new Date(all.events[0].quarantinedAt).toISOString()).toBe(all.events[0].quarantinedAt);
    const ofA = await adminGet(w, '/admin/quarantine', { pageId: PAGE_A });
    expect(ofA.events.map((e: { eventId: string }) => e.eventId)).toEqual(['q-3', 'q-1']);
    const newest = await adminGet(w, '/admin/quarantine', { limit: '1' });
    expect(newest.events.map((e: { eventId: string }) => e.eventId)).toEqual(['q-3']);
    expect((await adminGet(w, '/admin/quarantine', { pageId: '' })).status).toBe(400);
    expect((await adminGet(w, '/admin/quarantine', { pageId: '999' })).events).toEqual([]);
  });

  it('npx pagewire quarantine list: a table, --json for scripts, --page for one page', async () => {
    const w = await world();
    await w.run(
      sqsEvent([sqsRecord({ groupId: conversationGroupId(PAGE_A, USER_X), dedupId: 'q-cli', body: 'nope' })]),
    );
    const { server, url } = await serveHttp(adminOf(w), 0, '127.0.0.1');
    const cli = async (...args: string[]) => {
      let stdout = '';
      let stderr = '';
      const output = new Output(
        { write: (c: string) => (stdout += c) },
        { write: (c: string) => (stderr += c) },
      );
      const code = await main(['quarantine', 'list', '--url', url, '--admin-token', 'local-token', ...args], {
        output,
        env: {},
      });
      return { code, stdout, stderr };
    };
    try {
      const shown = await cli();
      expect(shown).toMatchObject({ code: 0, stderr: '' });
      const lines = shown.stdout.trim().split('\n');
      expect(lines[0]).toBe('1 quarantined event');
      expect(at(lines, 1, 'lines').split(/\s+/)).toEqual([
        'quarantinedAt',
        'pageId',
        'userId',
        'eventId',
        'reason',
      ]);
      expect(at(lines, 2, 'lines').split(/\s+/).slice(1)).toEqual([
        PAGE_A,
        USER_X,
        'q-cli',
        'UnreadableQueueMessage',
      ]);

      const json = await cli('--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout).events).toEqual([expect.objectContaining({ eventId: 'q-cli' })]);

      const other = await cli('--page', PAGE_B);
      expect(other.stderr).toBe('');
      expect(other.stdout.trim()).toBe(`no quarantined events for page ${PAGE_B}`);
      expect((await cli('--page', PAGE_A, '--page', PAGE_B)).code).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
