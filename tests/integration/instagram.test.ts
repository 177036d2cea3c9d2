/**
 * Instagram through the same pipeline (SPEC §11): `object: "instagram"` bodies queued with their channel
 * and stored under the Instagram entry, beside Messenger's in the same batches; the same person on both
 * channels is two conversations; unsend erases and publishes `message.deleted` (also when it arrives
 * first); echoes, reactions, postbacks, seen, referrals and story replies; profiles with the linked page's
 * token; an account whose page needs reauth still stores inbound. Real collaborators: dynalite, the Graph
 * emulator (which enforces page-token rules), the processor handler.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseWebhook, toQueueMessage } from '#ingest/parse-webhook';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { only, present } from '#testkit/pick';
import { createProcessorWorld, type ProcessorWorld } from '#testkit/processor-harness';
import { metaJson } from '#testkit/webhooks';

const PAGE = '104127259063499';
const IG = '17841400000000001';
const T = 1_727_251_400_000;

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

interface IgWorld extends ProcessorWorld {
  psid: string;
  igsid: string;
}

/** A page with its linked Instagram account connected, and Ada writing on both. */
async function world(pageChanges: Parameters<ProcessorWorld['seedPage']>[1] = {}): Promise<IgWorld> {
  const w = await createProcessorWorld(dynamo);
  worlds.push(w);
  await w.seedPage(PAGE, pageChanges);
  w.fake.linkInstagram(PAGE, { id: IG, username: 'demo.cafe' });
  const now = new Date().toISOString();
  await w.pages.put({
    pageId: IG,
    name: 'demo.cafe',
    status: 'active',
    channel: 'instagram',
    linkedPageId: PAGE,
    subscribedFields: [],
    connectedAt: now,
    updatedAt: now,
  });
  const ada = w.fake.addPerson('Ada', 'Lovelace');
  return Object.assign(w, { psid: w.fake.psid(ada, PAGE), igsid: w.fake.igsid(ada, IG) });
}

function body(object: 'page' | 'instagram', id: string, events: string[]): string {
  return `{"object":"${object}","entry":[{"id":"${id}","time":${T},"messaging":[${events.join(',')}]}]}`;
}
const ig = (...events: string[]) => body('instagram', IG, events);
const fb = (...events: string[]) => body('page', PAGE, events);

function inbound(from: string, to: string, timestamp: number, message: Record<string, unknown>): string {
  return metaJson({ sender: { id: from }, recipient: { id: to }, timestamp, message });
}
function event(from: string, to: string, timestamp: number, kind: Record<string, unknown>): string {
  return metaJson({ sender: { id: from }, recipient: { id: to }, timestamp, ...kind });
}

const published = (w: ProcessorWorld, type: string) => w.publisher.events.filter((e) => e.type === type);
const igProfileCalls = (w: ProcessorWorld) =>
  w.fake.calls.filter((c) => c.method === 'GET' && c.query.fields === 'name,username,profile_pic');

describe('Instagram ingest (SPEC §11)', () => {
  it('queues instagram bodies with their channel, grouped by {igAccountId}:{igsid}, messenger ones without', () => {
    const parsed = parseWebhook(ig(inbound('17000000000000042', IG, T, { mid: 'aWdfZAG1', text: 'hi' })));
    if (!parsed.ok) throw new Error(parsed.message);
    const queued = only(parsed.events, 'event');
    expect(queued).toMatchObject({ pageId: IG, userId: '17000000000000042', channel: 'instagram' });
    const message = toQueueMessage(queued);
    expect(message.groupId).toBe(`${IG}:17000000000000042`);
    expect(JSON.parse(message.body).channel).toBe('instagram');
    const messenger = parseWebhook(fb(inbound('7000000000000042', PAGE, T, { mid: 'm_1', text: 'hi' })));
    expect(messenger.ok && only(messenger.events, 'event').channel).toBeUndefined();
  });

  it('gives an unsend its own event id: SQS must not drop it as a duplicate of its message', () => {
    const message = inbound('17000000000000042', IG, T, { mid: 'aWdfZAG2', text: 'oops' });
    const unsend = inbound('17000000000000042', IG, T + 1, { mid: 'aWdfZAG2', is_deleted: true });
    const parsed = parseWebhook(ig(message, unsend));
    if (!parsed.ok) throw new Error(parsed.message);
    const [a, b] = parsed.events.map(toQueueMessage);
    expect(a?.dedupId).toBe('aWdfZAG2');
    expect(b?.dedupId).not.toBe(a?.dedupId);
    expect(b?.groupId).toBe(a?.groupId);
  });
});

describe('Instagram processing (SPEC §11)', () => {
  it('stores page and instagram events of one batch each under its own entry, on its own channel', async () => {
    const w = await world();
    const res = await w.deliver(
      fb(inbound(w.psid, PAGE, T, { mid: 'm_fb_1', text: 'Hola por Messenger' })),
      ig(inbound(w.igsid, IG, T + 1, { mid: 'aWdfIG1', text: 'Hola por Instagram' })),
    );

    expect(res.batchItemFailures).toEqual([]);
    // Two conversations, no cross-talk: different ids, different entries.
    expect((await w.conversations.list(PAGE)).map((c) => c.userId)).toEqual([w.psid]);
    expect((await w.conversations.list(IG)).map((c) => c.userId)).toEqual([w.igsid]);
    expect(w.psid).not.toBe(w.igsid);
    expect((await w.conversations.listItems(PAGE, w.psid)).map((i) => i.text)).toEqual([
      'Hola por Messenger',
    ]);
    expect((await w.conversations.listItems(IG, w.igsid)).map((i) => i.text)).toEqual(['Hola por Instagram']);
    expect(await w.conversations.listItems(IG, w.psid)).toEqual([]);
    expect(await w.conversations.listItems(PAGE, w.igsid)).toEqual([]);

    const received = published(w, 'message.received');
    expect(received.map((e) => [e.pageId, e.userId, e.channel])).toEqual([
      [PAGE, w.psid, 'messenger'],
      [IG, w.igsid, 'instagram'],
    ]);
    // Names from each channel's profile: Instagram's with the linked page's token.
    expect(await w.conversations.get(IG, w.igsid)).toMatchObject({ name: 'Ada Lovelace' });
    expect(await w.conversations.get(PAGE, w.psid)).toMatchObject({ name: 'Ada Lovelace' });
    const igCall = only(igProfileCalls(w), 'instagram profile call');
    expect(igCall).toMatchObject({ path: `/${w.igsid}`, tokenPageId: PAGE });
    expect(published(w, 'contact.updated').find((e) => e.pageId === IG)?.channel).toBe('instagram');
  });

  it('a body mixing page and Instagram entries: each stored in its entry’s channel (the entry decides)', async () => {
    const w = await world();
    // Meta sends one object per POST; should a body ever mix them, the stored entry says what an id is.
    const mixed = `{"object":"page","entry":[{"id":"${PAGE}","time":${T},"messaging":[${inbound(
      w.psid,
      PAGE,
      T,
      {
        mid: 'm_mix_fb',
        text: 'fb',
      },
    )}]},{"id":"${IG}","time":${T},"messaging":[${inbound(w.igsid, IG, T + 1, { mid: 'aWdfMIX', text: 'ig' })}]}]}`;

    expect((await w.deliver(mixed)).batchItemFailures).toEqual([]);

    expect((await w.conversations.listItems(PAGE, w.psid)).map((i) => i.text)).toEqual(['fb']);
    expect((await w.conversations.listItems(IG, w.igsid)).map((i) => i.text)).toEqual(['ig']);
    expect(published(w, 'message.received').map((e) => [e.pageId, e.channel])).toEqual([
      [PAGE, 'messenger'],
      [IG, 'instagram'],
    ]);
  });

  it('unsend: text and attachment URLs erased, message.deleted published once per message', async () => {
    const w = await world();
    const onDeleted: string[] = [];
    w.deps.onMessageDeleted = async (item) => {
      onDeleted.push(item.mid);
    };
    const share = {
      type: 'share',
      payload: { url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1' },
    };
    await w.deliver(ig(inbound(w.igsid, IG, T, { mid: 'aWdfDEL1', text: 'secret', attachments: [share] })));
    const unsend = inbound(w.igsid, IG, T + 5, { mid: 'aWdfDEL1', is_deleted: true });
    expect((await w.deliver(ig(unsend))).batchItemFailures).toEqual([]);

    const item = present(await w.conversations.getItem(IG, w.igsid, 'aWdfDEL1'), 'unsent item');
    expect(item).toMatchObject({ deleted: true, attachments: [{ type: 'share' }] });
    expect(item.text).toBeUndefined();
    expect(JSON.stringify(item)).not.toContain('lookaside');
    const deleted = only(published(w, 'message.deleted'), 'message.deleted');
    expect(deleted).toMatchObject({
      pageId: IG,
      userId: w.igsid,
      channel: 'instagram',
      data: { mid: 'aWdfDEL1' },
    });
    expect(onDeleted).toEqual(['aWdfDEL1']);

    // A redelivery: the same event again (same id), nothing else.
    await w.deliver(ig(unsend));
    expect(new Set(published(w, 'message.deleted').map((e) => e.id))).toEqual(new Set([deleted.id]));
  });

  it('unsend before its message: the message, when it comes, is stored deleted and never published', async () => {
    const w = await world();
    await w.deliver(ig(inbound(w.igsid, IG, T + 5, { mid: 'aWdfDEL2', is_deleted: true })));
    const story = { url: 'https://lookaside.fbsbx.com/story.mp4', id: '1799' };
    await w.deliver(
      ig(inbound(w.igsid, IG, T, { mid: 'aWdfDEL2', text: 'late words', reply_to: { story } })),
    );

    const items = await w.conversations.listItems(IG, w.igsid);
    const item = only(items, 'item');
    expect(item).toMatchObject({ mid: 'aWdfDEL2', deleted: true });
    expect(JSON.stringify(item)).not.toContain('late words');
    expect(JSON.stringify(item)).not.toContain('story.mp4');
    expect(published(w, 'message.deleted')).toHaveLength(1);
    expect(published(w, 'message.received').filter((e) => e.data.mid === 'aWdfDEL2')).toEqual([]);
    expect(JSON.stringify(w.publisher.events)).not.toContain('late words');
  });

  it('stores echoes, story replies, reactions, postbacks, seen and referrals on the Instagram entry', async () => {
    const w = await world();
    const story = { url: 'https://lookaside.fbsbx.com/story.mp4', id: '17999' };
    const mention = { type: 'story_mention', payload: { url: 'https://lookaside.fbsbx.com/mention' } };
    const res = await w.deliver(
      ig(
        inbound(w.igsid, IG, T, { mid: 'aWdfA', text: 'love it', reply_to: { story } }),
        inbound(w.igsid, IG, T + 1, { mid: 'aWdfB', attachments: [mention] }),
        inbound(IG, w.igsid, T + 2, { mid: 'aWdfC', text: 'thanks!', is_echo: true }),
        event(w.igsid, IG, T + 3, {
          reaction: { mid: 'aWdfC', action: 'react', reaction: 'love', emoji: '❤️' },
        }),
        event(w.igsid, IG, T + 4, { postback: { mid: 'aWdfD', title: 'Menu', payload: 'MENU' } }),
        event(w.igsid, IG, T + 5, { read: { mid: 'aWdfC' } }),
        event(w.igsid, IG, T + 6, { referral: { ref: 'ig-ad', source: 'ADS', type: 'OPEN_THREAD' } }),
      ),
    );

    expect(res.batchItemFailures).toEqual([]);
    const items = await w.conversations.listItems(IG, w.igsid);
    expect(items.map((i) => [i.kind, i.direction])).toEqual([
      ['message', 'in'],
      ['message', 'in'],
      ['message', 'out'],
      ['postback', 'in'],
      ['referral', 'in'],
    ]);
    expect(items[0]).toMatchObject({ text: 'love it', detail: { replyToStory: story } });
    expect(items[1]?.attachments).toEqual([expect.objectContaining({ type: 'story_mention' })]);
    expect(items[2]).toMatchObject({ text: 'thanks!', reactions: { [w.igsid]: { reaction: 'love' } } });
    expect(await w.conversations.get(IG, w.igsid)).toMatchObject({ readWatermark: T + 5 });
    const types = w.publisher.events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['message.sent', 'message.reaction', 'postback', 'message.status', 'referral']),
    );
    expect(new Set(w.publisher.events.map((e) => e.channel))).toEqual(new Set(['instagram']));
  });

  it('stores inbound of an Instagram account whose page needs reauth; only the profile waits', async () => {
    const w = await world({ status: 'reauth_required' });
    const res = await w.deliver(ig(inbound(w.igsid, IG, T, { mid: 'aWdfR1', text: 'anyone there?' })));

    expect(res.batchItemFailures).toEqual([]);
    expect((await w.conversations.listItems(IG, w.igsid)).map((i) => i.text)).toEqual(['anyone there?']);
    expect(igProfileCalls(w)).toEqual([]);
    expect(await w.contacts.get(IG, w.igsid)).toMatchObject({ profileStatus: 'pending' });
  });
});
