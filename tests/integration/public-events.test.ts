/**
 * SPEC §8 from the processor: every stored change becomes one public event, published only after it is
 * stored, with an id stable across redeliveries and a gapless `seq` per conversation; a failed publish
 * fails the record and its redelivery publishes the same events again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PublicEvent } from '#contracts/public-event';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { only } from '#testkit/pick';
import { createProcessorWorld, type ProcessorWorld } from '#testkit/processor-harness';
import { EVENTS, entry, MID, PAGE_A, USER_A1, USER_A2, webhookBody } from '#testkit/webhooks';

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

/** A scripted conversation of USER_A1, in timestamp order. */
const SCRIPT = [
  EVENTS.text,
  EVENTS.echo,
  EVENTS.inboxEcho,
  EVENTS.delivery,
  EVENTS.read,
  EVENTS.react,
  EVENTS.unreact,
  EVENTS.postback,
  EVENTS.optin,
  EVENTS.passThread,
];
const body = webhookBody(entry(PAGE_A, SCRIPT));

const summary = (w: ProcessorWorld) =>
  w.publisher.events.filter((e) => e.userId === USER_A1).map((e) => `${e.seq} ${e.type}`);

describe('public events from the processor', () => {
  it('publishes one event per stored change, in order, numbered 1, 2, 3 … per conversation', async () => {
    const w = await world();
    expect((await w.deliver(body)).batchItemFailures).toEqual([]);
    expect(summary(w)).toEqual([
      '1 message.received',
      '2 message.sent',
      '3 message.sent',
      '4 message.status',
      '5 message.status',
      '6 message.reaction',
      '7 message.reaction',
      '8 postback',
      '9 optin',
      '10 handover',
    ]);
    for (const e of w.publisher.events) expect(PublicEvent.safeParse(e).success).toBe(true);
    const [received, ours, inbox, delivered, read, react] = w.publisher.events;
    expect(received?.data).toMatchObject({ mid: MID.text, direction: 'in', status: null });
    expect(received?.time).toBe(new Date(1727251200123).toISOString());
    expect(ours?.data).toMatchObject({ mid: MID.echo, direction: 'out', source: 'pagewire' });
    expect(inbox?.data).toMatchObject({ mid: MID.inboxEcho, source: 'page_inbox' });
    expect(delivered?.data).toEqual({
      status: 'delivered',
      watermark: 1727251201300,
      mids: [MID.echo, MID.inboxEcho],
    });
    expect(read?.data).toEqual({ status: 'read', watermark: 1727251201300, mids: [] });
    expect(react?.data).toEqual({ mid: MID.echo, action: 'react', reaction: 'love', emoji: '\u2764\ufe0f' });
    expect(new Set(w.publisher.events.map((e) => e.id)).size).toBe(w.publisher.events.length);
  });

  it('a redelivery publishes the same events again: same ids, same seqs, nothing new', async () => {
    const w = await world();
    await w.deliver(body);
    const first = [...w.publisher.events];
    w.publisher.clear();
    expect((await w.deliver(body)).batchItemFailures).toEqual([]);
    // The same ids and seqs; only the react is not sent again: the unreact after it is stored, so the
    // react is superseded (it came back after the fact, as a late duplicate would).
    const react = first.find((e) => e.type === 'message.reaction');
    expect(w.publisher.events).toEqual(first.filter((e) => e !== react));
  });

  it('a failed publish fails the record; the redelivery publishes the same event, no gap', async () => {
    const w = await world();
    w.publisher.failNext(1);
    // The only record of the batch fails: Powertools then fails the whole batch (all redelivered).
    await expect(w.deliver(webhookBody(entry(PAGE_A, [EVENTS.text])))).rejects.toThrow(/All records failed/);
    expect(w.publisher.events).toEqual([]);
    expect(await w.conversations.getItem(PAGE_A, USER_A1, MID.text)).toBeDefined();
    await w.deliver(webhookBody(entry(PAGE_A, [EVENTS.text])));
    expect(w.publisher.events.map((e) => `${e.seq} ${e.type}`)).toEqual(['1 message.received']);
    await w.deliver(webhookBody(entry(PAGE_A, [EVENTS.echo])));
    expect(w.publisher.events.at(-1)).toMatchObject({ seq: 2, type: 'message.sent' });
  });

  it('a new contact’s profile becomes contact.updated, after the message that brought it', async () => {
    const w = await world();
    const psid = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    const event = EVENTS.text.replaceAll(USER_A1, psid);
    await w.deliver(webhookBody(entry(PAGE_A, [event])));
    expect(w.publisher.events.map((e) => `${e.seq} ${e.type}`)).toEqual([
      '1 message.received',
      '2 contact.updated',
    ]);
    expect(w.publisher.events[1]?.data).toEqual({ userId: psid, name: 'Ada Lovelace' });
  });

  it('conversations are numbered on their own; a reaction to a message we lack publishes nothing', async () => {
    const w = await world();
    await w.deliver(webhookBody(entry(PAGE_A, [EVENTS.referral, EVENTS.react])));
    const referral = only(
      w.publisher.events.filter((e) => e.userId === USER_A2),
      'USER_A2 event',
    );
    expect(referral).toMatchObject({ seq: 1, type: 'referral' });
    expect(w.publisher.events.filter((e) => e.userId === USER_A1)).toEqual([]);
  });

  it('an older watermark than the stored one changes nothing and publishes nothing', async () => {
    const w = await world();
    await w.deliver(webhookBody(entry(PAGE_A, [EVENTS.text, EVENTS.read])));
    const before = w.publisher.events.length;
    const older = EVENTS.read
      .replace('"watermark":1727251201300', '"watermark":1727251201000')
      .replace('1727251201923', '1727251201999');
    await w.deliver(webhookBody(entry(PAGE_A, [older])));
    expect(w.publisher.events.length).toBe(before);
  });
});
