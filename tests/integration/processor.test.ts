/**
 * The events processor against real collaborators: dynalite, the Graph API fake on loopback, the local
 * keyring, SQS events built as the verifier queues them, and the local FIFO event source (SPEC §6).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalFifoQueue } from '#adapters/local/fifo-queue';
import type { TimelineItem } from '#contracts/conversation-records';
import { conversationGroupId, type QueueMessage } from '#contracts/queue';
import { outStatus } from '#conversations/message-status';
import { counters } from '#runtime/observability';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { at, first, only, present, take } from '#testkit/pick';
import {
  createProcessorWorld,
  isConversationUpdate,
  isGet,
  type ProcessorWorld,
  type ProcessorWorldOptions,
  queueMessagesOf,
  recordsOf,
  type SentCommand,
  sqsEvent,
  sqsRecord,
} from '#testkit/processor-harness';
import {
  APP_ID,
  EVENTS,
  type EventName,
  echoEvent,
  entry,
  MID,
  MULTI_ENTRY_BODY,
  metaJson,
  PAGE_A,
  PAGE_B,
  PAGE_INBOX_APP_ID,
  TIME,
  textEvent,
  USER_A1,
  USER_A2,
  USER_B1,
  webhookBody,
} from '#testkit/webhooks';

const USER_X = '5550001112223334';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

async function world(opts: ProcessorWorldOptions = {}): Promise<ProcessorWorld> {
  const w = await createProcessorWorld(dynamo, opts);
  worlds.push(w);
  return w;
}

/** A POST body with these raw events in one `messaging[]` entry of the page. */
const inbox = (pageId: string, events: readonly string[]) => webhookBody(entry(pageId, events));

/** The event as Meta sent it (escapes decoded). */
// biome-ignore lint/suspicious/noExplicitAny: fixture JSON is read field by field
const raw = (name: EventName): any => JSON.parse(EVENTS[name]);

let midSeq = 0;
const newMid = (label: string) => `m_${label}_${++midSeq}`;

const failedIds = (res: SQSBatchResponse) => res.batchItemFailures.map((f) => f.itemIdentifier);

function byMid(items: TimelineItem[]): Record<string, TimelineItem> {
  return Object.fromEntries(items.map((item) => [item.mid, item]));
}

/** The derived status of each `out` item of the conversation, by mid. */
async function statuses(w: ProcessorWorld, pageId: string, userId: string) {
  const conversation = await w.conversations.get(pageId, userId);
  const items = await w.conversations.listItems(pageId, userId);
  return Object.fromEntries(
    items.filter((i) => i.direction === 'out').map((i) => [i.mid, outStatus(i, conversation)]),
  );
}

describe('event kinds (SPEC §6)', () => {
  it('stores inbound text, attachments, quick replies and replies as `in` messages', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const names = [
      'text',
      'quickReply',
      'replyTo',
      'image',
      'sticker',
      'audio',
      'video',
      'file',
      'fallback',
      'reel',
    ] as const;

    const res = await w.deliver(
      inbox(
        PAGE_A,
        names.map((n) => EVENTS[n]),
      ),
    );

    expect(res.batchItemFailures).toEqual([]);
    const items = await w.conversations.listItems(PAGE_A, USER_A1);
    expect(items.map((i) => i.mid)).toEqual(names.map((n) => MID[n]));
    for (const item of items) {
      expect(item).toMatchObject({ pageId: PAGE_A, userId: USER_A1, kind: 'message', direction: 'in' });
      expect(item.status).toBeUndefined();
      expect(item.standby).toBeUndefined();
    }
    const m = byMid(items);
    expect(present(m[MID.text], 'm[MID.text]').text).toBe(
      'Hola! ¿Cuánto cuesta el envío a Málaga? 🚀 Lo vi en https://example.com/envios',
    );
    expect(present(m[MID.text], 'm[MID.text]').attachments).toBeUndefined();
    expect(m[MID.quickReply]).toMatchObject({ text: 'Sí, por favor', quickReplyPayload: 'CONFIRM_ORDER_42' });
    expect(m[MID.replyTo]).toMatchObject({ text: 'Esta talla, la M', replyToMid: MID.echo });
    for (const name of ['image', 'audio', 'video', 'file'] as const) {
      const sent = raw(name).message.attachments[0];
      expect(present(m[MID[name]], name).attachments).toEqual([
        expect.objectContaining({ type: sent.type, url: sent.payload.url }),
      ]);
    }
    expect(present(m[MID.file], 'm[MID.file]').attachments?.[0]?.url).toContain('Factura_Señor_Muñoz.pdf');
    expect(present(m[MID.sticker], 'm[MID.sticker]').attachments?.[0]).toMatchObject({
      type: 'sticker',
      stickerId: 369239263222822,
    });
    expect(m[MID.fallback]).toMatchObject({
      text: 'https://example.com/ofertas',
      attachments: [
        expect.objectContaining({
          type: 'fallback',
          title: 'Ofertas de otoño',
          url: 'https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com%2Fofertas&h=AT0aBcDeF',
        }),
      ],
    });
    expect(present(m[MID.reel], 'm[MID.reel]').attachments?.[0]).toMatchObject({
      type: 'reel',
      title: 'Cómo doblar una camisa en 10 s',
    });

    const conversation = await w.conversations.get(PAGE_A, USER_A1);
    expect(conversation).toMatchObject({
      lastMessageAt: raw('reel').timestamp,
      lastInboundAt: raw('reel').timestamp,
    });
  });

  it('stores echoes as `out` messages with status sent, and fetches no profile for them', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);

    const res = await w.deliver(inbox(PAGE_A, [EVENTS.echo, EVENTS.inboxEcho, EVENTS.templateEcho]));

    expect(res.batchItemFailures).toEqual([]);
    const items = await w.conversations.listItems(PAGE_A, USER_A1);
    expect(items.map((i) => i.mid)).toEqual([MID.echo, MID.inboxEcho, MID.templateEcho]);
    for (const item of items) {
      expect(item).toMatchObject({ userId: USER_A1, kind: 'message', direction: 'out', status: 'sent' });
    }
    const m = byMid(items);
    expect(m[MID.echo]).toMatchObject({
      text: 'Gracias por escribirnos. ¿En qué talla lo quieres?',
      appId: APP_ID,
    });
    expect(m[MID.inboxEcho]).toMatchObject({
      text: 'Hola, soy Lucía del equipo 👋',
      appId: PAGE_INBOX_APP_ID,
    });
    expect(present(m[MID.templateEcho], 'm[MID.templateEcho]').attachments?.[0]).toMatchObject({
      type: 'template',
      title: 'Camisa de lino',
      url: 'https://example.com/p/123',
      payload: expect.objectContaining({ template_type: 'generic' }),
    });
    expect(await statuses(w, PAGE_A, USER_A1)).toEqual({
      [MID.echo]: 'sent',
      [MID.inboxEcho]: 'sent',
      [MID.templateEcho]: 'sent',
    });
    const conversation = await w.conversations.get(PAGE_A, USER_A1);
    expect(conversation?.lastMessageAt).toBe(raw('templateEcho').timestamp);
    expect(conversation?.lastInboundAt).toBeUndefined();
    expect(w.profileCalls()).toEqual([]);
  });

  it('stores a postback with its title, payload and referral', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);

    expect((await w.deliver(inbox(PAGE_A, [EVENTS.postback]))).batchItemFailures).toEqual([]);

    expect(await w.conversations.getItem(PAGE_A, USER_A1, MID.postback)).toMatchObject({
      kind: 'postback',
      direction: 'in',
      title: 'Empezar',
      payload: 'GET_STARTED',
      timestamp: raw('postback').timestamp,
      detail: { referral: { ref: 'otoño-2024', source: 'SHORTLINK', type: 'OPEN_THREAD' } },
    });
    expect((await w.conversations.get(PAGE_A, USER_A1))?.lastInboundAt).toBe(raw('postback').timestamp);
  });

  it('sets a reaction on the target message, and an unreact removes it for good', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    await w.deliver(inbox(PAGE_A, [EVENTS.echo]));

    expect((await w.deliver(inbox(PAGE_A, [EVENTS.react]))).batchItemFailures).toEqual([]);
    expect((await w.conversations.getItem(PAGE_A, USER_A1, MID.echo))?.reactions).toEqual({
      [USER_A1]: { reaction: 'love', emoji: '❤️', timestamp: raw('react').timestamp },
    });

    expect((await w.deliver(inbox(PAGE_A, [EVENTS.unreact]))).batchItemFailures).toEqual([]);
    expect((await w.conversations.getItem(PAGE_A, USER_A1, MID.echo))?.reactions).toBeUndefined();

    // Meta retries the older react after the unreact: it must not come back.
    await w.deliver(inbox(PAGE_A, [EVENTS.react]));
    expect((await w.conversations.getItem(PAGE_A, USER_A1, MID.echo))?.reactions).toBeUndefined();
    // Reactions are not timeline items of their own.
    expect((await w.conversations.listItems(PAGE_A, USER_A1)).map((i) => i.mid)).toEqual([MID.echo]);
  });

  it('skips a reaction to a message it does not have, without failing the batch', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const ghost = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: TIME + 10,
      reaction: { mid: 'm_never_stored', action: 'react', reaction: 'like', emoji: '👍' },
    });

    const res = await w.deliver(inbox(PAGE_A, [ghost, EVENTS.text]));

    expect(res.batchItemFailures).toEqual([]);
    expect(await w.conversations.getItem(PAGE_A, USER_A1, 'm_never_stored')).toBeUndefined();
    expect((await w.conversations.listItems(PAGE_A, USER_A1)).map((i) => i.mid)).toEqual([MID.text]);
  });

  it('a delivery without a watermark marks the `out` messages it names as delivered, and nothing else', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    await w.deliver(inbox(PAGE_A, [EVENTS.text, EVENTS.echo, EVENTS.inboxEcho]));
    const delivery = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: TIME + 5_000,
      // No watermark (read as 0): only the mids can mark anything.
      delivery: { mids: [MID.echo, MID.text, 'm_not_ours'] },
    });

    expect((await w.deliver(inbox(PAGE_A, [delivery]))).batchItemFailures).toEqual([]);

    const m = byMid(await w.conversations.listItems(PAGE_A, USER_A1));
    expect(Object.keys(m)).toHaveLength(3);
    expect(present(m[MID.echo], 'm[MID.echo]').status).toBe('delivered');
    expect(present(m[MID.inboxEcho], 'm[MID.inboxEcho]').status).toBe('sent');
    expect(present(m[MID.text], 'm[MID.text]').status).toBeUndefined();
    expect(await statuses(w, PAGE_A, USER_A1)).toEqual({ [MID.echo]: 'delivered', [MID.inboxEcho]: 'sent' });
  });

  it('a delivery with a watermark writes the watermark only: no per-mid update, statuses derived from it', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    await w.deliver(inbox(PAGE_A, [EVENTS.echo, EVENTS.inboxEcho, EVENTS.templateEcho]));
    const before = w.sent.length;

    // Names echo and inboxEcho; its watermark lies between inboxEcho and templateEcho.
    expect((await w.deliver(inbox(PAGE_A, [EVENTS.delivery]))).batchItemFailures).toEqual([]);

    const updates = w.sent.slice(before).filter((c) => c.name === 'UpdateCommand');
    expect(updates).toHaveLength(1);
    expect(isConversationUpdate(first(updates, 'updates'), PAGE_A, USER_A1)).toBe(true);
    expect(await statuses(w, PAGE_A, USER_A1)).toEqual({
      [MID.echo]: 'delivered',
      [MID.inboxEcho]: 'delivered',
      [MID.templateEcho]: 'sent',
    });
    const items = await w.conversations.listItems(PAGE_A, USER_A1);
    expect(items.map((i) => i.status)).toEqual(['sent', 'sent', 'sent']);
  });

  it('moves derived statuses with the delivery and read watermarks, never backwards', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    await w.deliver(inbox(PAGE_A, [EVENTS.echo, EVENTS.inboxEcho, EVENTS.templateEcho]));
    const watermark = raw('deliveryNoMids').delivery.watermark as number; // between inboxEcho and templateEcho

    await w.deliver(inbox(PAGE_A, [EVENTS.deliveryNoMids]));
    expect((await w.conversations.get(PAGE_A, USER_A1))?.deliveredWatermark).toBe(watermark);
    expect(await statuses(w, PAGE_A, USER_A1)).toEqual({
      [MID.echo]: 'delivered',
      [MID.inboxEcho]: 'delivered',
      [MID.templateEcho]: 'sent',
    });

    await w.deliver(inbox(PAGE_A, [EVENTS.read]));
    expect((await w.conversations.get(PAGE_A, USER_A1))?.readWatermark).toBe(watermark);
    expect(await statuses(w, PAGE_A, USER_A1)).toEqual({
      [MID.echo]: 'read',
      [MID.inboxEcho]: 'read',
      [MID.templateEcho]: 'sent',
    });

    const older = (kind: 'read' | 'delivery', mark: number) =>
      metaJson({
        sender: { id: USER_A1 },
        recipient: { id: PAGE_A },
        timestamp: TIME + 9_000,
        [kind]: { watermark: mark },
      });
    await w.deliver(inbox(PAGE_A, [older('read', watermark - 100), older('delivery', watermark - 100)]));
    const conversation = await w.conversations.get(PAGE_A, USER_A1);
    expect(conversation).toMatchObject({ readWatermark: watermark, deliveredWatermark: watermark });

    await w.deliver(inbox(PAGE_A, [older('delivery', raw('templateEcho').timestamp)]));
    expect((await statuses(w, PAGE_A, USER_A1))[MID.templateEcho]).toBe('delivered');
    // A watermark is the conversation's: the stored item status is left as it was.
    const items = await w.conversations.listItems(PAGE_A, USER_A1);
    expect(items.map((i) => i.status)).toEqual(['sent', 'sent', 'sent']);
  });

  it('records referrals, opt-ins and handovers as timeline items', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const a1 = [EVENTS.optin, EVENTS.passThread, EVENTS.takeThread, EVENTS.requestThread];
    const body = inbox(PAGE_A, [EVENTS.referral, EVENTS.adReferral, ...a1]);
    const eventIds = queueMessagesOf(body).map((m) => JSON.parse(m.body).eventId as string);

    expect((await w.deliver(body)).batchItemFailures).toEqual([]);

    const a2Items = await w.conversations.listItems(PAGE_A, USER_A2);
    expect(a2Items.map((i) => i.mid)).toEqual(eventIds.slice(0, 2));
    expect(a2Items[0]).toMatchObject({
      kind: 'referral',
      direction: 'in',
      timestamp: raw('referral').timestamp,
      detail: { ref: 'otoño-2024', source: 'SHORTLINK', type: 'OPEN_THREAD' },
    });
    expect(a2Items[1]).toMatchObject({
      kind: 'referral',
      detail: { ref: 'ad-lino', source: 'ADS', type: 'OPEN_THREAD', adId: '23851234567890123' },
    });
    expect((await w.conversations.get(PAGE_A, USER_A2))?.lastMessageAt).toBe(raw('adReferral').timestamp);

    const a1Items = await w.conversations.listItems(PAGE_A, USER_A1);
    expect(a1Items.map((i) => i.mid)).toEqual(eventIds.slice(2));
    expect(a1Items.every((i) => i.mid.startsWith('h:'))).toBe(true);
    expect(a1Items[0]).toMatchObject({
      kind: 'optin',
      direction: 'in',
      detail: { type: 'notification_messages', payload: 'ofertas-semanales' },
    });
    expect(a1Items.slice(1).map((i) => [i.kind, i.detail?.action])).toEqual([
      ['handover', 'pass_thread_control'],
      ['handover', 'take_thread_control'],
      ['handover', 'request_thread_control'],
    ]);
    expect(at(a1Items, 1, 'a1Items').detail?.detail).toMatchObject({
      new_owner_app_id: APP_ID,
      metadata: 'resuelto por agente',
    });
    expect(at(a1Items, 3, 'a1Items').detail?.detail).toMatchObject({
      requested_owner_app_id: '2637209039623148',
    });
  });

  it('keeps page-level app_roles events out of the conversations', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    expect((await w.deliver(inbox(PAGE_A, [EVENTS.appRoles]))).batchItemFailures).toEqual([]);
    expect(await w.conversations.list(PAGE_A)).toEqual([]);
    expect(await w.conversations.listItems(PAGE_A, PAGE_A)).toEqual([]);
  });

  it('skips unknown kinds: no failure, nothing stored', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const futureKind = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: TIME,
      messaging_feedback: { feedback_screens: [{ screen_id: 0, questions: {} }] },
    });
    const reactionWithoutMid = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: TIME + 1,
      reaction: { action: 'react', reaction: 'like' },
    });
    const before = counters().UnknownEventsSkipped ?? 0;

    const replyFeedback = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: TIME + 2,
      response_feedback: { mid: MID.text, feedback: 'Good response' },
    });
    const res = await w.deliver(inbox(PAGE_A, [replyFeedback, futureKind, reactionWithoutMid]));

    expect(res.batchItemFailures).toEqual([]);
    expect(counters().UnknownEventsSkipped).toBe(before + 3);
    expect(await w.conversations.listItems(PAGE_A, USER_A1)).toEqual([]);
    expect(await w.conversations.list(PAGE_A)).toEqual([]);
    expect(await w.contacts.get(PAGE_A, USER_A1)).toBeUndefined();
    expect(w.profileCalls()).toEqual([]);
  });

  it('stores standby events with the standby flag', async () => {
    const w = await world();
    await w.seedPage(PAGE_B);
    const body = webhookBody(
      entry(PAGE_B, [EVENTS.standbyText, EVENTS.standbyPostback], { field: 'standby' }),
    );

    expect((await w.deliver(body)).batchItemFailures).toEqual([]);

    const items = await w.conversations.listItems(PAGE_B, USER_B1);
    expect(items.map((i) => i.timestamp)).toEqual([
      raw('standbyPostback').timestamp,
      raw('standbyText').timestamp,
    ]);
    // Standby postbacks carry no payload and no mid.
    expect(items[0]).toMatchObject({ kind: 'postback', title: 'Hablar con una persona', standby: true });
    expect(first(items, 'items').payload).toBeUndefined();
    expect(first(items, 'items').mid).toMatch(/^h:/);
    expect(items[1]).toMatchObject({
      mid: MID.standbyText,
      kind: 'message',
      direction: 'in',
      text: '¿Sigue abierto el pedido?',
      standby: true,
    });
  });

  it('handles every entry and event of a POST that spans two pages', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    await w.seedPage(PAGE_B);

    expect((await w.deliver(MULTI_ENTRY_BODY)).batchItemFailures).toEqual([]);

    expect((await w.conversations.listItems(PAGE_A, USER_A1)).map((i) => i.mid)).toEqual([
      MID.text,
      MID.echo,
    ]);
    expect((await w.conversations.listItems(PAGE_B, USER_B1)).map((i) => i.standby)).toEqual([true, true]);
    expect((await w.conversations.get(PAGE_A, USER_A1))?.deliveredWatermark).toBe(
      raw('delivery').delivery.watermark,
    );
  });
});

describe('exactly once, for ever', () => {
  it('stores an event delivered in two concurrent batches once, and again later still once', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    // Events with a mid of their own and events identified by their hash.
    const messages = queueMessagesOf(
      inbox(PAGE_A, [EVENTS.text, EVENTS.echo, EVENTS.postback, EVENTS.optin]),
    );
    const batch = (receiveCount: number) => sqsEvent(messages.map((m) => sqsRecord(m, receiveCount)));

    const answers = await Promise.all([w.run(batch(1)), w.run(batch(1))]);

    expect(answers.map(failedIds)).toEqual([[], []]);
    const items = await w.conversations.listItems(PAGE_A, USER_A1);
    expect(items).toHaveLength(4);
    expect(new Set(items.map((i) => i.mid)).size).toBe(4);

    // Much later (no SQS deduplication window left), on a container that remembers nothing.
    const later = await w.run(batch(1), w.coldHandler());
    expect(failedIds(later)).toEqual([]);
    expect(await w.conversations.listItems(PAGE_A, USER_A1)).toEqual(items);
  });

  it('through the FIFO queue: a webhook Meta retries after the dedup window is stored once', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const queue = new LocalFifoQueue({
      name: 'pagewire-events.fifo',
      handler: (event) => w.run(event),
      dedupWindowMs: 1,
      onError: (err) => {
        throw err;
      },
    });
    const messages = queueMessagesOf(inbox(PAGE_A, [EVENTS.text, EVENTS.echo, EVENTS.referral]));
    queue.start();
    try {
      await queue.send(messages);
      await queue.idle();
      await sleep(5);
      await queue.send(messages);
      await queue.idle();
    } finally {
      await queue.stop();
    }

    expect(queue.stats()).toMatchObject({ delivered: 6, deadLetters: 0, pending: 0 });
    expect((await w.conversations.listItems(PAGE_A, USER_A1)).map((i) => i.mid)).toEqual([
      MID.text,
      MID.echo,
    ]);
    expect(await w.conversations.listItems(PAGE_A, USER_A2)).toHaveLength(1);
  });
});

describe('order', () => {
  it('lists a conversation by event timestamp, whatever order the events arrive in', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const ada = w.fake.addPerson('Ada', 'Lovelace');
    const psid = w.fake.psid(ada, PAGE_A);
    const at = (n: number) => TIME + n * 1_000;
    const inbound = (n: number) =>
      textEvent({ userId: psid, mid: `m_order_${n}`, text: `#${n}`, timestamp: at(n) });
    const reply = echoEvent({ userId: psid, mid: 'm_order_reply', text: 'ok', timestamp: at(2.5) });
    const arrival = [inbound(4), reply, inbound(1), inbound(5), inbound(3), inbound(2)];

    // Half in one batch, half one by one.
    await w.deliver(inbox(PAGE_A, arrival.slice(0, 3)));
    for (const event of arrival.slice(3)) await w.deliver(inbox(PAGE_A, [event]));

    const items = await w.conversations.listItems(PAGE_A, psid);
    expect(items.map((i) => i.mid)).toEqual([
      'm_order_1',
      'm_order_2',
      'm_order_reply',
      'm_order_3',
      'm_order_4',
      'm_order_5',
    ]);
    expect(await w.conversations.get(PAGE_A, psid)).toMatchObject({
      lastMessageAt: at(5),
      lastInboundAt: at(5),
      name: 'Ada Lovelace',
    });
  });
});

describe('contact profiles', () => {
  it('fetches a new contact once, with the token of the page written to, and names the conversation', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    await w.seedPage(PAGE_B);
    const ada = w.fake.addPerson('Ada', 'Lovelace');
    const onA = w.fake.psid(ada, PAGE_A);
    const onB = w.fake.psid(ada, PAGE_B);
    const hello = (pageId: string, userId: string) =>
      inbox(pageId, [
        textEvent({ pageId, userId, mid: newMid('hello'), text: 'hola', timestamp: TIME + midSeq }),
      ]);

    await w.deliver(hello(PAGE_A, onA));

    const calls = w.profileCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ path: `/${onA}`, version: 'v24.0', tokenPageId: PAGE_A });
    expect(first(calls, 'calls').query.appsecret_proof).toMatch(/^[0-9a-f]{64}$/);
    expect((await w.conversations.get(PAGE_A, onA))?.name).toBe('Ada Lovelace');
    expect(await w.contacts.get(PAGE_A, onA)).toMatchObject({
      profileStatus: 'fetched',
      firstName: 'Ada',
      lastName: 'Lovelace',
      profilePic: expect.stringContaining(onA),
    });

    // The same contact again: a warm container asks neither Graph nor the contact record.
    const sentBefore = w.sent.length;
    await w.deliver(hello(PAGE_A, onA));
    expect(w.profileCalls()).toHaveLength(1);
    expect(w.sent.slice(sentBefore).filter((c) => isGet(c, 'CONTACT#'))).toEqual([]);
    expect(await w.conversations.listItems(PAGE_A, onA)).toHaveLength(2);

    // The same person on another page is another contact, fetched with that page's token.
    await w.deliver(hello(PAGE_B, onB));
    expect(w.profileCalls(onB)).toEqual([expect.objectContaining({ tokenPageId: PAGE_B })]);
    expect((await w.conversations.get(PAGE_B, onB))?.name).toBe('Ada Lovelace');

    // A fresh container learns from its own conversation write that the contact is named: it reads no
    // contact record and asks Graph nothing.
    const cold = w.coldHandler();
    const coldBefore = w.sent.length;
    await w.run(sqsEvent(recordsOf(hello(PAGE_A, onA), hello(PAGE_A, onA))), cold);
    expect(w.sent.slice(coldBefore).filter((c) => isGet(c, 'CONTACT#'))).toEqual([]);
    expect(w.profileCalls()).toHaveLength(2);
    expect(await w.conversations.listItems(PAGE_A, onA)).toHaveLength(4);
  });

  it('reads no contact record for a contact’s first inbound event, also after the page wrote first', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    const bob = w.fake.psid(w.fake.addPerson('Bob', 'Marley'), PAGE_A);
    await w.deliver(
      inbox(PAGE_A, [echoEvent({ userId: bob, mid: 'm_first_echo', text: 'hola', timestamp: TIME })]),
    );

    await w.deliver(
      inbox(PAGE_A, [
        textEvent({ userId: ada, mid: 'm_first_ada', text: 'hola', timestamp: TIME + 1 }),
        textEvent({ userId: bob, mid: 'm_first_bob', text: 'hola', timestamp: TIME + 2 }),
      ]),
    );

    expect(w.sent.filter((c) => isGet(c, 'CONTACT#'))).toEqual([]);
    expect(w.profileCalls(ada)).toHaveLength(1);
    expect(w.profileCalls(bob)).toHaveLength(1);
    expect((await w.conversations.get(PAGE_A, ada))?.name).toBe('Ada Lovelace');
    expect((await w.conversations.get(PAGE_A, bob))?.name).toBe('Bob Marley');
  });

  it('a nameless conversation in a cold container still reads the contact (no write to learn from)', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    w.fake.injectError(
      { method: 'GET', path: `/${ada}` },
      { status: 403, code: 10, message: '(#10) refused', type: 'OAuthException' },
    );
    const say = (n: number) =>
      inbox(PAGE_A, [textEvent({ userId: ada, mid: `m_nameless_${n}`, text: `${n}`, timestamp: TIME + n })]);
    await w.deliver(say(1));
    expect((await w.contacts.get(PAGE_A, ada))?.profileStatus).toBe('unavailable');

    const before = w.sent.length;
    await w.run(sqsEvent(recordsOf(say(2), say(3))), w.coldHandler());

    expect(w.sent.slice(before).filter((c) => isGet(c, 'CONTACT#'))).toHaveLength(1);
    expect(w.profileCalls(ada)).toHaveLength(1);
    expect((await w.conversations.get(PAGE_A, ada))?.name).toBeUndefined();
  });

  it('names the conversation from a postback when that is the first thing the contact does', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const grace = w.fake.psid(w.fake.addPerson('Grace', 'Hopper'), PAGE_A);
    const postback = metaJson({
      sender: { id: grace },
      recipient: { id: PAGE_A },
      timestamp: TIME,
      postback: { title: 'Empezar', payload: 'GET_STARTED', mid: 'm_pb_grace' },
    });

    await w.deliver(inbox(PAGE_A, [postback]));

    expect(w.profileCalls(grace)).toEqual([expect.objectContaining({ tokenPageId: PAGE_A })]);
    expect((await w.conversations.get(PAGE_A, grace))?.name).toBe('Grace Hopper');
  });
});

describe('page and token caches', () => {
  it('reads a page once within the TTL and unseals its token once for many profile fetches', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const people = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra'].map((name) => {
      const [first, last] = take(name.split(' '), 2, 'name part');
      return w.fake.psid(w.fake.addPerson(first, last), PAGE_A);
    });
    const records = Array.from({ length: 20 }, (_, i) =>
      recordsOf(
        inbox(PAGE_A, [
          textEvent({ userId: people[i % 4], mid: `m_cache_${i}`, text: `n${i}`, timestamp: TIME + i }),
        ]),
      ),
    ).flat();

    for (const half of [records.slice(0, 10), records.slice(10)]) {
      expect(failedIds(await w.run(sqsEvent(half)))).toEqual([]);
    }

    expect(w.sent.filter((c) => isGet(c, 'PAGE', PAGE_A))).toHaveLength(1);
    expect(w.sealer.unsealCount(PAGE_A)).toBe(1);
    const calls = w.profileCalls();
    expect(calls.map((c) => c.path).sort()).toEqual(people.map((p) => `/${p}`).sort());
    expect(calls.every((c) => c.tokenPageId === PAGE_A)).toBe(true);
    for (const psid of people) expect(await w.conversations.listItems(PAGE_A, psid)).toHaveLength(5);
    expect((await w.conversations.list(PAGE_A)).map((c) => c.name).sort()).toEqual([
      'Ada Lovelace',
      'Alan Turing',
      'Edsger Dijkstra',
      'Grace Hopper',
    ]);
  });

  it('reads the page again once the TTL is over, and keeps the unsealed token', async () => {
    const w = await world({ pageCacheTtlMs: 25 });
    await w.seedPage(PAGE_A);
    const [ada, bob] = [w.fake.addPerson('Ada', 'Lovelace'), w.fake.addPerson('Bob', 'Marley')].map((p) =>
      w.fake.psid(p, PAGE_A),
    );

    await w.deliver(inbox(PAGE_A, [textEvent({ userId: ada, mid: 'm_ttl_1', text: '1' })]));
    await sleep(60);
    await w.deliver(inbox(PAGE_A, [textEvent({ userId: bob, mid: 'm_ttl_2', text: '2' })]));

    expect(w.sent.filter((c) => isGet(c, 'PAGE', PAGE_A))).toHaveLength(2);
    expect(w.sealer.unsealCount(PAGE_A)).toBe(1);
    expect(w.profileCalls()).toHaveLength(2);
  });
});

describe('Graph errors on the profile fetch', () => {
  it('190: the page needs reauth, the message is stored, the contact pending, and Graph is left alone', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    await w.seedPage(PAGE_B);
    const ada = w.fake.addPerson('Ada', 'Lovelace');
    const bob = w.fake.addPerson('Bob', 'Marley');
    const [adaA, bobA] = [w.fake.psid(ada, PAGE_A), w.fake.psid(bob, PAGE_A)];
    const refusedToken = w.fake.pageToken(PAGE_A);
    w.fake.revokePageToken(PAGE_A);

    const first = await w.deliver(inbox(PAGE_A, [textEvent({ userId: adaA, mid: 'm_190_1', text: 'hola' })]));

    expect(failedIds(first)).toEqual([]);
    expect(w.profileCalls()).toHaveLength(1);
    const page = await w.pages.get(PAGE_A);
    expect(page?.status).toBe('reauth_required');
    expect(page?.lastError).toMatch(/access token/i);
    expect(JSON.stringify(page)).not.toContain(refusedToken);
    expect((await w.conversations.listItems(PAGE_A, adaA)).map((i) => i.mid)).toEqual(['m_190_1']);
    expect((await w.contacts.get(PAGE_A, adaA))?.profileStatus).toBe('pending');
    expect((await w.conversations.get(PAGE_A, adaA))?.name).toBeUndefined();

    // Later messages of that page, from the same and from a new contact: stored, no Graph call.
    const later = await w.deliver(
      inbox(PAGE_A, [
        textEvent({ userId: adaA, mid: 'm_190_2', text: 'hola?', timestamp: TIME + 1 }),
        textEvent({ userId: bobA, mid: 'm_190_3', text: 'buenas', timestamp: TIME + 2 }),
      ]),
    );
    expect(failedIds(later)).toEqual([]);
    expect(w.profileCalls()).toHaveLength(1);
    expect(w.sealer.unsealCount(PAGE_A)).toBe(1);
    expect(await w.conversations.listItems(PAGE_A, adaA)).toHaveLength(2);
    expect(await w.conversations.listItems(PAGE_A, bobA)).toHaveLength(1);
    expect((await w.contacts.get(PAGE_A, bobA))?.profileStatus).toBe('pending');

    // Other pages are not affected.
    const adaB = w.fake.psid(ada, PAGE_B);
    await w.deliver(inbox(PAGE_B, [textEvent({ pageId: PAGE_B, userId: adaB, mid: 'm_190_b', text: 'hi' })]));
    expect((await w.conversations.get(PAGE_B, adaB))?.name).toBe('Ada Lovelace');
    expect((await w.pages.get(PAGE_B))?.status).toBe('active');
  });

  it('after a 190 and a reconnect, the new token is unsealed and the pending contact fetched', async () => {
    const w = await world({ pageCacheTtlMs: 25 });
    await w.seedPage(PAGE_A);
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    const say = (n: number) =>
      inbox(PAGE_A, [textEvent({ userId: ada, mid: `m_reconnect_${n}`, text: `${n}`, timestamp: TIME + n })]);
    w.fake.revokePageToken(PAGE_A);
    await w.deliver(say(1));
    expect((await w.pages.get(PAGE_A))?.status).toBe('reauth_required');

    await w.reconnectPage(PAGE_A);
    await sleep(40); // the processor's page cache entry expires
    await w.deliver(say(2));

    const calls = w.profileCalls(ada);
    expect(calls).toHaveLength(2);
    expect(at(calls, 1, 'calls').tokenPageId).toBe(PAGE_A);
    expect(w.sealer.unsealCount(PAGE_A)).toBe(2);
    expect((await w.contacts.get(PAGE_A, ada))?.profileStatus).toBe('fetched');
    expect((await w.conversations.get(PAGE_A, ada))?.name).toBe('Ada Lovelace');
    expect(await w.conversations.listItems(PAGE_A, ada)).toHaveLength(2);
  });

  it('transient (HTTP 5xx): message stored at once, one attempt, contact pending, the page pauses its profile fetches', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    const bob = w.fake.psid(w.fake.addPerson('Bob', 'Marley'), PAGE_A);
    w.fake.injectError(
      { method: 'GET', path: `/${ada}`, times: 1 },
      { status: 500, code: 2, message: 'An unexpected error has occurred. Please retry your request later.' },
    );
    const say = (userId: string, n: number) =>
      inbox(PAGE_A, [textEvent({ userId, mid: `m_5xx_${n}`, text: `${n}`, timestamp: TIME + n })]);

    expect(failedIds(await w.deliver(say(ada, 1)))).toEqual([]);
    expect(w.profileCalls(ada)).toHaveLength(1); // no retry: the message does not wait on Graph
    expect(await w.conversations.listItems(PAGE_A, ada)).toHaveLength(1);
    expect((await w.contacts.get(PAGE_A, ada))?.profileStatus).toBe('pending');
    expect((await w.conversations.get(PAGE_A, ada))?.name).toBeUndefined();
    expect((await w.pages.get(PAGE_A))?.status).toBe('active');

    // Within the pause, a new contact of the page is stored without a Graph call.
    await w.deliver(say(bob, 2));
    expect(w.profileCalls(bob)).toHaveLength(0);
    expect((await w.contacts.get(PAGE_A, bob))?.profileStatus).toBe('pending');

    // Later (here: another container), the next message names the conversation.
    await w.run(sqsEvent(recordsOf(say(ada, 3))), w.coldHandler());
    expect(w.profileCalls(ada)).toHaveLength(2);
    expect((await w.contacts.get(PAGE_A, ada))?.profileStatus).toBe('fetched');
    expect((await w.conversations.get(PAGE_A, ada))?.name).toBe('Ada Lovelace');
    expect(await w.conversations.listItems(PAGE_A, ada)).toHaveLength(2);
  });

  it.each([
    { label: '100/33 (no such object for this token)', status: 400, code: 100, subcode: 33 },
    { label: '10 (permission)', status: 403, code: 10, subcode: undefined },
    { label: '230 (permission range 200-299)', status: 403, code: 230, subcode: undefined },
  ])('permanent $label: contact unavailable, never asked again', async ({ status, code, subcode }) => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    w.fake.injectError(
      { method: 'GET', path: `/${ada}`, times: 5 },
      { status, code, subcode, message: `(#${code}) refused`, type: 'OAuthException' },
    );
    const say = (n: number) =>
      inbox(PAGE_A, [textEvent({ userId: ada, mid: `m_perm_${n}`, text: `${n}`, timestamp: TIME + n })]);

    expect(failedIds(await w.deliver(say(1)))).toEqual([]);
    expect((await w.contacts.get(PAGE_A, ada))?.profileStatus).toBe('unavailable');
    await w.deliver(say(2));
    await w.run(sqsEvent(recordsOf(say(3))), w.coldHandler());

    expect(w.profileCalls(ada)).toHaveLength(1);
    expect(await w.conversations.listItems(PAGE_A, ada)).toHaveLength(3);
    expect((await w.contacts.get(PAGE_A, ada))?.profileStatus).toBe('unavailable');
    expect((await w.conversations.get(PAGE_A, ada))?.name).toBeUndefined();
    expect((await w.pages.get(PAGE_A))?.status).toBe('active');
  });
});

describe('pages that are connected but not active', () => {
  it.each(['subscribing', 'subscription_failed'] as const)(
    '%s: events are stored and the profile fetched',
    async (status) => {
      const w = await world();
      await w.seedPage(PAGE_A, { status });
      const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);

      const res = await w.deliver(
        inbox(PAGE_A, [textEvent({ userId: ada, mid: `m_${status}`, text: 'hola' })]),
      );

      expect(failedIds(res)).toEqual([]);
      expect(await w.conversations.listItems(PAGE_A, ada)).toHaveLength(1);
      expect((await w.conversations.get(PAGE_A, ada))?.name).toBe('Ada Lovelace');
    },
  );

  it('reauth_required: inbound messages are stored; the token is neither unsealed nor used', async () => {
    const w = await world();
    await w.seedPage(PAGE_A, { status: 'reauth_required' });
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);

    const res = await w.deliver(
      inbox(PAGE_A, [
        textEvent({ userId: ada, mid: 'm_reauth_1', text: 'hola', timestamp: TIME }),
        EVENTS.postback,
        textEvent({ userId: ada, mid: 'm_reauth_2', text: '¿hay alguien?', timestamp: TIME + 1 }),
      ]),
    );

    expect(failedIds(res)).toEqual([]);
    expect((await w.conversations.listItems(PAGE_A, ada)).map((i) => i.mid)).toEqual([
      'm_reauth_1',
      'm_reauth_2',
    ]);
    expect(await w.conversations.getItem(PAGE_A, USER_A1, MID.postback)).toBeDefined();
    expect((await w.contacts.get(PAGE_A, ada))?.profileStatus).toBe('pending');
    expect(w.sealer.unsealed).toEqual([]);
    expect(w.profileCalls()).toEqual([]);
  });
});

describe('pages that are not connected', () => {
  it('drops events for an unknown page and for a disconnected page: nothing stored, nothing failed', async () => {
    const w = await world();
    await w.seedPage(PAGE_A, { status: 'disconnected', sealedToken: undefined });
    const before = counters().EventsForUnknownPage ?? 0;
    const body = webhookBody(
      entry(PAGE_A, [EVENTS.text, EVENTS.echo, EVENTS.postback]),
      entry(PAGE_B, [EVENTS.standbyText], { field: 'standby' }),
    );

    const res = await w.deliver(body);

    expect(res.batchItemFailures).toEqual([]);
    expect(counters().EventsForUnknownPage).toBe(before + 4);
    expect(await w.conversations.list(PAGE_A)).toEqual([]);
    expect(await w.conversations.list(PAGE_B)).toEqual([]);
    expect(await w.conversations.listItems(PAGE_A, USER_A1)).toEqual([]);
    expect(await w.conversations.listItems(PAGE_B, USER_B1)).toEqual([]);
    expect(await w.contacts.get(PAGE_A, USER_A1)).toBeUndefined();
    expect(w.profileCalls()).toEqual([]);
    expect(w.sealer.unsealed).toEqual([]);
  });
});

describe('a failing conversation fails only its own group (skipGroupOnError)', () => {
  it('a conversation whose write fails: its group fails from there, other groups go on, redelivery lands in order', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    await w.seedPage(PAGE_B);
    const ada = w.fake.addPerson('Ada', 'Lovelace');
    const bob = w.fake.addPerson('Bob', 'Marley');
    const [adaA, adaB, bobA] = [w.fake.psid(ada, PAGE_A), w.fake.psid(ada, PAGE_B), w.fake.psid(bob, PAGE_A)];
    const say = (pageId: string, userId: string, n: number) =>
      only(
        recordsOf(
          inbox(pageId, [
            textEvent({ pageId, userId, mid: `m_ddb_${n}`, text: `${n}`, timestamp: TIME + n }),
          ]),
        ),
        'record',
      );
    const b1 = say(PAGE_B, adaB, 1);
    const a1 = say(PAGE_A, adaA, 2);
    const b2 = say(PAGE_B, adaB, 3);
    const c1 = say(PAGE_A, bobA, 4);
    w.failNext((c) => isConversationUpdate(c, PAGE_B, adaB), 1);

    const res = await w.run(sqsEvent([b1, a1, b2, c1]));

    expect(failedIds(res)).toEqual([b1.messageId, b2.messageId]);
    expect(await w.conversations.listItems(PAGE_B, adaB)).toEqual([]);
    expect((await w.conversations.get(PAGE_A, adaA))?.name).toBe('Ada Lovelace');
    expect((await w.conversations.get(PAGE_A, bobA))?.name).toBe('Bob Marley');

    // DynamoDB answers again: the redelivered group lands in order, named.
    const retried = await w.run(
      sqsEvent(
        [b1, b2].map((r) => ({ ...r, attributes: { ...r.attributes, ApproximateReceiveCount: '2' } })),
      ),
    );
    expect(failedIds(retried)).toEqual([]);
    expect((await w.conversations.listItems(PAGE_B, adaB)).map((i) => i.mid)).toEqual(['m_ddb_1', 'm_ddb_3']);
    expect((await w.conversations.get(PAGE_B, adaB))?.name).toBe('Ada Lovelace');
  });

  it('a page whose token cannot be unsealed still has its messages stored; the profile waits for KMS', async () => {
    const w = await world();
    await w.seedPage(PAGE_B);
    const adaB = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_B);
    const say = (n: number) =>
      only(
        recordsOf(
          inbox(PAGE_B, [
            textEvent({ pageId: PAGE_B, userId: adaB, mid: `m_kms_${n}`, text: `${n}`, timestamp: TIME + n }),
          ]),
        ),
        'record',
      );
    w.sealer.refuse(PAGE_B);
    expect(failedIds(await w.run(sqsEvent([say(1), say(2)])))).toEqual([]);
    expect((await w.conversations.listItems(PAGE_B, adaB)).map((i) => i.mid)).toEqual(['m_kms_1', 'm_kms_2']);
    expect((await w.contacts.get(PAGE_B, adaB))?.profileStatus).toBe('pending');

    w.sealer.refuse(PAGE_B, 0);
    await w.run(sqsEvent([say(3)]));
    expect((await w.conversations.get(PAGE_B, adaB))?.name).toBe('Ada Lovelace');
  });
});

/** The conditional put of one timeline item. */
const isPutOf = (mid: string) => (c: SentCommand) =>
  c.command instanceof PutCommand && (c.input.Item as { mid?: string } | undefined)?.mid === mid;

describe('through the local FIFO event source', () => {
  it('a message whose fault never passes reaches the dead letters after 5 receives while other groups complete in order', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    const bob = w.fake.psid(w.fake.addPerson('Bob', 'Marley'), PAGE_A);
    const say = (userId: string, n: number) =>
      only(
        queueMessagesOf(
          inbox(PAGE_A, [
            textEvent({ userId, mid: `m_dlq_${userId}_${n}`, text: `${n}`, timestamp: TIME + n }),
          ]),
        ),
        'queue message',
      );
    const xFirst = say(USER_X, 0);
    // A transient fault that never passes: DynamoDB throttles every put of this one event.
    const poison = say(USER_X, 99);
    w.failNext(isPutOf(`m_dlq_${USER_X}_99`), Number.POSITIVE_INFINITY);
    const messages = [xFirst, poison];
    for (let n = 1; n <= 6; n++) messages.push(say(ada, n), say(bob, n));

    const processed = new Map<string, string[]>();
    const errors: unknown[] = [];
    const queue = new LocalFifoQueue({
      name: 'pagewire-events.fifo',
      handler: async (event) => {
        const res = await w.run(event);
        const failed = new Set(failedIds(res));
        for (const r of event.Records.filter((record: SQSRecord) => !failed.has(record.messageId))) {
          const group = r.attributes.MessageGroupId as string;
          processed.set(group, [...(processed.get(group) ?? []), JSON.parse(r.body).eventId]);
        }
        return res;
      },
      batchSize: 3,
      concurrency: 1,
      visibilityTimeoutMs: 15,
      maxReceiveCount: 5,
      onError: (err) => errors.push(err),
    });
    queue.start();
    try {
      await queue.send(messages);
      await queue.idle();
    } finally {
      await queue.stop();
    }

    expect(queue.deadLetters()).toEqual([
      {
        ...poison,
        receiveCount: 5,
        messageId: expect.any(String),
        sentAt: expect.any(Number),
        deadAt: expect.any(Number),
      },
    ]);
    expect(queue.stats()).toMatchObject({ delivered: 13, deadLetters: 1, pending: 0, inFlight: 0 });
    // A batch holding only the poison fails whole (the processor throws); nothing else went wrong.
    expect(errors.every((e) => (e as Error).name === 'FullBatchFailureError')).toBe(true);
    for (const userId of [ada, bob]) {
      const expected = [1, 2, 3, 4, 5, 6].map((n) => `m_dlq_${userId}_${n}`);
      expect(processed.get(conversationGroupId(PAGE_A, userId))).toEqual(expected);
      expect((await w.conversations.listItems(PAGE_A, userId)).map((i) => i.mid)).toEqual(expected);
    }
    expect((await w.conversations.get(PAGE_A, ada))?.name).toBe('Ada Lovelace');
    expect((await w.conversations.get(PAGE_A, bob))?.name).toBe('Bob Marley');
    expect((await w.conversations.listItems(PAGE_A, USER_X)).map((i) => i.mid)).toEqual([
      `m_dlq_${USER_X}_0`,
    ]);
  });

  it('as the local stack runs it (4 batches at once): every group in order, only the poison dead', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const people = ['Ada', 'Bob', 'Cy', 'Di', 'Ed', 'Flo'].map((first) =>
      w.fake.psid(w.fake.addPerson(first, 'Tester'), PAGE_A),
    );
    const say = (userId: string, n: number) =>
      only(
        queueMessagesOf(
          inbox(PAGE_A, [
            textEvent({ userId, mid: `m_par_${userId}_${n}`, text: `${n}`, timestamp: TIME + n }),
          ]),
        ),
        'queue message',
      );
    const poison = say(USER_X, 99);
    w.failNext(isPutOf(`m_par_${USER_X}_99`), Number.POSITIVE_INFINITY);
    const messages: QueueMessage[] = [poison];
    for (let n = 1; n <= 4; n++) for (const userId of people) messages.push(say(userId, n));
    const errors: unknown[] = [];
    const queue = new LocalFifoQueue({
      name: 'pagewire-events.fifo',
      handler: (event) => w.run(event),
      batchSize: 3,
      concurrency: 4,
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

    expect(queue.deadLetters().map((d) => d.dedupId)).toEqual([`m_par_${USER_X}_99`]);
    expect(queue.stats()).toMatchObject({ delivered: 24, deadLetters: 1, pending: 0 });
    expect(errors.every((e) => (e as Error).name === 'FullBatchFailureError')).toBe(true);
    for (const userId of people) {
      const mids = (await w.conversations.listItems(PAGE_A, userId)).map((i) => i.mid);
      expect(mids).toEqual([1, 2, 3, 4].map((n) => `m_par_${userId}_${n}`));
    }
  });
});

describe('bugs found by this suite (it.fails until fixed), and regressions of fixed ones', () => {
  // Regression (was a bug, fixed in 659e63c): one SqsFifoPartialProcessorAsync per container shared its
  // batch state between invocations; the local event source runs up to 4 batches at once through one
  // handler, so a batch starting while another was in flight reset the other's failures and a message
  // that was never stored was acknowledged. The processor is now created per invocation.
  it('two concurrent invocations keep their own failures (no message acknowledged unprocessed)', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    await w.seedPage(PAGE_B);
    const ada = w.fake.addPerson('Ada', 'Lovelace');
    const [adaA, adaB] = [w.fake.psid(ada, PAGE_A), w.fake.psid(ada, PAGE_B)];
    const bobA = w.fake.psid(w.fake.addPerson('Bob', 'Marley'), PAGE_A);
    const say = (pageId: string, userId: string, n: number) =>
      only(
        recordsOf(
          inbox(pageId, [
            textEvent({ pageId, userId, mid: `m_conc_${n}`, text: `${n}`, timestamp: TIME + n }),
          ]),
        ),
        'record',
      );
    const failing = say(PAGE_B, adaB, 1); // DynamoDB throttles it once: this one must be redelivered
    w.failNext((c) => isConversationUpdate(c, PAGE_B, adaB), 1);
    // Hold page A's first read, so batch one is in flight (its failure recorded) when batch two starts.
    const gate = w.hold((c) => isGet(c, 'PAGE', PAGE_A));

    const one = w.run(sqsEvent([failing, say(PAGE_A, adaA, 2)]));
    await gate.reached;
    const two = w.run(sqsEvent([say(PAGE_A, bobA, 3)]));
    gate.release();
    const [answerOne, answerTwo] = await Promise.all([one, two]);

    expect(await w.conversations.listItems(PAGE_B, adaB)).toEqual([]); // not stored …
    expect(failedIds(answerTwo)).toEqual([]);
    expect(failedIds(answerOne)).toEqual([failing.messageId]); // … so it must be reported failed
  });

  // A delivery or read watermark for a conversation with no record yet is kept: raiseWatermark upserts
  // the watermark (conversation-repository.ts), so an echo that arrives after Meta's delivery/read is
  // still counted. The outcome depends on the event timestamps, not on arrival order (SPEC §6).
  it('a delivery and read that overtake the echo of a new conversation still count', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);

    await w.deliver(inbox(PAGE_A, [EVENTS.delivery, EVENTS.read]));
    await w.deliver(inbox(PAGE_A, [EVENTS.echo]));

    expect(await statuses(w, PAGE_A, USER_A1)).toEqual({ [MID.echo]: 'read' });
  });

  // A throttle backs off (SPEC §5): PageAccess.throttle keeps the page's "throttled until" from
  // GraphError.retryAfterMs, and contact profiles wait for it instead of asking Graph at once.
  it('after a throttle with estimated_time_to_regain_access, the page waits before asking Graph again', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    const bob = w.fake.psid(w.fake.addPerson('Bob', 'Marley'), PAGE_A);
    const usage = {
      [PAGE_A]: [
        {
          type: 'pages',
          call_count: 100,
          total_time: 25,
          total_cputime: 25,
          estimated_time_to_regain_access: 5,
        },
      ],
    };
    w.fake.injectError(
      { method: 'GET', path: `/${ada}` },
      {
        status: 400,
        code: 80001,
        message: 'There have been too many calls to this Page account. Wait a bit and try again.',
        headers: { 'x-business-use-case-usage': JSON.stringify(usage) },
      },
    );

    await w.deliver(inbox(PAGE_A, [textEvent({ userId: ada, mid: 'm_thr_1', text: '1' })]));
    expect((await w.contacts.get(PAGE_A, ada))?.profileStatus).toBe('pending');
    await w.deliver(
      inbox(PAGE_A, [textEvent({ userId: bob, mid: 'm_thr_2', text: '2', timestamp: TIME + 1 })]),
    );

    expect(await w.conversations.listItems(PAGE_A, bob)).toHaveLength(1);
    expect(w.profileCalls(bob)).toEqual([]);
  });

  // The contact's name reaches its conversation even when the conversation write after the profile
  // fetch fails: a contact is settled (profiles.settle) only once its conversation carries the name.
  it('a conversation write that fails after the profile fetch still ends with a named conversation', async () => {
    const w = await world();
    await w.seedPage(PAGE_A);
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    const record = only(
      recordsOf(inbox(PAGE_A, [textEvent({ userId: ada, mid: 'm_named', text: 'hola' })])),
      'record',
    );
    w.failNext((c) => isConversationUpdate(c, PAGE_A, ada));

    const first = await w.run(sqsEvent([record, ...recordsOf(inbox(PAGE_A, [EVENTS.echo]))]));
    expect(failedIds(first)).toEqual([record.messageId]);
    const redelivered = { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '2' } };
    expect(failedIds(await w.run(sqsEvent([redelivered])))).toEqual([]);

    expect(await w.conversations.listItems(PAGE_A, ada)).toHaveLength(1);
    expect((await w.contacts.get(PAGE_A, ada))?.profileStatus).toBe('fetched');
    expect(w.profileCalls(ada)).toHaveLength(1);
    expect((await w.conversations.get(PAGE_A, ada))?.name).toBe('Ada Lovelace');
  });
});
