/**
 * A new contact's name and its contact.updated event (SPEC §8) survive a failure between them: the
 * event is recorded before the name is written, so a stored name always has its published event,
 * whether the redelivery reaches the same warm container or a cold one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChangeLog } from '#events/change-log';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import {
  createProcessorWorld,
  type ProcessorWorld,
  recordsOf,
  type SentCommand,
  sqsEvent,
} from '#testkit/processor-harness';
import { EVENTS, entry, PAGE_A, USER_A1, webhookBody } from '#testkit/webhooks';

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

/** A world with a new contact, Ada Lovelace, and the webhook body of her first message. */
async function adaWorld(): Promise<{ w: ProcessorWorld; psid: string; body: string }> {
  const w = await createProcessorWorld(dynamo);
  worlds.push(w);
  await w.seedPage(PAGE_A);
  const psid = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
  return { w, psid, body: webhookBody(entry(PAGE_A, [EVENTS.text.replaceAll(USER_A1, psid)])) };
}

/** A write of the change log for the contact change: its seq claim (`EVENT#`) or its change record. */
const contactLogWrite = (what: 'claim' | 'change') => (c: SentCommand) => {
  const item = c.input.Item as { sk?: string; key?: string } | undefined;
  if (c.name !== 'PutCommand' || !item?.sk) return false;
  return what === 'claim'
    ? item.sk.startsWith('EVENT#') && item.key?.startsWith('contact:') === true
    : item.sk.startsWith('CHANGE#contact');
};

async function expectNamedAndPublished(w: ProcessorWorld, psid: string): Promise<void> {
  expect((await w.conversations.get(PAGE_A, psid))?.name).toBe('Ada Lovelace');
  const logged = await new ChangeLog(dynamo.doc, w.tableName).list(PAGE_A, psid);
  expect(logged.map((e) => `${e.seq} ${e.type}`)).toEqual(['1 message.received', '2 contact.updated']);
  // Every logged event published, the contact's with its name.
  expect(w.publisher.distinct().map((e) => e.id)).toEqual(logged.map((e) => e.id));
  expect(logged[1]?.data).toEqual({ userId: psid, name: 'Ada Lovelace' });
}

describe('contact.updated when the change log fails around the name', () => {
  // The warm cases failed before the fix: the container's profile cache put the name on the
  // redelivery's touch, which then skipped the contact; the name stayed stored with its event never
  // published (the claim failed: never recorded; the change record failed: recorded at seq 2, unsent).
  it.each([
    ['the seq claim', 'warm', 'claim'],
    ['the change record', 'warm', 'change'],
    ['the seq claim', 'cold', 'claim'],
    ['the change record', 'cold', 'change'],
  ] as const)(
    '%s fails: the redelivery to a %s container records and publishes it',
    async (_, container, what) => {
      const { w, psid, body } = await adaWorld();
      w.failNext(contactLogWrite(what));
      await expect(w.deliver(body)).rejects.toThrow(/All records failed/);
      const handler = container === 'warm' ? w.handler : w.coldHandler();
      expect((await w.run(sqsEvent(recordsOf(body)), handler)).batchItemFailures).toEqual([]);
      await expectNamedAndPublished(w, psid);
    },
  );

  // The warm cases failed before the fix: the redelivery found the contact known and the conversation
  // named, and published only the message's event; the contact's was never published.
  it.each([
    ['whole', 'warm', 0],
    ['whole', 'cold', 0],
    ['after accepting the message', 'warm', 1],
    ['after accepting the message', 'cold', 1],
  ] as const)(
    'the publish fails (%s): the redelivery to a %s container publishes the contact again',
    async (_, container, accepted) => {
      const { w, psid, body } = await adaWorld();
      w.publisher.failNext(1, { accepted });
      await expect(w.deliver(body)).rejects.toThrow(/All records failed/);
      expect(w.publisher.events.map((e) => e.type)).toEqual(accepted ? ['message.received'] : []);
      const handler = container === 'warm' ? w.handler : w.coldHandler();
      expect((await w.run(sqsEvent(recordsOf(body)), handler)).batchItemFailures).toEqual([]);
      await expectNamedAndPublished(w, psid);
      // A later duplicate of another message does not publish the contact again.
      const again = w.publisher.events.length;
      const next = webhookBody(entry(PAGE_A, [EVENTS.echo.replaceAll(USER_A1, psid)]));
      await w.deliver(next);
      await w.deliver(next);
      expect(w.publisher.events.slice(again).map((e) => e.type)).toEqual(['message.sent', 'message.sent']);
    },
  );
});
