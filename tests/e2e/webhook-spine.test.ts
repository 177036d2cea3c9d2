/**
 * The spine end to end over HTTP: `bin/local.ts` (what `npm start` runs) as its own process, a Graph
 * API fake on loopback playing Facebook, signed webhooks in, the admin API out.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#app/config';
import { signBody } from '#ingest/signature';
import { adminCall } from '#testkit/admin-http';
import { GraphFake } from '#testkit/graph-faults';
import { type StackProcess, startStackProcess } from '#testkit/local-stack-process';
import { oversizeCases } from '#testkit/oversize-webhooks';
import { first, take } from '#testkit/pick';
import { entry, metaJson, webhookBody } from '#testkit/webhooks';

const APP_ID = '1517776481860111';
const APP_SECRET = randomBytes(16).toString('hex');
const VERIFY_TOKEN = `verify-${randomBytes(6).toString('hex')}`;
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const PAGES = [
  { id: '200000000000001', name: 'Alpha Shoes' },
  { id: '200000000000002', name: 'Beta Books' },
  { id: '200000000000003', name: 'Gamma Café' },
];
const [P1, P2, P3] = take(
  PAGES.map((p) => p.id),
  3,
  'page id',
);

let fake: GraphFake;
let stack: StackProcess;
let userToken: string;
let ada: string;
let bob: string;
const psid = (person: string, pageId: string) => fake.psid(person, pageId);
const base = Date.now() - 60_000;
let seq = 0;
const mid = (label: string) => `m_${label}_${++seq}_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET, pageSize: 2 });
  const graphUrl = await fake.start();
  userToken = fake.addUser({ pages: PAGES }).shortLivedToken;
  ada = fake.addPerson('Ada', 'Lovelace');
  bob = fake.addPerson('Bob', 'Marley');
  stack = await startStackProcess({
    FB_APP_ID: APP_ID,
    FB_APP_SECRET: APP_SECRET,
    FB_VERIFY_TOKEN: VERIFY_TOKEN,
    ADMIN_TOKEN,
    GRAPH_API_URL: graphUrl,
    GRAPH_API_VERSION: 'v24.0',
    LOCAL_VISIBILITY_TIMEOUT_MS: '200',
  });
});

afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
});

function admin(method: string, path: string, body?: unknown, token = ADMIN_TOKEN) {
  return adminCall(stack.url, token, method, path, body);
}

async function webhook(body: string | Buffer, signature = signBody(body, APP_SECRET)) {
  const res = await fetch(`${stack.url}/webhooks/facebook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
    body,
  });
  return { status: res.status, text: await res.text() };
}

function inbound(pageId: string, userId: string, m: string, timestamp: number, text = 'hi') {
  return metaJson({
    sender: { id: userId },
    recipient: { id: pageId },
    timestamp,
    message: { mid: m, text },
  });
}

function pageEvent(pageId: string, userId: string, timestamp: number, fields: Record<string, unknown>) {
  return metaJson({ sender: { id: userId }, recipient: { id: pageId }, timestamp, ...fields });
}

async function messages(pageId: string, userId: string) {
  const res = await admin('GET', `/admin/pages/${pageId}/conversations/${userId}/messages`);
  expect(res.status).toBe(200);
  return res.json.messages as Array<Record<string, unknown>>;
}

describe('webhook spine over HTTP', () => {
  it('answers the webhook handshake', async () => {
    const q = (token: string) =>
      `${stack.url}/webhooks/facebook?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=8472`;
    const ok = await fetch(q(VERIFY_TOKEN));
    expect([ok.status, await ok.text()]).toEqual([200, '8472']);
    expect((await fetch(q('wrong'))).status).toBe(403);
  });

  it('refuses admin calls without the bearer token', async () => {
    expect((await admin('GET', '/admin/pages', undefined, 'wrong')).status).toBe(401);
  });

  it('connects every page by its own id with its own token, following paging.next', async () => {
    const res = await admin('POST', '/admin/pages/connect', { userAccessToken: userToken });
    expect(res.status).toBe(200);
    expect(res.json.pages).toEqual(PAGES.map((p) => ({ pageId: p.id, name: p.name, status: 'active' })));

    const subscribes = fake.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/subscribed_apps'));
    expect(subscribes.map((c) => [c.path, c.tokenPageId])).toEqual(
      expect.arrayContaining(PAGES.map((p) => [`/${p.id}/subscribed_apps`, p.id])),
    );
    expect(fake.calls.some((c) => c.path.startsWith('/me/subscribed_apps'))).toBe(false);
    expect(fake.calls.filter((c) => c.path === '/me/accounts').length).toBe(2); // 3 pages, 2 per answer
    expect(fake.calls.every((c) => c.version === 'v24.0')).toBe(true);
    for (const p of PAGES) expect(fake.subscriptions(p.id)?.fields).toEqual([...DEFAULT_SUBSCRIBED_FIELDS]);
  });

  it('lists pages with their status and fields, never a token', async () => {
    const res = await admin('GET', '/admin/pages');
    expect(res.json.pages.map((p: { pageId: string; status: string }) => [p.pageId, p.status])).toEqual(
      PAGES.map((p) => [p.id, 'active']),
    );
    expect(res.json.pages[0].subscribedFields).toEqual([...DEFAULT_SUBSCRIBED_FIELDS]);
    for (const p of PAGES) expect(res.text).not.toContain(fake.pageToken(p.id));
    expect(res.text).not.toMatch(/sealedToken|access_token/);
  });

  it('stores every event of a POST batching several pages, incl. a standby-only entry', async () => {
    const [m1, m2, m3, m4] = [mid('a1'), mid('a2'), mid('b3'), mid('a4')];
    const body = webhookBody(
      entry(P1, [inbound(P1, psid(ada, P1), m1, base + 1, 'Olá, café? https://x.y/z')]),
      entry(P2, [inbound(P2, psid(ada, P2), m2, base + 2)]),
      entry(P3, [inbound(P3, psid(bob, P3), m3, base + 3)], { field: 'standby' }),
      entry(P1, [inbound(P1, psid(bob, P1), m4, base + 4), inbound(P1, psid(ada, P1), mid('a5'), base + 5)]),
    );
    expect(body).toContain('caf\\u00e9'); // Meta's escaping, signed as sent
    expect(await webhook(body)).toEqual({ status: 200, text: 'EVENT_RECEIVED' });
    await stack.settle();

    const p1Ada = await messages(P1, psid(ada, P1));
    expect(p1Ada.map((m) => m.text)).toEqual(['Olá, café? https://x.y/z', 'hi']);
    expect((await messages(P2, psid(ada, P2))).map((m) => m.mid)).toEqual([m2]);
    expect(await messages(P3, psid(bob, P3))).toEqual([expect.objectContaining({ mid: m3, standby: true })]);
    expect((await messages(P1, psid(bob, P1))).map((m) => m.mid)).toEqual([m4]);
  });

  it("names each contact from the profile fetched once with the page's own token", async () => {
    const convs = await admin('GET', `/admin/pages/${P2}/conversations`);
    expect(convs.json.conversations).toEqual([
      expect.objectContaining({ userId: psid(ada, P2), name: 'Ada Lovelace' }),
    ]);
    // Profile reads only (connect also reads each page's linked Instagram account: `GET /{page-id}?fields=…`).
    const profileCalls = fake.calls.filter(
      (c) =>
        c.method === 'GET' && /^\/\d+$/.test(c.path) && c.query.fields === 'first_name,last_name,profile_pic',
    );
    expect(profileCalls.length).toBe(4); // ada@P1, ada@P2, bob@P3, bob@P1: once each
    for (const c of profileCalls) {
      const person = [ada, bob].find((p) => PAGES.some((pg) => c.path === `/${psid(p, pg.id)}`)) as string;
      expect(c.path).toBe(`/${psid(person, c.tokenPageId as string)}`);
    }
  });

  it('stores a message once when the same POST arrives three times at once', async () => {
    const m = mid('dup');
    const body = webhookBody(entry(P1, [inbound(P1, psid(ada, P1), m, base + 10)]));
    const answers = await Promise.all([webhook(body), webhook(body), webhook(body)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await stack.settle();
    expect((await messages(P1, psid(ada, P1))).filter((x) => x.mid === m)).toHaveLength(1);
  });

  it('orders a conversation by event timestamp, whatever the arrival order', async () => {
    const user = psid(bob, P2);
    const sent = [
      [mid('third'), base + 300],
      [mid('first'), base + 100],
      [mid('second'), base + 200],
    ] as const;
    for (const [m, t] of sent) await webhook(webhookBody(entry(P2, [inbound(P2, user, m, t)])));
    await stack.settle();
    expect((await messages(P2, user)).map((m) => m.timestamp)).toEqual([base + 100, base + 200, base + 300]);
  });

  it('sends a reply with the page token, then echo, delivery and read move its status', async () => {
    const user = psid(ada, P1);
    const sent = await admin('POST', `/admin/pages/${P1}/conversations/${user}/messages`, {
      text: 'Thanks!',
    });
    expect(sent.status).toBe(201);
    expect(sent.json).toMatchObject({ direction: 'out', text: 'Thanks!', status: 'sent' });
    const reply = fake.sent(P1).at(-1);
    expect(reply).toMatchObject({ recipientId: user, messagingType: 'RESPONSE', text: 'Thanks!' });
    const m = sent.json.mid as string;
    expect(m).toBe(reply?.messageId);
    const at = sent.json.timestamp as number;

    const echo = { message: { mid: m, is_echo: true, app_id: Number(APP_ID), text: 'Thanks!' } };
    await webhook(
      webhookBody(
        entry(P1, [metaJson({ sender: { id: P1 }, recipient: { id: user }, timestamp: at, ...echo })]),
      ),
    );
    await stack.settle();
    const status = async () => (await messages(P1, user)).filter((x) => x.mid === m).map((x) => x.status);
    expect(await status()).toEqual(['sent']);

    await webhook(webhookBody(entry(P1, [pageEvent(P1, user, at + 5, { delivery: { watermark: at + 1 } })])));
    await stack.settle();
    expect(await status()).toEqual(['delivered']);
    await webhook(webhookBody(entry(P1, [pageEvent(P1, user, at + 9, { read: { watermark: at + 2 } })])));
    await stack.settle();
    expect(await status()).toEqual(['read']);
  });

  it('refuses a reply outside the 24-hour window with a clear 4xx', async () => {
    const user = psid(ada, P3);
    await webhook(webhookBody(entry(P3, [inbound(P3, user, mid('old'), Date.now() - 25 * 3_600_000)])));
    await stack.settle();
    const res = await admin('POST', `/admin/pages/${P3}/conversations/${user}/messages`, { text: 'late' });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('outside_messaging_window');
    expect(fake.sent(P3)).toEqual([]);
  });

  it('records postbacks, reactions, referrals, optins and handovers; skips unknown kinds', async () => {
    const user = psid(bob, P1);
    const target = mid('target');
    const t = base + 1000;
    const events = [
      inbound(P1, user, target, t),
      pageEvent(P1, user, t + 1, { postback: { mid: mid('pb'), title: 'Start', payload: 'GET_STARTED' } }),
      pageEvent(P1, user, t + 2, {
        reaction: { mid: target, action: 'react', reaction: 'love', emoji: '❤️' },
      }),
      pageEvent(P1, user, t + 3, { referral: { ref: 'autumn', source: 'SHORTLINK', type: 'OPEN_THREAD' } }),
      pageEvent(P1, user, t + 4, { optin: { type: 'notification_messages', payload: 'DEALS' } }),
      pageEvent(P1, user, t + 5, { pass_thread_control: { new_owner_app_id: '123', metadata: 'to humans' } }),
      pageEvent(P1, user, t + 6, { brand_new_kind: { x: 1 } }),
    ];
    expect((await webhook(webhookBody(entry(P1, events)))).status).toBe(200);
    await stack.settle();
    const timeline = await messages(P1, user);
    const kinds = timeline.filter((m) => (m.timestamp as number) >= t).map((m) => m.kind);
    expect(kinds).toEqual(['message', 'postback', 'referral', 'optin', 'handover']);
    expect(timeline.find((m) => m.mid === target)?.reactions).toEqual({
      [user]: expect.objectContaining({ reaction: 'love', emoji: '❤️' }),
    });
    expect(timeline.find((m) => m.kind === 'postback')).toMatchObject({
      title: 'Start',
      payload: 'GET_STARTED',
    });
    expect((await stack.health()).counters.UnknownEventsSkipped).toBeGreaterThanOrEqual(1);

    await webhook(
      webhookBody(entry(P1, [pageEvent(P1, user, t + 7, { reaction: { mid: target, action: 'unreact' } })])),
    );
    await stack.settle();
    expect((await messages(P1, user)).find((m) => m.mid === target)?.reactions).toBeUndefined();
  });

  it('answers 401, 400 and 413 for bad input and queues nothing', async () => {
    const before = (await stack.health()).counters.EventsQueued;
    const body = webhookBody(entry(P1, [inbound(P1, psid(ada, P1), mid('bad'), base)]));
    expect((await webhook(body, '')).status).toBe(401);
    expect((await webhook(body, signBody(body, 'not-the-secret'))).status).toBe(401);
    expect((await webhook(`${body} `, signBody(body, APP_SECRET))).status).toBe(401);
    expect((await webhook('not json')).status).toBe(400);
    expect((await webhook(JSON.stringify({ object: 'user', entry: [] }))).status).toBe(400);
    expect((await webhook(Buffer.alloc(1024 * 1024 + 1, 32))).status).toBe(413);
    expect((await stack.health()).counters.EventsQueued).toBe(before);
  });

  it('stores an event whose queue message would be over 1 MiB (a claim check through the local stack)', async () => {
    const exactly1MiB = first(oversizeCases(P1, psid(ada, P1)), 'oversize case');
    expect(exactly1MiB.body.length).toBe(1024 * 1024);
    expect(await webhook(exactly1MiB.body)).toEqual({ status: 200, text: 'EVENT_RECEIVED' });
    await stack.settle();
    const event = first(exactly1MiB.events, 'event');
    const stored = (await messages(P1, psid(ada, P1))).find((m) => m.mid === event.mid);
    expect(stored).toMatchObject({ direction: 'in', timestamp: event.timestamp });
    expect(stored?.text).toBe(event.text);
    expect((await stack.health()).queue.deadLetters).toBe(0);
  });

  it('keeps the good events of a body with a malformed one, and drops events of unknown pages', async () => {
    const good = mid('good');
    const body = webhookBody(
      entry(P2, [inbound(P2, psid(bob, P2), good, base + 400), '{"sender":{}}', '42']),
      entry('299999999999999', [inbound('299999999999999', '7000000000000001', mid('stranger'), base)]),
    );
    expect(await webhook(body)).toEqual({ status: 200, text: 'EVENT_RECEIVED' });
    await stack.settle();
    expect((await messages(P2, psid(bob, P2))).map((m) => m.mid)).toContain(good);
    const { counters, queue } = await stack.health();
    expect(counters.MalformedEvents).toBe(2);
    expect(counters.EventsForUnknownPage).toBe(1);
    expect(queue.deadLetters).toBe(0);
    expect((await admin('GET', '/admin/pages/299999999999999/conversations')).status).toBe(404);
  });

  it('never prints a token or secret in its logs', async () => {
    const output = stack.output();
    expect(output).toContain('listening on');
    const secrets = [
      APP_SECRET,
      VERIFY_TOKEN,
      ADMIN_TOKEN,
      userToken,
      ...PAGES.map((p) => fake.pageToken(p.id)),
    ];
    for (const c of fake.calls) if (c.query.access_token) secrets.push(c.query.access_token);
    for (const s of new Set(secrets)) expect(output.includes(s), 'a secret was printed').toBe(false);
  });
});
