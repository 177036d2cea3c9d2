/**
 * Every record type written and read back through its repository, every field set: reads are parsed
 * with `z.object` schemas, which drop any attribute they do not name, so a field missing from a schema
 * fails here instead of vanishing on the next read.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import { ContactRepository } from '#contacts/contact-repository';
import { ContactRecord } from '#contracts/contact-record';
import { ConversationRecord, TimelineItem } from '#contracts/conversation-records';
import { PageRecord } from '#contracts/page-record';
import { QuarantineRecord } from '#contracts/quarantine-record';
import { ConversationRepository } from '#conversations/conversation-repository';
import { QuarantineRepository } from '#conversations/quarantine-repository';
import { PageRepository } from '#pages/page-repository';
import { INLINE_ITEM_LIMIT } from '#store/item-codec';
import { UnreadableRecordError } from '#store/records';
import { contactKey, conversationKey, itemKey } from '#store/table';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';

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

/** The fields a schema names: a fixture must set them all, so the round trip covers each. */
const fieldsOf = (schema: { def: { shape: object } }) => Object.keys(schema.def.shape).sort();
const fieldsSet = (record: object) =>
  Object.keys(record)
    .filter((name) => (record as Record<string, unknown>)[name] !== undefined)
    .sort();

describe('every field of every record survives a write and a read', () => {
  it('page', async () => {
    const pages = new PageRepository(dynamo.doc, tableName);
    const page: PageRecord = {
      pageId: 'p1',
      name: 'Page',
      status: 'active',
      sealedToken: 'sealed',
      pendingSealedToken: 'pending-sealed',
      subscribedFields: ['messages'],
      connectedAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-02T00:00:00.000Z',
      lastCheckedAt: '2025-01-03T00:00:00.000Z',
      lastError: 'an error',
      lastCommand: { id: 'c1', type: 'subscribe', ok: false, error: 'e', at: '2025-01-04T00:00:00.000Z' },
      channel: 'instagram',
      linkedPageId: 'p0',
      lastEventAt: '2025-01-05T00:00:00.000Z',
      eventDay0: 20_000,
      eventDay1: 20_001,
      eventDay2: 20_002,
      eventDay3: 20_003,
      eventDay4: 20_004,
      eventDay5: 20_005,
      eventDay6: 20_006,
      warnings: ['quiet'],
      warningsCheckedAt: '2025-01-06T00:00:00.000Z',
      tokenCheckedAt: '2025-01-07T00:00:00.000Z',
    };
    expect(fieldsSet(page)).toEqual(fieldsOf(PageRecord));
    await pages.put(page);
    expect(await pages.get('p1')).toEqual(page);
  });

  it('contact', async () => {
    const contacts = new ContactRepository(dynamo.doc, tableName);
    const contact: ContactRecord = {
      pageId: 'p1',
      userId: 'u1',
      firstName: 'Ada',
      lastName: 'Lovelace',
      profilePic: 'https://x/pic.jpg',
      profileStatus: 'pending',
      updatedAt: '2025-01-01T00:00:00.000Z',
    };
    expect(fieldsSet(contact)).toEqual(fieldsOf(ContactRecord));
    await contacts.put(contact);
    expect(await contacts.get('p1', 'u1')).toEqual(contact);
    expect(await contacts.listPending('p1')).toEqual([contact]);
  });

  it('conversation, as its updates write it', async () => {
    const conversations = new ConversationRepository(dynamo.doc, tableName);
    await conversations.raiseWatermark('p1', 'u1', 'delivered', 5);
    await conversations.raiseWatermark('p1', 'u1', 'read', 4);
    await conversations.touch('p1', 'u1', { timestamp: 3, inbound: true, name: 'Ada Lovelace' });
    await conversations.touch('p1', 'u1', { timestamp: 6, inbound: false });
    const expected: ConversationRecord = {
      pageId: 'p1',
      userId: 'u1',
      name: 'Ada Lovelace',
      lastMessageAt: 6,
      lastInboundAt: 3,
      deliveredWatermark: 5,
      readWatermark: 4,
    };
    expect(fieldsSet(expected)).toEqual(fieldsOf(ConversationRecord));
    expect(await conversations.get('p1', 'u1')).toEqual(expected);
    expect(await conversations.list('p1')).toEqual([expected]);
  });

  it('timeline item, with what later updates add; inline and moved to the blob store', async () => {
    const conversations = new ConversationRepository(dynamo.doc, tableName, new MemoryBlobStore());
    const item = (mid: string, text: string): TimelineItem => ({
      pageId: 'p1',
      userId: 'u1',
      mid,
      kind: 'message',
      direction: 'out',
      timestamp: 7,
      text,
      attachments: [{ type: 'image', url: 'https://x/a.jpg', title: 't', stickerId: 369, payload: { a: 1 } }],
      quickReplyPayload: 'QR',
      replyToMid: 'm.0',
      title: 'Button',
      payload: 'PAYLOAD',
      detail: { referral: { ref: 'r' } },
      status: 'sent',
      appId: '263902037430900',
      standby: true,
    });
    for (const stored of [item('m.small', 'hola'), item('m.big', 'x'.repeat(INLINE_ITEM_LIMIT))]) {
      expect(await conversations.putItem(stored)).toBe('stored');
      await conversations.setReaction('p1', 'u1', stored.mid, 'u1', {
        reaction: 'love',
        emoji: '❤',
        timestamp: 8,
      });
      await conversations.markDelivered('p1', 'u1', [stored.mid]);
      expect(
        await conversations.applyEdit('p1', 'u1', stored.mid, { text: 'edited', numEdit: 2, at: 9 }),
      ).toBe('applied');
      const expected: TimelineItem = {
        ...stored,
        text: 'edited',
        edits: 2,
        editedAt: 9,
        status: 'delivered',
        reactions: { u1: { reaction: 'love', emoji: '❤', timestamp: 8 } },
      };
      // partsUnavailable is set on reading only, when moved parts are lost (item-codec.ts); `deleted`
      // by an unsend, which erases most of the rest (tests/integration/instagram.test.ts); `placeholder`
      // by an edit that overtook its message (tests/integration/message-edits.test.ts).
      expect([...fieldsSet(expected), 'partsUnavailable', 'deleted', 'placeholder'].sort()).toEqual(
        fieldsOf(TimelineItem),
      );
      expect(await conversations.getItem('p1', 'u1', stored.mid)).toEqual(expected);
    }
  });

  it('quarantined event, body inline and in the blob store', async () => {
    const at = new Date('2025-01-01T00:00:00.000Z');
    const quarantine = new QuarantineRepository(dynamo.doc, tableName, new MemoryBlobStore(), () => at);
    const entry = (eventId: string, body: string) => ({
      pageId: 'p1',
      userId: 'u1',
      eventId,
      timestamp: 9,
      reason: 'UnstorableValue',
      detail: 'why',
      receiveCount: 2,
      body,
    });
    await quarantine.add(entry('e.small', '{}'));
    await quarantine.add(entry('e.big', 'b'.repeat(64 * 1024)));
    const small = await quarantine.get('p1', 'e.small');
    const big = await quarantine.get('p1', 'e.big');
    expect(small).toEqual({ ...entry('e.small', '{}'), quarantinedAt: at.toISOString(), bodySize: 2 });
    expect(big).toMatchObject({ body: 'b'.repeat(64 * 1024), bodySize: 64 * 1024 });
    expect(fieldsSet(big ?? {})).toEqual(fieldsOf(QuarantineRecord));
    const { body: _body, bodyBlob: _blob, ...summary } = big ?? ({} as QuarantineRecord);
    expect(await quarantine.list({ pageId: 'p1' })).toContainEqual(summary);
  });
});

describe('a stored item that is not its record', () => {
  const put = (item: Record<string, unknown>) =>
    dynamo.doc.send(new PutCommand({ TableName: tableName, Item: item }));

  it('fails its read with an error naming its key and the field, not a cast', async () => {
    await put({ ...contactKey('p1', 'u1'), pageId: 'p1', userId: 'u1', updatedAt: 'x' });
    const read = new ContactRepository(dynamo.doc, tableName).get('p1', 'u1');
    await expect(read).rejects.toThrow(UnreadableRecordError);
    await expect(read).rejects.toThrow(
      'stored item PAGE#p1 / CONTACT#u1 is not a valid record: profileStatus',
    );

    await put({ ...conversationKey('p1', 'u2'), pageId: 'p1', userId: 'u2', lastMessageAt: 'soon' });
    await expect(new ConversationRepository(dynamo.doc, tableName).get('p1', 'u2')).rejects.toThrow(
      'stored item PAGE#p1 / CONV#u2 is not a valid record: lastMessageAt: expected number',
    );

    await put({ ...itemKey('p1', 'u1', 'm1'), pageId: 'p1', userId: 'u1', mid: 'm1', kind: 'message' });
    await expect(new ConversationRepository(dynamo.doc, tableName).getItem('p1', 'u1', 'm1')).rejects.toThrow(
      /stored item CONV#p1#u1 \/ ITEM#m1 is not a valid record: direction/,
    );
  });
});
