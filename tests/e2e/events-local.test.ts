/**
 * Events out on `npm start` (issue 10, SPEC §8 local): with FORWARD_URL the stack forwards every
 * published event to a consumer on loopback with the key header; /health shows pending and failed
 * forwards and never the key; a stop with forwards pending and a start over the same DATA_DIR delivers
 * them; GET /admin/events is the tail's long poll. The processor does not publish yet, so the events
 * are published through the stack's publisher, as the processor will.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PublicEvent } from '#contracts/public-event';
import { type LocalStack, startLocalStack } from '#local/stack';
import { NO_DEADLINE } from '#runtime/deadline';
import { logger } from '#runtime/observability';
import { startStackProcess } from '#testkit/local-stack-process';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';

const KEY = 'forward-key-ZmFrZS1rZXktZm9yLXRlc3Rz';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await sleep(5);
}

let status = 200;
const accepted: Array<{ event: PublicEvent; key: string | undefined }> = [];
let consumer: TinyServer;
let dataDir: string;
let stack: LocalStack | undefined;

function onRequest(req: IncomingMessage, res: ServerResponse) {
  let body = '';
  req.on('data', (d) => {
    body += d;
  });
  req.on('end', () => {
    if (status === 200) {
      accepted.push({ event: JSON.parse(body), key: req.headers['x-pagewire-key'] as string | undefined });
    }
    res.writeHead(status).end();
  });
}

let n = 0;
function event(pageId: string, userId?: string): PublicEvent {
  n++;
  return PublicEvent.parse({
    id: `e2e-${n}`,
    type: userId ? 'message.received' : 'page.status_changed',
    time: new Date().toISOString(),
    version: 1,
    pageId,
    channel: 'messenger',
    ...(userId ? { userId, seq: n } : {}),
    data: userId ? { text: `hi ${n}` } : { from: 'active', to: 'reauth_required' },
  });
}

function start(): Promise<LocalStack> {
  return startLocalStack({
    PORT: '0',
    DATA_DIR: dataDir,
    FORWARD_URL: `${consumer.url}/pagewire`,
    FORWARD_API_KEY: KEY,
  });
}

async function health(s: LocalStack) {
  const text = await (await fetch(`${s.url}/health`)).text();
  return { text, body: JSON.parse(text) as { status: string; forward: { pending: number; failed: number } } };
}

function admin(s: LocalStack, path: string, token = s.adminToken) {
  return fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

beforeAll(async () => {
  consumer = await tinyServer(onRequest);
  dataDir = await mkdtemp(join(tmpdir(), 'pagewire-events-'));
  stack = await start();
});

afterAll(async () => {
  await stack?.stop();
  await consumer.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('events out on the local stack (FORWARD_URL)', () => {
  it('forwards a published event to the consumer with x-pagewire-key; /health shows the forwarding', async () => {
    const s = stack as LocalStack;
    expect((await health(s)).body.forward).toEqual({ pending: 0, failed: 0 });
    const e = event('pg1', 'u1');
    await s.events.publish([e], NO_DEADLINE);
    await until(() => accepted.length === 1);
    expect(accepted[0]).toEqual({ event: e, key: KEY });
    expect(consumer.hits[0]?.url).toBe('/pagewire');
    await until(async () => (await health(s)).body.forward.pending === 0);
  });

  it('consumer failing: /health counts pending and failed, and neither it nor the log shows the key', async () => {
    const s = stack as LocalStack;
    status = 500;
    // What the stack hands its logger, every argument as it would be serialised.
    const written: string[] = [];
    const spy = vi.spyOn(logger, 'warn').mockImplementation((...args: unknown[]) => {
      written.push(JSON.stringify(args));
    });
    try {
      await s.events.publish([event('pg1', 'u2'), event('pg1', 'u2')], NO_DEADLINE);
      await until(async () => (await health(s)).body.forward.failed === 1);
      await until(() => written.some((line) => line.includes('event forward failed')));
    } finally {
      spy.mockRestore();
    }
    const { text, body } = await health(s);
    expect(body).toMatchObject({ status: 'ok', forward: { pending: 2, failed: 1 } });
    expect(text).not.toContain(KEY);
    expect(written.join('')).toContain('HTTP 500');
    expect(written.join('')).not.toContain(KEY);
  });

  it('a stop with forwards pending and a start over the same DATA_DIR delivers them, each once', async () => {
    const pendingIds = [`e2e-${n - 1}`, `e2e-${n}`];
    const summary = await (stack as LocalStack).stop();
    stack = undefined;
    expect(summary).toMatchObject({ forwards: 2, durable: true });
    status = 200;
    accepted.length = 0;
    stack = await start();
    expect(stack.restored?.forwards).toEqual({ pending: 2 });
    await until(() => accepted.length === 2);
    await stack.events.publish([event('pg1', 'u2')], NO_DEADLINE);
    await until(() => accepted.length === 3);
    expect(accepted.map((a) => a.event.id)).toEqual([...pendingIds, `e2e-${n}`]);
    expect((await health(stack)).body.forward).toEqual({ pending: 0, failed: 0 });
  });

  it('GET /admin/events: the admin token, events after a cursor, a page filter, a long poll', async () => {
    const s = stack as LocalStack;
    expect((await admin(s, '/admin/events', 'not-the-token')).status).toBe(401);
    expect((await admin(s, '/admin/events?waitMs=soon')).status).toBe(400);
    const { cursor } = (await (await admin(s, '/admin/events')).json()) as { cursor: string };
    const polling = admin(s, `/admin/events?after=${cursor}&pageId=pg7&waitMs=20000`);
    const mine = event('pg7', 'u1');
    await s.events.publish([event('pg8', 'u1')], NO_DEADLINE);
    await s.events.publish([mine], NO_DEADLINE);
    const page = (await (await polling).json()) as { events: PublicEvent[]; cursor: string };
    expect(page.events).toEqual([mine]);
    const all = (await (await admin(s, `/admin/events?after=${cursor}`)).json()) as { events: PublicEvent[] };
    expect(all.events.map((e) => e.pageId)).toEqual(['pg8', 'pg7']);
  });
});

describe('npm start with FORWARD_URL', () => {
  it('starts the forwarder and prints where events go, never the key', async () => {
    const child = await startStackProcess({
      FORWARD_URL: `${consumer.url}/hook?token=abc`,
      FORWARD_API_KEY: KEY,
    });
    try {
      expect(child.output()).toContain(
        `forward:  every event is POSTed to ${consumer.url}/hook?… with x-pagewire-key (FORWARD_API_KEY)`,
      );
      expect(child.output()).not.toContain(KEY);
      expect(child.output()).not.toContain('token=abc');
      const text = await (await fetch(`${child.url}/health`)).text();
      expect(JSON.parse(text)).toMatchObject({ status: 'ok', forward: { pending: 0, failed: 0 } });
      expect(text).not.toContain(KEY);
    } finally {
      await child.stop();
    }
  });
});
