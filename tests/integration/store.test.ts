import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ContactRepository } from '#contacts/contact-repository';
import type { ContactRecord } from '#contracts/contact-record';
import type { TimelineItem } from '#contracts/conversation-records';
import type { PageRecord } from '#contracts/page-record';
import { ConversationRepository } from '#conversations/conversation-repository';
import { createTableIfMissing } from '#local/dynalite';
import { connectRequested, disconnected, reauth, subscribed, tokenPromoted } from '#pages/page';
import { PageRepository } from '#pages/page-repository';
import { conversationKey, itemKey, pageKey } from '#store/table';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { at, first } from '#testkit/pick';

let dynamo: TestDynamo;
let tableName: string;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(async () => {
  tableName = await dynamo.createTable();
});

const page = (pageId: string, extra: Partial<PageRecord> = {}): PageRecord => ({
  pageId,
  name: `Page ${pageId}`,
  status: 'active',
  sealedToken: `sealed-${pageId}`,
  subscribedFields: ['messages', 'message_reads'],
  connectedAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  ...extra,
});

const contact = (userId: string, extra: Partial<ContactRecord> = {}): ContactRecord => ({
  pageId: 'p1',
  userId,
  profileStatus: 'pending',
  updatedAt: '2025-01-01T00:00:00.000Z',
  ...extra,
});

const item = (mid: string, timestamp: number, extra: Partial<TimelineItem> = {}): TimelineItem => ({
  pageId: 'p1',
  userId: 'u1',
  mid,
  kind: 'message',
  direction: 'in',
  timestamp,
  text: `text ${mid}`,
  ...extra,
});

function shuffle<T>(values: T[]): T[] {
  const copy = [...values];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [at(copy, j, 'value'), at(copy, i, 'value')];
  }
  return copy;
}

async function inChunks<T>(values: T[], size: number, run: (value: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < values.length; i += size) await Promise.all(values.slice(i, i + size).map(run));
}

describe('PageRepository', () => {
  const repo = () => new PageRepository(dynamo.doc, tableName);

  it('puts and gets a page without key attributes', async () => {
    await repo().put(page('p1'));
    expect(await repo().get('p1')).toEqual(page('p1'));
    expect(await repo().get('nope')).toBeUndefined();
  });

  it('keeps every field of a page through put and get (the read schema drops none)', async () => {
    const full = page('p1', {
      pendingSealedToken: 'sealed-pending',
      lastCheckedAt: '2025-01-02T00:00:00.000Z',
      lastError: 'boom',
      lastCommand: { id: 'c1', type: 'check', ok: false, error: 'refused', at: '2025-01-03T00:00:00.000Z' },
    });
    await repo().put(full);
    expect(await repo().get('p1')).toStrictEqual(full);
  });

  it('refuses a stored record that is not a page', async () => {
    await dynamo.doc.send(new PutCommand({ TableName: tableName, Item: { ...pageKey('p1'), pageId: 'p1' } }));
    await expect(repo().get('p1')).rejects.toThrow(/stored page p1 is not a page record/);
  });

  it('applies a transition to an existing page and answers it as stored', async () => {
    await repo().put(page('p1', { lastError: 'boom' }));
    const updated = await repo().apply('p1', reauth(page('p1'), { message: 'token refused' }));
    expect(updated).toMatchObject({ pageId: 'p1', status: 'reauth_required', lastError: 'token refused' });
    expect(updated?.updatedAt).not.toBe('2025-01-01T00:00:00.000Z');
    expect(updated).not.toHaveProperty('pk');
    expect(await repo().get('p1')).toEqual(updated);
    // The next transition is computed from the page as stored (it holds the status it came from).
    const cleared = updated && (await repo().apply('p1', subscribed(updated, ['messages'])));
    expect(cleared?.status).toBe('active');
    expect(cleared).not.toHaveProperty('lastError');
  });

  it('creates a page only while it is new, listed like any other', async () => {
    const at = '2025-02-02T00:00:00.000Z';
    const created = await repo().apply(
      'p1',
      connectRequested(undefined, { name: 'One', pendingSealedToken: 'pending-1', at }),
    );
    expect(created).toEqual({
      pageId: 'p1',
      name: 'One',
      status: 'subscribing',
      subscribedFields: [],
      pendingSealedToken: 'pending-1',
      connectedAt: at,
      updatedAt: at,
    });
    expect((await repo().list()).map((p) => p.pageId)).toEqual(['p1']);
    // A second "new" connect of the same page loses: the first one's token is not overwritten.
    const again = connectRequested(undefined, { name: 'One', pendingSealedToken: 'pending-2', at });
    expect(await repo().apply('p1', again)).toBeUndefined();
    expect((await repo().get('p1'))?.pendingSealedToken).toBe('pending-1');
  });

  it('never creates a page with any other transition', async () => {
    expect(await repo().apply('ghost', disconnected(page('ghost')))).toBeUndefined();
    expect(await repo().apply('ghost', reauth(page('ghost'), { message: 'x' }))).toBeUndefined();
    expect(await repo().get('ghost')).toBeUndefined();
  });

  it('lands a token-guarded change only on the token it was decided on', async () => {
    await repo().put(page('p1'));
    const stale = page('p1', { sealedToken: 'sealed-old' });
    expect(await repo().apply('p1', reauth(stale, { message: 'x' }))).toBeUndefined();
    expect((await repo().get('p1'))?.status).toBe('active');
    const pending = page('p1', { pendingSealedToken: 'pending-new' });
    expect(
      await repo().apply('p1', tokenPromoted({ ...pending, pendingSealedToken: 'pending-new' })),
    ).toBeUndefined();
    await repo().put(pending);
    const promoted = await repo().apply(
      'p1',
      tokenPromoted({ ...pending, pendingSealedToken: 'pending-new' }),
    );
    expect(promoted).toMatchObject({ status: 'subscribing', sealedToken: 'pending-new' });
    expect(promoted).not.toHaveProperty('pendingSealedToken');
  });

  it('removes the token on disconnect and keeps a pending one', async () => {
    await repo().put(page('p1', { pendingSealedToken: 'pending' }));
    const updated = await repo().apply('p1', disconnected(page('p1')));
    expect(updated?.status).toBe('disconnected');
    expect(updated).not.toHaveProperty('sealedToken');
    expect(updated?.pendingSealedToken).toBe('pending');
    expect(await repo().get('p1')).not.toHaveProperty('sealedToken');
  });

  it('lists every page beyond one 1 MB query page, and pages through them', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `page-${String(i).padStart(3, '0')}`);
    const filler = 'x'.repeat(5000); // 250 × 5 KB > 1 MB: list() must follow LastEvaluatedKey
    await inChunks(ids, 25, (id) => repo().put(page(id, { lastError: filler })));
    await repo().put(page('x'));
    await new ContactRepository(dynamo.doc, tableName).put(contact('u1', { pageId: 'page-000' }));

    const all = await repo().list();
    expect(all.map((p) => p.pageId)).toEqual([...ids, 'x']);
    expect(all[0]).not.toHaveProperty('gsi1pk');

    const seen: string[] = [];
    let cursor: string | undefined;
    let calls = 0;
    do {
      const result = await repo().listPage(cursor, 40);
      expect(result.pages.length).toBeLessThanOrEqual(40);
      seen.push(...result.pages.map((p) => p.pageId));
      cursor = result.cursor;
      calls++;
    } while (cursor);
    expect(seen).toEqual([...ids, 'x']);
    expect(calls).toBeGreaterThanOrEqual(7);
    await expect(repo().listPage('not-a-cursor')).rejects.toThrow(/cursor/);
  });
});

describe('ContactRepository', () => {
  const repo = () => new ContactRepository(dynamo.doc, tableName);

  it('puts, gets and lists pending contacts of one page', async () => {
    await repo().put(contact('u1'));
    await repo().put(contact('u2', { profileStatus: 'fetched', firstName: 'Ada', lastName: 'Lovelace' }));
    await repo().put(contact('u3', { profileStatus: 'unavailable' }));
    await repo().put(contact('u4'));
    await repo().put(contact('u9', { pageId: 'p2' }));
    await new ConversationRepository(dynamo.doc, tableName).touch('p1', 'u5', {
      timestamp: 1,
      inbound: true,
    });

    expect(await repo().get('p1', 'u2')).toEqual(
      contact('u2', { profileStatus: 'fetched', firstName: 'Ada', lastName: 'Lovelace' }),
    );
    expect(await repo().get('p1', 'u9')).toBeUndefined();
    expect((await repo().listPending('p1')).map((c) => c.userId)).toEqual(['u1', 'u4']);

    await repo().put(contact('u1', { profileStatus: 'fetched', firstName: 'Grace' }));
    const pending = await repo().listPending('p1');
    expect(pending).toEqual([contact('u4')]);
  });
});

describe('ConversationRepository: conversations', () => {
  const repo = () => new ConversationRepository(dynamo.doc, tableName);

  it('touch keeps the max whatever the order, and is idempotent', async () => {
    const touches = Array.from({ length: 20 }, (_, i) => ({
      timestamp: 1000 + i * 10,
      inbound: i % 2 === 0,
    }));
    for (const touch of shuffle([...touches, ...touches.slice(0, 5)])) await repo().touch('p1', 'u1', touch);
    expect(await repo().get('p1', 'u1')).toEqual({
      pageId: 'p1',
      userId: 'u1',
      lastMessageAt: 1190,
      lastInboundAt: 1180,
    });
    await repo().touch('p1', 'u1', { timestamp: 500, inbound: true, name: 'Ada Lovelace' });
    expect(await repo().get('p1', 'u1')).toMatchObject({
      lastMessageAt: 1190,
      lastInboundAt: 1180,
      name: 'Ada Lovelace',
    });
  });

  it('concurrent touches end at the max', async () => {
    const touches = shuffle(Array.from({ length: 60 }, (_, i) => ({ timestamp: 5000 + i, inbound: i < 30 })));
    await Promise.all(touches.map((touch) => repo().touch('p1', 'u1', touch)));
    expect(await repo().get('p1', 'u1')).toMatchObject({ lastMessageAt: 5059, lastInboundAt: 5029 });
  });

  it('setName only names an existing conversation', async () => {
    expect(await repo().setName('p1', 'u1', 'Nobody')).toBe(false);
    expect(await repo().get('p1', 'u1')).toBeUndefined();
    await repo().touch('p1', 'u1', { timestamp: 1, inbound: false });
    expect(await repo().setName('p1', 'u1', 'Ada Lovelace')).toBe(true);
    expect(await repo().get('p1', 'u1')).toEqual({
      pageId: 'p1',
      userId: 'u1',
      lastMessageAt: 1,
      name: 'Ada Lovelace',
    });
  });

  it('watermarks only rise; one that overtakes the first message starts the conversation, unlisted', async () => {
    await repo().raiseWatermark('p1', 'u1', 'read', 100);
    expect(await repo().get('p1', 'u1')).toMatchObject({ readWatermark: 100 });
    expect(await repo().list('p1')).toEqual([]);
    await repo().touch('p1', 'u1', { timestamp: 1, inbound: true });
    expect((await repo().list('p1')).map((c) => c.userId)).toEqual(['u1']);
    expect(await repo().raiseWatermark('p1', 'u1', 'read', 300)).toBe('raised');
    expect(await repo().raiseWatermark('p1', 'u1', 'read', 200)).toBe('older');
    expect(await repo().raiseWatermark('p1', 'u1', 'read', 300)).toBe('same');
    await repo().raiseWatermark('p1', 'u1', 'delivered', 250);
    await Promise.all(
      shuffle([10, 400, 350, 20]).map((w) => repo().raiseWatermark('p1', 'u1', 'delivered', w)),
    );
    expect(await repo().get('p1', 'u1')).toMatchObject({
      readWatermark: 300,
      deliveredWatermark: 400,
      lastMessageAt: 1,
    });
  });

  it('lists a page’s conversations newest first, across query pages', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
    await Promise.all(
      users.map((u, i) => repo().touch('p1', u, { timestamp: 1000 + ((i * 7) % 30), inbound: true })),
    );
    await repo().touch('p1', 'u0', { timestamp: 5000, inbound: false }); // moves u0 to the top
    await repo().touch('p1', 'u1', { timestamp: 1, inbound: false }); // older: changes nothing
    await repo().touch('p2', 'other', { timestamp: 9999, inbound: true });
    await new ContactRepository(dynamo.doc, tableName).put(contact('u3'));
    await new PageRepository(dynamo.doc, tableName).put(page('p1'));

    const list = await repo().list('p1', { pageSize: 4 });
    expect(list).toHaveLength(30);
    expect(list[0]).toEqual({ pageId: 'p1', userId: 'u0', lastMessageAt: 5000, lastInboundAt: 1000 });
    const times = list.map((c) => c.lastMessageAt);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(await repo().list('p1', { limit: 3 })).toEqual(list.slice(0, 3));
  });

  it('lists by lastMessageAt, not by write order; limit keeps the newest; watermark-only records wait', async () => {
    // Written oldest-last, and ties on lastMessageAt: the order comes from the values, ties by user id.
    await repo().touch('p1', 'a', { timestamp: 300, inbound: true });
    await repo().touch('p1', 'b', { timestamp: 100, inbound: true });
    await repo().touch('p1', 'c', { timestamp: 300, inbound: false });
    await repo().touch('p1', 'd', { timestamp: 200, inbound: true });
    // Conversations only a delivery or read started (the echo not stored yet): not listed, not counted.
    await repo().raiseWatermark('p1', 'w1', 'delivered', 9_000);
    await repo().raiseWatermark('p1', 'w2', 'read', 9_500);
    await repo().touch('p1', 'b', { timestamp: 400, inbound: false }); // b moves to the top

    expect((await repo().list('p1')).map((c) => [c.userId, c.lastMessageAt])).toEqual([
      ['b', 400],
      ['c', 300],
      ['a', 300],
      ['d', 200],
    ]);
    expect((await repo().list('p1', { limit: 2, pageSize: 1 })).map((c) => c.userId)).toEqual(['b', 'c']);
    expect(await repo().list('p1', { limit: 0 })).toEqual([]);

    // Its first message lists it.
    await repo().touch('p1', 'w1', { timestamp: 50, inbound: false });
    expect((await repo().list('p1')).map((c) => c.userId)).toEqual(['b', 'c', 'a', 'd', 'w1']);
    expect((await repo().list('p1')).at(-1)).toMatchObject({ deliveredWatermark: 9_000, lastMessageAt: 50 });
  });

  it('conversation records carry no index key, whatever wrote them', async () => {
    const raw = async (userId: string) =>
      (await dynamo.doc.send(new GetCommand({ TableName: tableName, Key: conversationKey('p1', userId) })))
        .Item;
    await repo().touch('p1', 'u1', { timestamp: 100, inbound: true, name: 'Ada Lovelace' });
    await repo().touch('p1', 'u1', { timestamp: 50, inbound: true }); // older: raises field by field
    await repo().touch('p1', 'u1', { timestamp: 200, inbound: false });
    await repo().setName('p1', 'u1', 'Ada King');
    await repo().raiseWatermark('p1', 'u1', 'read', 150);
    await repo().raiseWatermark('p1', 'u2', 'delivered', 10);
    await repo().touch('p1', 'u2', { timestamp: 5, inbound: true });
    for (const userId of ['u1', 'u2']) {
      const item = await raw(userId);
      expect(item).toBeDefined();
      expect(Object.keys(item ?? {}).sort()).not.toContain('tsk');
    }
    expect(await raw('u1')).toMatchObject({ lastMessageAt: 200, lastInboundAt: 100, name: 'Ada King' });
  });

  it('touch answers the stored name and whether it gave the conversation its first inbound event', async () => {
    expect(await repo().touch('p1', 'u1', { timestamp: 100, inbound: false })).toEqual({
      firstInbound: false,
    });
    expect(await repo().touch('p1', 'u1', { timestamp: 200, inbound: true })).toEqual({ firstInbound: true });
    expect(await repo().touch('p1', 'u1', { timestamp: 300, inbound: true })).toEqual({
      firstInbound: false,
    });
    // The same event again (a redelivery): nothing applies, nothing is learnt, and it is not a first.
    expect(await repo().touch('p1', 'u1', { timestamp: 300, inbound: true })).toEqual({
      firstInbound: false,
    });
    await repo().setName('p1', 'u1', 'Ada Lovelace');
    expect(await repo().touch('p1', 'u1', { timestamp: 400, inbound: true })).toEqual({
      name: 'Ada Lovelace',
      firstInbound: false,
    });
    // Older than every stored value: nothing applies, so the stored name is not learnt.
    expect(await repo().touch('p1', 'u1', { timestamp: 350, inbound: false })).toEqual({
      firstInbound: false,
    });
    expect(await repo().touch('p1', 'u1', { timestamp: 450, inbound: false, name: 'Given' })).toEqual({
      name: 'Given',
      firstInbound: false,
    });
    // Older than the last message, newer than the last inbound: the raise of lastInboundAt reads the name.
    expect(await repo().touch('p1', 'u1', { timestamp: 420, inbound: true })).toEqual({
      name: 'Given',
      firstInbound: false,
    });

    // A page that wrote first (an echo, newer than the person's first message): the late inbound is a first.
    await repo().touch('p1', 'u2', { timestamp: 900, inbound: false });
    expect(await repo().touch('p1', 'u2', { timestamp: 800, inbound: true })).toEqual({ firstInbound: true });
    expect(await repo().touch('p1', 'u2', { timestamp: 850, inbound: true })).toEqual({
      firstInbound: false,
    });
    await repo().setName('p1', 'u2', 'Bob Marley');
    expect(await repo().touch('p1', 'u2', { timestamp: 870, inbound: true })).toEqual({
      name: 'Bob Marley',
      firstInbound: false,
    });
  });
});

describe('ConversationRepository: timeline', () => {
  const repo = () => new ConversationRepository(dynamo.doc, tableName);

  it('stores a mid exactly once under 50 parallel puts', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => repo().putItem(item('m.same', 1000 + i, { text: `try ${i}` }))),
    );
    expect(results.filter((r) => r === 'stored')).toHaveLength(1);
    expect(results.filter((r) => r === 'duplicate')).toHaveLength(49);
    expect(await repo().listItems('p1', 'u1')).toHaveLength(1);
  });

  it('refuses a duplicate days later and keeps the first version', async () => {
    const day = 24 * 3600 * 1000;
    expect(await repo().putItem(item('m.1', 1_700_000_000_000))).toBe('stored');
    expect(await repo().putItem(item('m.1', 1_700_000_000_000 + 9 * day, { text: 'changed' }))).toBe(
      'duplicate',
    );
    expect(await repo().getItem('p1', 'u1', 'm.1')).toEqual(item('m.1', 1_700_000_000_000));
    expect(await repo().getItem('p1', 'u1', 'm.missing')).toBeUndefined();
    expect(await repo().getItem('p1', 'u2', 'm.1')).toBeUndefined();
  });

  it('lists items by event timestamp, ties by mid, not by insertion', async () => {
    const items = [item('m.c', 300), item('m.a', 100), item('m.z', 200), item('m.b', 200), item('m.y', 200)];
    for (const it of items) await repo().putItem(it);
    await repo().putItem(item('m.other', 150, { userId: 'u2' }));
    const listed = await repo().listItems('p1', 'u1');
    expect(listed.map((i) => i.mid)).toEqual(['m.a', 'm.b', 'm.y', 'm.z', 'm.c']);
    expect(listed[0]).toEqual(item('m.a', 100));
    expect((await repo().listItems('p1', 'u1', { limit: 2 })).map((i) => i.mid)).toEqual(['m.a', 'm.b']);
    expect((await repo().listItems('p1', 'u1', { limit: 2, latest: true })).map((i) => i.mid)).toEqual([
      'm.z',
      'm.c',
    ]);
  });

  it('pages through hundreds of items, also beyond 1 MB', async () => {
    const timestamps = shuffle(Array.from({ length: 300 }, (_, i) => 1_700_000_000_000 + i * 1000));
    const big = 'y'.repeat(4000); // 300 × 4 KB > 1 MB
    await inChunks(timestamps, 30, (ts) => repo().putItem(item(`m.${ts}`, ts, { text: big })));
    const expected = [...timestamps].sort((a, b) => a - b);

    const small = await repo().listItems('p1', 'u1', { pageSize: 7 });
    expect(small.map((i) => i.timestamp)).toEqual(expected);
    const whole = await repo().listItems('p1', 'u1');
    expect(whole.map((i) => i.timestamp)).toEqual(expected);
    expect(whole[0]).not.toHaveProperty('tsk');
    const some = await repo().listItems('p1', 'u1', { limit: 20, pageSize: 6 });
    expect(some.map((i) => i.timestamp)).toEqual(expected.slice(0, 20));
  });

  it('marks only out items still sent as delivered', async () => {
    await repo().putItem(item('m.out', 1, { direction: 'out', status: 'sent' }));
    await repo().putItem(item('m.failed', 2, { direction: 'out', status: 'failed' }));
    await repo().putItem(item('m.in', 3));
    await repo().putItem(item('m.done', 4, { direction: 'out', status: 'delivered' }));
    const marked = await repo().markDelivered('p1', 'u1', [
      'm.out',
      'm.failed',
      'm.in',
      'm.done',
      'm.missing',
      'm.out',
    ]);
    expect(marked).toBe(1);
    const statuses = Object.fromEntries((await repo().listItems('p1', 'u1')).map((i) => [i.mid, i.status]));
    expect(statuses).toEqual({
      'm.out': 'delivered',
      'm.failed': 'failed',
      'm.in': undefined,
      'm.done': 'delivered',
    });
    const raw = await dynamo.doc.send(
      new GetCommand({ TableName: tableName, Key: itemKey('p1', 'u1', 'm.missing') }),
    );
    expect(raw.Item).toBeUndefined();
  });

  it('sets, replaces and removes reactions; an older one is ignored', async () => {
    await repo().putItem(item('m.1', 1, { direction: 'out', status: 'sent' }));
    expect(
      await repo().setReaction('p1', 'u1', 'm.1', 'u1', { reaction: 'love', emoji: '❤', timestamp: 10 }),
    ).toBe('applied');
    expect((await repo().getItem('p1', 'u1', 'm.1'))?.reactions).toEqual({
      u1: { reaction: 'love', emoji: '❤', timestamp: 10 },
    });
    await repo().setReaction('p1', 'u1', 'm.1', 'u1', { reaction: 'smile', emoji: '😆', timestamp: 20 });
    expect(
      await repo().setReaction('p1', 'u1', 'm.1', 'u1', { reaction: 'angry', emoji: '😡', timestamp: 15 }),
    ).toBe('stale');
    await repo().setReaction('p1', 'u1', 'm.1', 'u2', { reaction: 'like', timestamp: 5 });
    expect((await repo().getItem('p1', 'u1', 'm.1'))?.reactions).toEqual({
      u1: { reaction: 'smile', emoji: '😆', timestamp: 20 },
      u2: { reaction: 'like', timestamp: 5 },
    });

    expect(await repo().setReaction('p1', 'u1', 'm.1', 'u2', undefined)).toBe('applied');
    // An unreact recorded with its timestamp: hidden, and it outranks an older react arriving late.
    await repo().setReaction('p1', 'u1', 'm.1', 'u1', { timestamp: 30 });
    await repo().setReaction('p1', 'u1', 'm.1', 'u1', { reaction: 'wow', timestamp: 25 });
    const stored = await repo().getItem('p1', 'u1', 'm.1');
    expect(stored).toEqual(item('m.1', 1, { direction: 'out', status: 'sent' }));
    await repo().setReaction('p1', 'u1', 'm.1', 'u1', { reaction: 'sad', timestamp: 40 });
    expect(first(await repo().listItems('p1', 'u1'), 'item').reactions).toEqual({
      u1: { reaction: 'sad', timestamp: 40 },
    });

    expect(await repo().setReaction('p1', 'u1', 'm.missing', 'u1', { reaction: 'love', timestamp: 1 })).toBe(
      'missing',
    );
    expect(await repo().setReaction('p1', 'u1', 'm.missing', 'u1', undefined)).toBe('missing');
    const raw = await dynamo.doc.send(
      new GetCommand({ TableName: tableName, Key: itemKey('p1', 'u1', 'm.missing') }),
    );
    expect(raw.Item).toBeUndefined();
  });
});

describe('persistence', () => {
  it('keeps data written under a path across stop and start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pagewire-dynalite-'));
    try {
      const first = await startTestDynamo({ path: join(dir, 'db') });
      const name = await first.createTable();
      await new PageRepository(first.doc, name).put(page('p1'));
      expect(await new ConversationRepository(first.doc, name).putItem(item('m.1', 1))).toBe('stored');
      await first.stop();

      const second = await startTestDynamo({ path: join(dir, 'db') });
      try {
        await createTableIfMissing(second.client, name);
        expect(await new PageRepository(second.doc, name).get('p1')).toEqual(page('p1'));
        const raw = await second.doc.send(new GetCommand({ TableName: name, Key: pageKey('p1') }));
        expect(raw.Item?.gsi1pk).toBe('PAGE');
        const conversations = new ConversationRepository(second.doc, name);
        expect(await conversations.putItem(item('m.1', 1))).toBe('duplicate');
        expect((await conversations.listItems('p1', 'u1')).map((i) => i.mid)).toEqual(['m.1']);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
