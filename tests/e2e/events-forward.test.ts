/**
 * Events out end to end on `npm start` (issue 10, SPEC §8 local): `bin/local.ts` as its own process in
 * sandbox mode over a DATA_DIR, a demo page connected through the sandbox Graph API, a scripted
 * conversation sent as signed webhooks, and a consumer on loopback behind FORWARD_URL. The consumer
 * gets exactly the conversation's events, in seq order, with the key header; then it goes down (503)
 * while more webhooks arrive, the stack is stopped (SIGTERM) and started again over the same DATA_DIR,
 * the consumer comes back, and every event arrives: distinct ids, seq 1..n without a gap.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PublicEvent, PublicEvent as PublicEventSchema } from '#contracts/public-event';
import { signBody } from '#ingest/signature';
import { DEMO_INSTAGRAM } from '#local/graph-sandbox/demo';
import type { SandboxFile } from '#local/stack';
import { adminCall } from '#testkit/admin-http';
import { type StackProcess, startStackProcess } from '#testkit/local-stack-process';
import { first } from '#testkit/pick';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';
import { metaJson } from '#testkit/webhooks';

const KEY = `forward-key-${randomBytes(12).toString('hex')}`;
/** Meta's app id for replies typed in the Page inbox: their echoes are `data.source: page_inbox`. */
const PAGE_INBOX_APP_ID = '263902037430900';

/** The consumer: answers `status`, and records what it accepted (2xx) with the key header it got. */
interface Delivery {
  event: PublicEvent;
  key: string | undefined;
}
let status = 200;
const accepted: Delivery[] = [];
let refused = 0;
function onRequest(req: IncomingMessage, res: ServerResponse) {
  let body = '';
  req.setEncoding('utf8').on('data', (d: string) => {
    body += d;
  });
  req.on('end', () => {
    if (status !== 200) {
      refused++;
      res.writeHead(status).end();
      return;
    }
    const key = req.headers['x-pagewire-key'];
    // Parsed with the contract: a forwarded body that is not a v1 event fails the test here.
    accepted.push({
      event: PublicEventSchema.parse(JSON.parse(body)),
      key: typeof key === 'string' ? key : undefined,
    });
    res.writeHead(200).end();
  });
}

let consumer: TinyServer;
let dataDir: string;
let stack: StackProcess | undefined;
let sandbox: SandboxFile;
const outputs: string[] = [];

const start = () =>
  startStackProcess({
    MEMORY: '0',
    DATA_DIR: dataDir,
    FORWARD_URL: `${consumer.url}/pagewire/events`,
    FORWARD_API_KEY: KEY,
  });

/** Polls `probe` until it holds; past the deadline fails with `what` and the state `describe` gives. */
async function waitFor(
  what: string,
  probe: () => boolean | Promise<boolean>,
  describeState: () => unknown = () => accepted.map((d) => `${d.event.seq ?? '-'} ${d.event.type}`),
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      throw new Error(`waited ${timeoutMs} ms for ${what}; state: ${JSON.stringify(describeState())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const page = () => first(sandbox.pages, 'sandbox page');
const base = Date.now() - 60_000;
const at = (step: number) => base + step * 1_000;

/** One signed webhook with one messaging event from the demo person's conversation; answered 200. */
async function send(event: Record<string, unknown>): Promise<void> {
  const { id: pageId } = page();
  const body = metaJson({ object: 'page', entry: [{ id: pageId, time: Date.now(), messaging: [event] }] });
  const res = await fetch(`${(stack as StackProcess).url}/webhooks/facebook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, sandbox.appSecret) },
    body,
  });
  expect(res.status).toBe(200);
}

const fromUser = (step: number, rest: Record<string, unknown>) => ({
  sender: { id: page().psid },
  recipient: { id: page().id },
  timestamp: at(step),
  ...rest,
});
const inbound = (step: number, mid: string, text: string) => fromUser(step, { message: { mid, text } });
const echo = (step: number, mid: string, text: string) => ({
  sender: { id: page().id },
  recipient: { id: page().psid },
  timestamp: at(step),
  message: { mid, is_echo: true, app_id: Number(PAGE_INBOX_APP_ID), text },
});

/** The conversation's events the consumer accepted, first arrival of each id, in arrival order. */
function conversationEvents(): PublicEvent[] {
  const seen = new Set<string>();
  return accepted
    .map((d) => d.event)
    .filter((e) => e.userId === page().psid && !seen.has(e.id) && seen.add(e.id));
}

const MID = {
  first: 'm_events_forward_1',
  second: 'm_events_forward_2',
  reply: 'm_events_forward_reply_1',
  third: 'm_events_forward_3',
  reply2: 'm_events_forward_reply_2',
  afterRestart: 'm_events_forward_4',
};

beforeAll(async () => {
  consumer = await tinyServer(onRequest);
  dataDir = await mkdtemp(join(tmpdir(), 'pagewire-events-forward-'));
  stack = await start();
  sandbox = JSON.parse(await readFile(join(dataDir, 'sandbox.json'), 'utf8')) as SandboxFile;
  const connected = await adminCall(stack.url, sandbox.adminToken, 'POST', '/admin/pages/connect', {
    userAccessToken: sandbox.userToken,
    pageIds: [page().id],
  });
  expect(connected.status, connected.text).toBe(200);
  // The demo café's linked Instagram account is connected with it (SPEC §11).
  expect(connected.json.pages).toMatchObject([
    { pageId: page().id, status: 'active' },
    { pageId: DEMO_INSTAGRAM.id, channel: 'instagram' },
  ]);
}, 60_000);

afterAll(async () => {
  if (stack) outputs.push(stack.output());
  await stack?.stop();
  await consumer?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('events forwarded by npm start (FORWARD_URL)', () => {
  it('a scripted conversation reaches the consumer as exactly its events, in seq order, with the key', async () => {
    await send(inbound(1, MID.first, 'Hola, ¿abren el domingo?'));
    await send(inbound(2, MID.second, '¿Y tienen terraza?'));
    await send(echo(3, MID.reply, 'Sí, de 10 a 14 h, y con terraza.'));
    await send(fromUser(4, { delivery: { mids: [MID.reply], watermark: at(3) } }));
    await send(fromUser(5, { read: { watermark: at(3) } }));
    await send(fromUser(6, { reaction: { mid: MID.reply, action: 'react', reaction: 'love', emoji: '❤️' } }));

    await waitFor('the 7 events of the scripted conversation', () => conversationEvents().length >= 7);
    const { id: pageId, psid: userId } = page();
    const events = conversationEvents();
    expect(events).toMatchObject([
      { type: 'message.received', seq: 1, data: { mid: MID.first, text: 'Hola, ¿abren el domingo?' } },
      // The first message made the contact known: its profile name, fetched from the Graph API.
      { type: 'contact.updated', seq: 2, data: { userId, name: 'Ada Lovelace' } },
      { type: 'message.received', seq: 3, data: { mid: MID.second } },
      { type: 'message.sent', seq: 4, data: { mid: MID.reply, source: 'page_inbox' } },
      { type: 'message.status', seq: 5, data: { status: 'delivered', mids: [MID.reply] } },
      { type: 'message.status', seq: 6, data: { status: 'read', watermark: at(3) } },
      { type: 'message.reaction', seq: 7, data: { mid: MID.reply, action: 'react', reaction: 'love' } },
    ]);
    for (const e of events) expect(e).toMatchObject({ version: 1, pageId, userId, channel: 'messenger' });
    expect(new Set(events.map((e) => e.id)).size).toBe(7);
    // Nothing but this conversation's events and this page's own (page.status_changed of the connect),
    // its linked Instagram account's included (connected with it, on channel instagram).
    const others = accepted.map((d) => d.event).filter((e) => e.userId !== userId);
    for (const e of others) {
      const instagram = e.pageId === DEMO_INSTAGRAM.id;
      expect(e).toMatchObject({
        pageId: instagram ? DEMO_INSTAGRAM.id : pageId,
        channel: instagram ? 'instagram' : 'messenger',
        type: expect.stringMatching(/^page\./),
      });
    }
    for (const d of accepted) expect(d.key).toBe(KEY);
    expect(consumer.hits.every((req) => req.url === '/pagewire/events' && req.method === 'POST')).toBe(true);
  });

  it('consumer down, stack restarted over the same DATA_DIR, consumer back: every event arrives, none lost', async () => {
    const running = stack as StackProcess;
    const acceptedBefore = accepted.length;
    status = 503;
    await send(inbound(7, MID.third, '¿Puedo reservar para 4?'));
    await send(echo(8, MID.reply2, 'Claro, ¿a qué hora?'));
    await send(fromUser(9, { read: { watermark: at(8) } }));
    await send(fromUser(10, { reaction: { mid: MID.reply, action: 'unreact' } }));

    // All four stored and waiting for the consumer, which has refused at least one POST by now.
    await running.settle();
    await waitFor(
      'the 4 new events pending, the consumer having refused a POST',
      async () => {
        const { forward } = await healthOf(running);
        return forward.pending === 4 && forward.failed >= 1 && refused > 0;
      },
      async () => ({ health: await healthOf(running), refused }),
    );
    expect(accepted.length).toBe(acceptedBefore);

    expect(await running.kill('SIGTERM')).toBe(0);
    outputs.push(running.output());
    expect(running.output()).toContain('4 public event(s) not yet forwarded stay queued');
    stack = undefined;

    status = 200;
    stack = await start();
    expect(stack.output()).toContain('resumed:  4 event(s) not yet forwarded in the last run');
    await waitFor('the 4 events forwarded after the restart', () => conversationEvents().length >= 11);
    // The conversation goes on after the restart, numbered after what came before.
    await send(inbound(11, MID.afterRestart, 'Perfecto, a las 21 h.'));
    await waitFor('the message sent after the restart', () => conversationEvents().length >= 12);

    const events = conversationEvents();
    expect(events.slice(7)).toMatchObject([
      { type: 'message.received', seq: 8, data: { mid: MID.third } },
      { type: 'message.sent', seq: 9, data: { mid: MID.reply2, source: 'page_inbox' } },
      { type: 'message.status', seq: 10, data: { status: 'read', watermark: at(8) } },
      { type: 'message.reaction', seq: 11, data: { mid: MID.reply, action: 'unreact' } },
      { type: 'message.received', seq: 12, data: { mid: MID.afterRestart } },
    ]);
    // Distinct by id, seq 1..n without a gap, in order of first arrival; a redelivery repeats an id only.
    expect(new Set(events.map((e) => e.id)).size).toBe(12);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const d of accepted) if (byId.has(d.event.id)) expect(d.event).toEqual(byId.get(d.event.id));
    for (const d of accepted) expect(d.key).toBe(KEY);
    await waitFor(
      'no forward pending',
      async () => (await healthOf(stack as StackProcess)).forward.pending === 0,
      async () => healthOf(stack as StackProcess),
    );
  });

  it('never prints the forward key', () => {
    const all = [...outputs, stack?.output() ?? ''].join('\n');
    expect(all).toContain('x-pagewire-key (FORWARD_API_KEY)');
    expect(all).not.toContain(KEY);
  });

  // A page going reauth_required, forwarded as page.status_changed: tests/e2e/page-status-forward.test.ts.
});

async function healthOf(s: StackProcess) {
  return (await (await fetch(`${s.url}/health`)).json()) as { forward: { pending: number; failed: number } };
}
