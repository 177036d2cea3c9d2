/**
 * Issue 8's boundaries through `npm start`'s stack as its own process: the admin bearer scheme in any
 * case, a page disconnected a moment ago gets nothing more stored, a sender that is not a Facebook id is
 * stored but never sent to Graph, and an oversized webhook is refused before its body.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '#ingest/signature';
import { adminCall } from '#testkit/admin-http';
import { GraphFake } from '#testkit/graph-faults';
import { type StackProcess, startStackProcess } from '#testkit/local-stack-process';
import { entry, metaJson, webhookBody } from '#testkit/webhooks';

const APP_ID = '1517776481860111';
const APP_SECRET = randomBytes(16).toString('hex');
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const PAGE = { id: '200000000000011', name: 'Delta Deli' };

let fake: GraphFake;
let stack: StackProcess;
let ada: string;
let seq = 0;
const base = Date.now() - 60_000;

beforeAll(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  const graphUrl = await fake.start();
  const { shortLivedToken } = fake.addUser({ pages: [PAGE] });
  ada = fake.psid(fake.addPerson('Ada', 'Lovelace'), PAGE.id);
  stack = await startStackProcess({
    FB_APP_ID: APP_ID,
    FB_APP_SECRET: APP_SECRET,
    FB_VERIFY_TOKEN: 'verify-boundaries',
    ADMIN_TOKEN,
    GRAPH_API_URL: graphUrl,
    GRAPH_API_VERSION: 'v24.0',
  });
  const connected = await admin('POST', '/admin/pages/connect', { userAccessToken: shortLivedToken });
  expect(connected.json.pages).toEqual([{ pageId: PAGE.id, name: PAGE.name, status: 'active' }]);
});

afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
});

function admin(method: string, path: string, body?: unknown) {
  return adminCall(stack.url, ADMIN_TOKEN, method, path, body);
}

/** One signed inbound text from `userId`; answers the HTTP status and the message's mid. */
async function inbound(userId: string, text = 'hi') {
  const mid = `m_boundaries_${++seq}_${randomBytes(3).toString('hex')}`;
  const event = metaJson({
    sender: { id: userId },
    recipient: { id: PAGE.id },
    timestamp: base + seq,
    message: { mid, text },
  });
  const body = webhookBody(entry(PAGE.id, [event]));
  const res = await fetch(`${stack.url}/webhooks/facebook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, APP_SECRET) },
    body,
  });
  return { status: res.status, mid };
}

async function mids(userId: string): Promise<string[]> {
  const res = await admin('GET', `/admin/pages/${PAGE.id}/conversations/${userId}/messages`);
  expect(res.status, res.text).toBe(200);
  return res.json.messages.map((m: { mid: string }) => m.mid);
}

describe('admin bearer token', () => {
  it.each(['Bearer', 'bearer', 'BEARER'])('%s <token> is accepted; a wrong token is not', async (scheme) => {
    const get = (authorization: string) =>
      fetch(`${stack.url}/admin/pages`, { headers: { authorization } }).then((r) => r.status);
    expect(await get(`${scheme} ${ADMIN_TOKEN}`)).toBe(200);
    expect(await get(`${scheme} ${ADMIN_TOKEN}x`)).toBe(401);
  });
});

describe('ids from webhooks', () => {
  it('a sender id `..` is stored, and Graph is asked nothing with it', async () => {
    const before = fake.calls.length;
    const { status } = await inbound('..');
    expect(status).toBe(200);
    await stack.settle();
    const list = await admin('GET', `/admin/pages/${PAGE.id}/conversations`);
    expect(list.json.conversations.map((c: { userId: string }) => c.userId)).toContain('..');
    expect(fake.calls.slice(before)).toEqual([]);
  });
});

// A gateway that waited for the body would hang here: fail early instead.
describe('body limits', { timeout: 10_000 }, () => {
  it('a webhook declaring more than 1 MiB is answered 413 without its body being sent', async () => {
    // fetch cannot declare a length it does not send: a raw request does.
    const { request } = await import('node:http');
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${stack.url}/webhooks/facebook`, {
        method: 'POST',
        headers: { 'content-length': String(50 * 1024 * 1024), 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
  });
});

describe('a page disconnected a moment ago', () => {
  it('gets nothing more stored, though the processor had the page cached', async () => {
    const first = await inbound(ada, 'before');
    expect(first.status).toBe(200);
    await stack.settle();
    expect(await mids(ada)).toEqual([first.mid]);

    const disconnected = await admin('DELETE', `/admin/pages/${PAGE.id}`);
    expect(disconnected.json.page).toMatchObject({ pageId: PAGE.id, status: 'disconnected' });
    const dropped = (await stack.health()).counters.EventsForUnknownPage ?? 0;

    const late = await inbound(ada, 'after');
    expect(late.status).toBe(200);
    await stack.settle();
    expect(await mids(ada)).toEqual([first.mid]);
    expect((await stack.health()).counters.EventsForUnknownPage).toBe(dropped + 1);
  });
});
