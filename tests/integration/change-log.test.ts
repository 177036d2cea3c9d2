import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventId } from '#contracts/public-event';
import { type Change, ChangeLog, MAX_DATA_BYTES } from '#events/change-log';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { tappedDocClient } from '#testkit/sdk-tap';

let dynamo: TestDynamo;
let log: ChangeLog;
let tableName: string;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(async () => {
  tableName = await dynamo.createTable();
  log = new ChangeLog(dynamo.doc, tableName);
});

const change = (key: string, extra: Partial<Change> = {}): Change => ({
  pageId: 'p1',
  userId: 'u1',
  key,
  type: 'message.received',
  at: Date.UTC(2026, 11, 1, 10),
  data: { mid: key },
  ...extra,
});

describe('ChangeLog', () => {
  it('numbers a conversation’s changes 1, 2, 3 and conversations independently', async () => {
    const a = await log.record(change('m1'), { known: false });
    const b = await log.record(change('m2'), { known: false });
    const other = await log.record(change('m1', { userId: 'u2' }), { known: false });
    const c = await log.record(change('m3'), { known: false });
    expect([a.seq, b.seq, c.seq, other.seq]).toEqual([1, 2, 3, 1]);
    expect(a).toEqual({
      id: eventId({ pageId: 'p1', userId: 'u1', changeKey: 'm1', type: 'message.received' }),
      type: 'message.received',
      time: '2026-12-01T10:00:00.000Z',
      version: 1,
      pageId: 'p1',
      channel: 'messenger',
      userId: 'u1',
      seq: 1,
      data: { mid: 'm1' },
    });
    expect(other.id).not.toBe(a.id);
    expect((await log.list('p1', 'u1')).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await log.list('p1', 'u1', 1)).map((e) => e.data.mid)).toEqual(['m2', 'm3']);
  });

  it('answers a known change with the event recorded the first time (same id, seq, time, data)', async () => {
    const first = await log.record(change('m1'), { known: false });
    await log.record(change('m2'), { known: false });
    const again = await log.record(change('m1', { at: 1, data: { mid: 'changed' } }), { known: true });
    expect(again).toEqual(first);
    expect((await log.list('p1', 'u1')).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('a known change never recorded before gets the next seq', async () => {
    await log.record(change('m1'), { known: false });
    const late = await log.record(change('m2'), { known: true });
    expect(late.seq).toBe(2);
  });

  it('completes a delivery that claimed its seq and stopped before its change record', async () => {
    const first = await log.record(change('m1'), { known: false });
    // The crash: an event record for m2 (seq 2) and no change record.
    const claimed = {
      ...first,
      id: eventId({ pageId: 'p1', userId: 'u1', changeKey: 'm2', type: 'message.received' }),
      seq: 2,
      data: { mid: 'm2' },
    };
    await dynamo.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: 'CONV#p1#u1', sk: 'EVENT#000000000000002', key: 'm2', event: JSON.stringify(claimed) },
      }),
    );
    const redelivered = await log.record(change('m2'), { known: true });
    expect(redelivered).toEqual(claimed);
    // …and the change record exists now: a late duplicate finds it without being the last one.
    await log.record(change('m3'), { known: false });
    expect(await log.record(change('m2'), { known: true })).toEqual(claimed);
    expect((await log.list('p1', 'u1')).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('finds its own claim a few changes back: a record that left the queue half-done, then its duplicate', async () => {
    await log.record(change('m1'), { known: false });
    const claimed = {
      ...(await log.record(change('m1'), { known: true })),
      id: eventId({ pageId: 'p1', userId: 'u1', changeKey: 'm2', type: 'message.received' }),
      seq: 2,
      data: { mid: 'm2' },
    };
    await dynamo.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: 'CONV#p1#u1', sk: 'EVENT#000000000000002', key: 'm2', event: JSON.stringify(claimed) },
      }),
    );
    // The conversation went on (m2's record was dead-lettered), then m2 comes back as a duplicate.
    await log.record(change('m3'), { known: false });
    await log.record(change('m4'), { known: false });
    expect(await log.record(change('m2'), { known: true })).toEqual(claimed);
    expect((await log.list('p1', 'u1')).map((e) => e.data.mid)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('never gives one seq to two changes, even when two writers race', async () => {
    const events = await Promise.all(
      Array.from({ length: 4 }, (_, i) => log.record(change(`m${i}`), { known: false })),
    );
    expect(events.map((e) => e.seq).sort()).toEqual([1, 2, 3, 4]);
  });

  it('cuts data too large for an EventBridge entry down to a pointer', async () => {
    const text = 'x'.repeat(MAX_DATA_BYTES);
    const event = await log.record(change('big', { data: { mid: 'big', text } }), { known: false });
    expect(event.data).toEqual({ mid: 'big', truncated: true });
  });

  it('keeps long change keys within DynamoDB’s key size', async () => {
    const key = `message:${'m'.repeat(5000)}`;
    const event = await log.record(change(key), { known: false });
    expect(await log.record(change(key), { known: true })).toEqual(event);
  });

  it('claims a new change of a conversation it numbered before without reading the log', async () => {
    const queries: string[] = [];
    const tapped = tappedDocClient(dynamo.endpoint, async ({ name }, send) => {
      if (name === 'QueryCommand') queries.push(name);
      return send();
    });
    const counted = new ChangeLog(tapped, tableName);
    await counted.record(change('m1'), { known: false });
    expect(queries).toHaveLength(1);
    await counted.record(change('m2'), { known: false });
    await counted.record(change('m3'), { known: false });
    expect(queries).toHaveLength(1);
    // A change that may have been recorded by an earlier delivery still looks for its own claim.
    await counted.record(change('m4'), { known: true });
    expect(queries).toHaveLength(2);
    expect((await log.list('p1', 'u1')).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('stays gapless when another writer numbered the conversation meanwhile', async () => {
    const processor = new ChangeLog(dynamo.doc, tableName);
    const admin = new ChangeLog(dynamo.doc, tableName);
    await processor.record(change('m1'), { known: false });
    await admin.record(change('sent1'), { known: false });
    await admin.record(change('sent2'), { known: false });
    const next = await processor.record(change('m2'), { known: false });
    expect(next.seq).toBe(4);
    expect((await log.list('p1', 'u1')).map((e) => [e.seq, e.data.mid])).toEqual([
      [1, 'm1'],
      [2, 'sent1'],
      [3, 'sent2'],
      [4, 'm2'],
    ]);
  });
});
