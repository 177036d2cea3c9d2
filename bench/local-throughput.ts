/**
 * Benchmark 5, for information: messages per second from signed POST to stored message through the
 * stack `npm start` runs (bin/local.ts in its own process, MEMORY=1, a GraphFake playing Facebook).
 * Reference: what its embedded DynamoDB (dynalite, in the stack's own process) allows at best, two
 * writes per message (conversation update + conditional put), measured here in-process the same way.
 */
import { randomBytes } from 'node:crypto';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { signBody } from '#ingest/signature';
import { makeTraffic } from '#testkit/chaos-traffic';
import { startTestTable } from '#testkit/dynamo';
import { GraphFake } from '#testkit/graph-faults';
import { startStackProcess } from '#testkit/local-stack-process';
import { at } from '#testkit/pick';
import { pool, ratio, round } from './stats.js';

const APP_ID = '1517776481860111';
const PAGES = 20;
const PERSONS = 10;
const EVENTS = 3_000;

export interface ThroughputResult {
  /** Messages stored (inbound and echoes); the POSTs also carried deliveries and reads. */
  messages: number;
  events: number;
  posts: number;
  messagesPerSecond: number;
  /** POSTs answered 200 per second (what Meta sees). */
  acceptedPostsPerSecond: number;
  referenceMessagesPerSecond: number;
  ratio: number;
  startupSeconds: number;
}

export async function localThroughputBench(): Promise<ThroughputResult> {
  const reference = await dynaliteCeiling();
  const appSecret = randomBytes(16).toString('hex');
  const adminToken = randomBytes(16).toString('hex');
  const fake = new GraphFake({ appId: APP_ID, appSecret });
  const graphUrl = await fake.start();
  const pages = Array.from({ length: PAGES }, (_, i) => ({
    id: String(330_000_000_000_000 + i),
    name: `Local ${i}`,
  }));
  const { shortLivedToken } = fake.addUser({ pages });
  const persons = Array.from({ length: PERSONS }, (_, i) => fake.addPerson(`Lu${i}`, `Local${i}`));
  const startup = performance.now();
  const stack = await startStackProcess({
    FB_APP_ID: APP_ID,
    FB_APP_SECRET: appSecret,
    FB_VERIFY_TOKEN: 'v',
    ADMIN_TOKEN: adminToken,
    GRAPH_API_URL: graphUrl,
    GRAPH_API_VERSION: 'v24.0',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const startupSeconds = (performance.now() - startup) / 1000;
  try {
    const connect = await fetch(`${stack.url}/admin/pages/connect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userAccessToken: shortLivedToken }),
    });
    if (connect.status !== 200)
      throw new Error(`connect answered ${connect.status}: ${await connect.text()}`);
    await stack.settle(60_000);
    const conversations = pages.flatMap((p) =>
      persons.map((person) => ({ pageId: p.id, userId: fake.psid(person, p.id) })),
    );
    const { posts, events } = makeTraffic({ conversations, events: EVENTS, seed: 9, appId: APP_ID });
    const messages = events.filter((e) => e.kind === 'in' || e.kind === 'echo').length;
    const before = (await stack.health()).counters.EventsStored ?? 0;
    const start = performance.now();
    await pool(16, posts.length, async (i) => {
      const body = at(posts, i, 'webhook POST').body;
      const res = await fetch(`${stack.url}/webhooks/facebook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, appSecret) },
        body,
      });
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
      await res.arrayBuffer();
    });
    const acceptedSeconds = (performance.now() - start) / 1000;
    await stack.settle(120_000);
    const seconds = (performance.now() - start) / 1000;
    const stored = ((await stack.health()).counters.EventsStored ?? 0) - before;
    if (stored < messages) throw new Error(`only ${stored} of ${messages} messages stored`);
    const messagesPerSecond = stored / seconds;
    return {
      messages: stored,
      events: events.length,
      posts: posts.length,
      messagesPerSecond: round(messagesPerSecond, 0),
      acceptedPostsPerSecond: round(posts.length / acceptedSeconds, 0),
      referenceMessagesPerSecond: round(reference, 0),
      ratio: ratio(messagesPerSecond, reference),
      startupSeconds: round(startupSeconds, 1),
    };
  } finally {
    await stack.stop();
    await fake.stop();
  }
}

/** Messages per second dynalite allows in-process: one conversation update and one put each, 4 at once. */
async function dynaliteCeiling(): Promise<number> {
  const table = await startTestTable();
  try {
    const n = 2_000;
    const start = performance.now();
    await pool(4, n, async (i) => {
      const pk = `PAGE#1`;
      await table.doc.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { pk, sk: `CONV#${i % 200}` },
          UpdateExpression: 'SET lastMessageAt = :t, tsk = :k',
          ExpressionAttributeValues: { ':t': i, ':k': `CONV#${String(i).padStart(15, '0')}` },
        }),
      );
      await table.doc.send(
        new PutCommand({
          TableName: table.tableName,
          Item: {
            pk: `CONV#1#${i % 200}`,
            sk: `ITEM#m_${i}`,
            tsk: `${String(i).padStart(15, '0')}#m_${i}`,
            text: 'hi',
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    });
    return n / ((performance.now() - start) / 1000);
  } finally {
    await table.stop();
  }
}
