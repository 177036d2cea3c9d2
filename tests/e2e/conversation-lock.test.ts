/**
 * The optional conversation lock wired into `npm start`'s processor: with LOCK_REDIS_URL set, an
 * event waits for its conversation's lock, is redelivered in order when the lock stays taken, and
 * other conversations go on.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '#ingest/signature';
import { GraphFake } from '#testkit/graph-faults';
import { type StackProcess, startStackProcess } from '#testkit/local-stack-process';
import { redisServerAvailableOrSkip, startRedisServer, type TestRedisServer } from '#testkit/redis-server';
import { entry, metaJson, webhookBody } from '#testkit/webhooks';

const APP_ID = '1517776481860333';
const APP_SECRET = randomBytes(16).toString('hex');
const ADMIN_TOKEN = randomBytes(12).toString('hex');
const PAGE = { id: '600000000000001', name: 'Locked Page' };

const available = redisServerAvailableOrSkip('conversation lock end to end');

describe.skipIf(!available)('conversation lock with a real redis-server', () => {
  let redis: TestRedisServer;
  let client: Redis;
  let fake: GraphFake;
  let stack: StackProcess;

  beforeAll(async () => {
    redis = await startRedisServer();
    client = new Redis(redis.url);
    fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
    const graphUrl = await fake.start();
    const { shortLivedToken } = fake.addUser({ pages: [PAGE] });
    stack = await startStackProcess({
      FB_APP_ID: APP_ID,
      FB_APP_SECRET: APP_SECRET,
      FB_VERIFY_TOKEN: 'v',
      ADMIN_TOKEN,
      GRAPH_API_URL: graphUrl,
      LOCK_REDIS_URL: redis.url,
      LOCAL_VISIBILITY_TIMEOUT_MS: '300',
    });
    const res = await admin('POST', '/admin/pages/connect', { userAccessToken: shortLivedToken });
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    await stack?.stop();
    client?.disconnect();
    await redis?.stop();
    await fake?.stop();
  });

  function admin(method: string, path: string, body?: unknown) {
    return fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function post(userId: string, mid: string, timestamp: number) {
    const event = metaJson({
      sender: { id: userId },
      recipient: { id: PAGE.id },
      timestamp,
      message: { mid, text: mid },
    });
    const body = webhookBody(entry(PAGE.id, [event]));
    const res = await fetch(`${stack.url}/webhooks/facebook`, {
      method: 'POST',
      headers: { 'x-hub-signature-256': signBody(body, APP_SECRET), 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
  }

  async function mids(userId: string): Promise<string[]> {
    const res = await admin('GET', `/admin/pages/${PAGE.id}/conversations/${userId}/messages`);
    return ((await res.json()) as { messages: Array<{ mid: string }> }).messages.map((m) => m.mid);
  }

  it('holds a conversation while another consumer owns its lock, then stores it in order', async () => {
    const ada = fake.psid(fake.addPerson('Ada', 'Lovelace'), PAGE.id);
    const bob = fake.psid(fake.addPerson('Bob', 'Marley'), PAGE.id);
    const key = `pagewire:lock:${PAGE.id}:${ada}`;
    // Another consumer holds Ada's conversation for a while.
    expect(await client.set(key, 'someone-else', 'PX', 7_000, 'NX')).toBe('OK');

    const t = Date.now();
    await post(ada, 'm_ada_1', t);
    await post(ada, 'm_ada_2', t + 1);
    await post(bob, 'm_bob_1', t + 2);
    await expect.poll(() => mids(bob), { timeout: 5_000 }).toEqual(['m_bob_1']);
    expect(await mids(ada)).toEqual([]);

    await client.del(key);
    await stack.settle(30_000);
    expect(await mids(ada)).toEqual(['m_ada_1', 'm_ada_2']);
    expect(await client.keys('pagewire:lock:*')).toEqual([]); // every lock released by its owner
    expect((await stack.health()).queue.deadLetters).toBe(0);
  });
});
