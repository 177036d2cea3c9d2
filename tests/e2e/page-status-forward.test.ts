/**
 * SPEC §8 end to end on the local stack: a page whose token Meta refuses goes `reauth_required`, and
 * the consumer at FORWARD_URL receives `page.status_changed` with the key (issue 10's scripted proof,
 * the page part; tests/e2e/events-forward.test.ts has the conversation part).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PublicEvent } from '#contracts/public-event';
import { type LocalStack, startLocalStack } from '#local/stack';
import { GraphFake } from '#testkit/graph-faults';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';

const APP_ID = '1517776481860111';
const APP_SECRET = 'page-status-secret-0123456789abcd';
const KEY = 'page-status-forward-key-0123456789';
const PAGE = { id: '104127259063412', name: 'Café' };

let fake: GraphFake;
let consumer: TinyServer;
let stack: LocalStack | undefined;
let dataDir: string;
const received: Array<{ event: PublicEvent; key: unknown }> = [];

function onRequest(req: IncomingMessage, res: ServerResponse) {
  let body = '';
  req.on('data', (d) => {
    body += d;
  });
  req.on('end', () => {
    received.push({ event: PublicEvent.parse(JSON.parse(body)), key: req.headers['x-pagewire-key'] });
    res.writeHead(200).end();
  });
}

async function until(what: string, condition: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end)
      throw new Error(`waited ${ms} ms for ${what}; received ${JSON.stringify(received)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const statusChanges = () =>
  received
    .map((r) => r.event)
    .filter((e) => e.type === 'page.status_changed')
    .map((e) => `${e.data.from}>${e.data.to}`);

beforeAll(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  const graphUrl = await fake.start();
  consumer = await tinyServer(onRequest);
  dataDir = await mkdtemp(join(tmpdir(), 'pagewire-page-status-'));
  stack = await startLocalStack({
    PORT: '0',
    DATA_DIR: dataDir,
    FB_APP_ID: APP_ID,
    FB_APP_SECRET: APP_SECRET,
    FB_VERIFY_TOKEN: 'verify',
    GRAPH_API_URL: graphUrl,
    GRAPH_API_VERSION: 'v24.0',
    FORWARD_URL: `${consumer.url}/events`,
    FORWARD_API_KEY: KEY,
  });
});

afterAll(async () => {
  await stack?.stop();
  await consumer?.close();
  await fake?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

it('connect, then a refused token: the consumer gets each page.status_changed with the key', async () => {
  const s = stack as LocalStack;
  const { shortLivedToken } = fake.addUser({ pages: [PAGE] });
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  expect((await admin('POST', '/admin/pages/connect', { userAccessToken: shortLivedToken })).status).toBe(
    200,
  );
  await until('the connect’s status changes', () => statusChanges().includes('subscribing>active'));
  expect(statusChanges()).toEqual(['none>subscribing', 'subscribing>active']);

  fake.revokePageToken(PAGE.id);
  await admin('POST', `/admin/pages/${PAGE.id}/subscribe`);
  await until('reauth_required', () => statusChanges().includes('active>reauth_required'));
  const reauth = received
    .map((r) => r.event)
    .find((e) => e.type === 'page.status_changed' && e.data.to === 'reauth_required');
  expect(reauth).toMatchObject({
    pageId: PAGE.id,
    version: 1,
    data: { from: 'active', to: 'reauth_required' },
  });
  expect(reauth && 'userId' in reauth ? reauth.userId : undefined).toBeUndefined();
  expect(received.every((r) => r.key === KEY)).toBe(true);
  expect(JSON.stringify(received)).not.toContain(APP_SECRET);
});
