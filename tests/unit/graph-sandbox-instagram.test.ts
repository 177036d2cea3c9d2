/**
 * The Graph emulator's Instagram side (local/graph-sandbox/instagram.ts, SPEC §11), through the real
 * GraphClient: a page's `instagram_business_account`, IGSID profiles and sends to IGSIDs, each only with
 * the linked page's own token, as Meta enforces; and the demo sandbox's linked account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import { DEMO_INSTAGRAM, demoIgsid, startSandbox } from '#local/graph-sandbox/demo';
import { GraphEmulator } from '#local/graph-sandbox/emulator';

const APP_ID = '900000000000077';
const APP_SECRET = 'sandbox-instagram-secret-0123456789';
const LINKED = { id: '300000000000071', name: 'Linked' };
const OTHER = { id: '300000000000072', name: 'Other' };
const IG = { id: '17841400000000071', username: 'linked.shop' };

let fake: GraphEmulator;
let graph: GraphClient;
let igsid: string;
let psid: string;

beforeAll(async () => {
  fake = new GraphEmulator({ appId: APP_ID, appSecret: APP_SECRET });
  fake.addUser({ pages: [LINKED, OTHER] });
  fake.linkInstagram(LINKED.id, IG);
  const ada = fake.addPerson('Ada', 'Lovelace');
  igsid = fake.igsid(ada, IG.id);
  psid = fake.psid(ada, LINKED.id);
  const baseUrl = await fake.start();
  graph = new GraphClient({
    baseUrl,
    version: 'v24.0',
    appId: APP_ID,
    appSecret: APP_SECRET,
    timeoutMs: 2_000,
    retry: false,
  });
});
afterAll(async () => {
  await fake.stop();
});

const refused = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(GraphError);

describe('Graph emulator: linked Instagram accounts', () => {
  it('answers a page its linked account only with that page token; a page without one has none', async () => {
    expect(await graph.instagramAccount(LINKED.id, fake.pageToken(LINKED.id))).toEqual(IG);
    expect(await graph.instagramAccount(OTHER.id, fake.pageToken(OTHER.id))).toBeUndefined();
    await refused(graph.instagramAccount(LINKED.id, fake.pageToken(OTHER.id)));
  });

  it('gives each person an IGSID of its own, not their PSID; its profile only to the linked page', async () => {
    expect(igsid).toMatch(/^17\d{15}$/);
    expect(igsid).not.toBe(psid);
    expect(await graph.instagramProfile(igsid, fake.pageToken(LINKED.id))).toEqual({
      name: 'Ada Lovelace',
      username: 'ada.lovelace',
      profilePic: expect.stringContaining(igsid),
    });
    await refused(graph.instagramProfile(igsid, fake.pageToken(OTHER.id)));
  });

  it('sends to an IGSID only through the linked page with its token', async () => {
    const sent = await graph.sendText(LINKED.id, fake.pageToken(LINKED.id), igsid, 'hi', {
      messagingType: 'RESPONSE',
    });
    expect(sent.messageId).toMatch(/^m_/);
    expect(fake.sent(LINKED.id).map((m) => m.recipientId)).toEqual([igsid]);
    await refused(
      graph.sendText(OTHER.id, fake.pageToken(OTHER.id), igsid, 'hi', { messagingType: 'RESPONSE' }),
    );
    await refused(
      graph.sendText(LINKED.id, fake.pageToken(OTHER.id), igsid, 'hi', { messagingType: 'RESPONSE' }),
    );
  });
});

describe('demo sandbox', () => {
  it('links the café to its Instagram account, and send-test-webhook can name Ada’s IGSID', async () => {
    const sandbox = await startSandbox();
    try {
      expect(sandbox.instagram).toMatchObject(DEMO_INSTAGRAM);
      expect(sandbox.instagram.igsid).toBe(demoIgsid());
      expect(sandbox.pages.map((p) => p.id)).toContain(DEMO_INSTAGRAM.pageId);
      expect(sandbox.fake.pageToken(DEMO_INSTAGRAM.pageId)).toBeTruthy();
    } finally {
      await sandbox.fake.stop();
    }
  });
});
