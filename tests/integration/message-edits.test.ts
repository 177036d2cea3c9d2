/**
 * Messenger's newer events (SPEC §11): `message_edits` replaces a stored message's text, counts its
 * edits, and publishes `message.edited` once per edit; an older edit arriving late does not win; an edit
 * of a message not stored yet is kept (a placeholder the message finds later); stickers are stored as
 * their own type. Real collaborators: dynalite, the Graph fake, the processor handler.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { only, present } from '#testkit/pick';
import { createProcessorWorld, type ProcessorWorld } from '#testkit/processor-harness';
import { EVENTS, entry, MID, metaJson, PAGE_A, USER_A1, webhookBody } from '#testkit/webhooks';

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

const inbox = (...events: string[]) => webhookBody(entry(PAGE_A, events));
const T = 1_727_251_300_000;

function message(mid: string, text: string, timestamp: number): string {
  return metaJson({ sender: { id: USER_A1 }, recipient: { id: PAGE_A }, timestamp, message: { mid, text } });
}

function edit(mid: string, text: string, numEdit: number, timestamp: number): string {
  return metaJson({
    sender: { id: USER_A1 },
    recipient: { id: PAGE_A },
    timestamp,
    message_edit: { mid, text, num_edit: numEdit },
  });
}

const editedEvents = (w: ProcessorWorld) => w.publisher.events.filter((e) => e.type === 'message.edited');

describe('message_edits (SPEC §11)', () => {
  it('an unsent message leaves its text in no recorded event: the message’s and its edits’ data redacted', async () => {
    const w = await world();
    await w.deliver(inbox(message('m_gone', 'my address is 1 Main St', T)));
    await w.deliver(inbox(edit('m_gone', 'my address is 2 Main St', 1, T + 10)));
    const unsend = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: T + 20,
      message: { mid: 'm_gone', is_deleted: true },
    });
    expect((await w.deliver(inbox(unsend))).batchItemFailures).toEqual([]);

    const log = await w.deps.changes.list(PAGE_A, USER_A1);
    expect(log.map((e) => e.type)).toEqual(['message.received', 'message.edited', 'message.deleted']);
    expect(JSON.stringify(log)).not.toContain('Main St');
    for (const e of log) expect(e.data).toEqual({ mid: 'm_gone', deleted: true });
    // A redelivery of the message or its edit brings none of it back, in the log or out.
    const before = w.publisher.events.length;
    await w.deliver(inbox(message('m_gone', 'my address is 1 Main St', T)));
    await w.deliver(inbox(edit('m_gone', 'my address is 2 Main St', 1, T + 10)));
    expect(JSON.stringify(await w.deps.changes.list(PAGE_A, USER_A1))).not.toContain('Main St');
    expect(JSON.stringify(w.publisher.events.slice(before))).not.toContain('Main St');
  });

  it('is one of the default subscribed fields', () => {
    expect(DEFAULT_SUBSCRIBED_FIELDS).toContain('message_edits');
    expect(DEFAULT_SUBSCRIBED_FIELDS).not.toContain('response_feedback');
  });

  it('replaces the text, counts the edits and publishes message.edited once per edit', async () => {
    const w = await world();
    await w.deliver(inbox(message('m_e1', 'Hola, cuanto cuesta', T)));
    expect(
      (await w.deliver(inbox(edit('m_e1', 'Hola, ¿cuánto cuesta?', 1, T + 10)))).batchItemFailures,
    ).toEqual([]);
    await w.deliver(inbox(edit('m_e1', 'Hola, ¿cuánto cuesta el envío?', 2, T + 20)));

    const stored = present(await w.conversations.getItem(PAGE_A, USER_A1, 'm_e1'), 'edited item');
    expect(stored).toMatchObject({ text: 'Hola, ¿cuánto cuesta el envío?', edits: 2, editedAt: T + 20 });
    const events = editedEvents(w);
    expect(events.map((e) => e.data.edits)).toEqual([1, 2]);
    expect(events.map((e) => e.data.text)).toEqual([
      'Hola, ¿cuánto cuesta?',
      'Hola, ¿cuánto cuesta el envío?',
    ]);
    expect(
      only(
        events.filter((e) => e.data.edits === 2),
        'second edit',
      ),
    ).toMatchObject({
      pageId: PAGE_A,
      userId: USER_A1,
      channel: 'messenger',
      data: { mid: 'm_e1' },
    });

    // A redelivery of the first edit: nothing changes, the same event (same id) goes out again.
    const firstId = events[0]?.id;
    await w.deliver(inbox(edit('m_e1', 'Hola, ¿cuánto cuesta?', 1, T + 10)));
    expect(await w.conversations.getItem(PAGE_A, USER_A1, 'm_e1')).toMatchObject({
      text: 'Hola, ¿cuánto cuesta el envío?',
      edits: 2,
    });
    const after = editedEvents(w);
    expect(new Set(after.map((e) => e.id)).size).toBe(2);
    expect(after.length === 2 || after.at(-1)?.id === firstId).toBe(true);
  });

  it('does not let an older edit arriving late overwrite a newer one', async () => {
    const w = await world();
    await w.deliver(inbox(message('m_e2', 'v0', T), edit('m_e2', 'v3', 3, T + 30)));
    await w.deliver(inbox(edit('m_e2', 'v2', 2, T + 20)));

    expect(await w.conversations.getItem(PAGE_A, USER_A1, 'm_e2')).toMatchObject({ text: 'v3', edits: 3 });
    expect(editedEvents(w).map((e) => e.data.text)).toEqual(['v3']);
  });

  it('keeps an edit of a message it does not have: the message arriving later stores nothing twice', async () => {
    const w = await world();
    expect((await w.deliver(inbox(EVENTS.edit))).batchItemFailures).toEqual([]);

    const placeholder = present(await w.conversations.getItem(PAGE_A, USER_A1, MID.edited), 'placeholder');
    expect(placeholder).toMatchObject({ direction: 'in', text: 'Hola, ¿cuánto cuesta?', edits: 1 });
    expect(editedEvents(w)).toHaveLength(1);

    // The original (older text) arrives after its edit: the edited text stays, one item, published once.
    await w.deliver(inbox(message(MID.edited, 'Hola, cuanto cuesta', 1727251202000)));
    const items = await w.conversations.listItems(PAGE_A, USER_A1);
    expect(items.map((i) => i.mid)).toEqual([MID.edited]);
    expect(only(items, 'item')).toMatchObject({ text: 'Hola, ¿cuánto cuesta?', edits: 1 });
    const received = w.publisher.events.filter((e) => e.type === 'message.received');
    expect(only(received, 'message.received').data).toMatchObject({ text: 'Hola, ¿cuánto cuesta?' });
  });

  it('an edit that overtook its message loses nothing the message brings: attachments, reply, its own time', async () => {
    const w = await world();
    await w.deliver(inbox(edit('m_late', 'see the photo, sorry', 1, T + 60_000)));
    expect(await w.conversations.getItem(PAGE_A, USER_A1, 'm_late')).toMatchObject({ placeholder: true });
    const original = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: T,
      message: {
        mid: 'm_late',
        text: 'see the foto',
        reply_to: { mid: 'm_earlier' },
        attachments: [{ type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/p.jpg' } }],
      },
    });
    expect((await w.deliver(inbox(original))).batchItemFailures).toEqual([]);
    const stored = present(await w.conversations.getItem(PAGE_A, USER_A1, 'm_late'), 'message');
    expect(stored).toMatchObject({
      text: 'see the photo, sorry',
      edits: 1,
      timestamp: T,
      replyToMid: 'm_earlier',
      attachments: [{ type: 'image', url: 'https://scontent.xx.fbcdn.net/p.jpg' }],
    });
    expect(stored.placeholder).toBeUndefined();
    // Its message.received carries the attachment (so its copy is queued) and the edited text.
    const received = only(
      w.publisher.events.filter((e) => e.type === 'message.received'),
      'message.received',
    );
    expect(received.data).toMatchObject({
      text: 'see the photo, sorry',
      attachments: [{ type: 'image', url: 'https://scontent.xx.fbcdn.net/p.jpg' }],
    });
    // A redelivery of the message changes nothing and publishes the same event.
    await w.deliver(inbox(original));
    expect(await w.conversations.getItem(PAGE_A, USER_A1, 'm_late')).toEqual(stored);
    expect(
      new Set(w.publisher.events.filter((e) => e.type === 'message.received').map((e) => e.id)).size,
    ).toBe(1);
  });
});

describe('stickers (SPEC §11)', () => {
  it('stores both sticker shapes as type sticker with the sticker id', async () => {
    const w = await world();
    const newShape = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: T,
      message: {
        mid: 'm_st2',
        attachments: [
          { type: 'sticker', payload: { url: 'https://scontent.xx.fbcdn.net/s.png', sticker_id: 42 } },
        ],
      },
    });
    await w.deliver(inbox(EVENTS.sticker, newShape));

    const old = present(await w.conversations.getItem(PAGE_A, USER_A1, MID.sticker), 'old shape');
    const fresh = present(await w.conversations.getItem(PAGE_A, USER_A1, 'm_st2'), 'new shape');
    expect(old.attachments).toEqual([
      expect.objectContaining({ type: 'sticker', stickerId: 369239263222822 }),
    ]);
    expect(fresh.attachments).toEqual([
      expect.objectContaining({ type: 'sticker', stickerId: 42, url: 'https://scontent.xx.fbcdn.net/s.png' }),
    ]);
  });
});
