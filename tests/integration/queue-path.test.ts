/**
 * From the signed POST to the stored message, through the queue as on AWS: the deployed verifier
 * (lambda()), SqsEventQueue and the real SQSClient, SQS played by the fake on loopback (its limits
 * enforced), the queued messages delivered as Lambda does (FIFO batches of at most 10), the real
 * processor against dynalite, claim checks in a blob store both share.
 */
import type { SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsEventQueue } from '#adapters/aws/sqs-event-queue';
import { CLAIM_CHECK_ABOVE_BYTES } from '#ingest/claim-check';
import { signBody } from '#ingest/signature';
import { createVerifier } from '#ingest/verify-webhook';
import { lambdaContext } from '#local/lambda-context';
import type { BlobStore } from '#ports/ports';
import { lambda } from '#runtime/lambda';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { httpEvent } from '#testkit/http-events';
import { oversizeCases } from '#testkit/oversize-webhooks';
import { at, last } from '#testkit/pick';
import { createProcessorWorld, type ProcessorWorld, sqsEvent, sqsRecord } from '#testkit/processor-harness';
import { type FakeSqsMessage, fakeSqsClient, SqsFake, type SqsFakeOptions } from '#testkit/sqs-fake';
import { echoEvent, entry, metaJson, PAGE_A, PAGE_B, textEvent, webhookBody } from '#testkit/webhooks';

const SECRET = 'queue-path-app-secret';
const QUEUE = 'pagewire-events.fifo';
const ADA = '7100000000000001';

let dynamo: TestDynamo;
let w: ProcessorWorld;
let fake: SqsFake;
let fakeOptions: SqsFakeOptions;
let verify: (body: Buffer | string) => Promise<number>;
/** The blob store the verifier writes claim checks to (the world's, or one failing in front of it). */
let verifierBlobs: BlobStore;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(async () => {
  w = await createProcessorWorld(dynamo);
  await w.seedPage(PAGE_A);
  await w.seedPage(PAGE_B);
  fakeOptions = {};
  fake = new SqsFake(fakeOptions);
  await fake.start();
  const client = fakeSqsClient(fake);
  const queue = new SqsEventQueue(client, fake.createQueue(QUEUE), { backoffMs: 1 });
  verifierBlobs = w.blobs;
  const verifier = lambda(
    createVerifier({
      queue,
      credentials: { get: async () => ({ appId: '1', appSecret: SECRET, verifyToken: 'v' }) },
      blobs: { put: (key, body) => verifierBlobs.put(key, body), get: (key) => verifierBlobs.get(key) },
    }),
  );
  verify = async (body) => {
    const bytes = Buffer.from(body);
    const event = httpEvent('POST', '/webhooks/facebook', {
      body: bytes,
      base64: true,
      headers: { 'x-hub-signature-256': signBody(bytes, SECRET) },
    });
    return (await verifier(event, lambdaContext('pagewire-verifier', 10_000))).statusCode ?? 0;
  };
});

afterEach(async () => {
  await fake.stop();
  await w.stop();
});

let delivered = 0;

/** What the queue holds and the processor has not had yet, as Lambda's FIFO batches of at most 10. */
async function deliverQueued(order: (messages: FakeSqsMessage[]) => FakeSqsMessage[] = (m) => m) {
  const fresh = fake.messages(QUEUE).slice(delivered);
  delivered += fresh.length;
  const records: SQSRecord[] = order(fresh).map((m) =>
    sqsRecord({ groupId: m.groupId as string, dedupId: m.dedupId as string, body: m.body }),
  );
  for (let i = 0; i < records.length; i += 10) {
    const res = await w.run(sqsEvent(records.slice(i, i + 10)));
    expect(res.batchItemFailures).toEqual([]);
  }
}

beforeEach(() => {
  delivered = 0;
});

describe('events too large for a queue message', () => {
  const cases = oversizeCases(PAGE_A, ADA);

  it.each(cases.map((c) => [c.name, c] as const))('%s: 200, and every event is stored', async (_name, c) => {
    expect(c.body.length).toBeLessThanOrEqual(1_048_576);
    expect(await verify(c.body)).toBe(200);
    const queued = fake.messages(QUEUE);
    expect(queued.map((m) => m.dedupId)).toEqual(expect.arrayContaining(c.events.map((e) => e.mid)));
    for (const m of queued) expect(Buffer.byteLength(m.body)).toBeLessThanOrEqual(CLAIM_CHECK_ABOVE_BYTES);
    await deliverQueued();
    for (const e of c.events) {
      const item = await w.conversations.getItem(PAGE_A, e.userId, e.mid);
      expect(item, e.mid).toMatchObject({
        kind: 'message',
        direction: 'in',
        timestamp: e.timestamp,
        text: e.text,
      });
    }
  });

  it('answers 500 while the blob store fails; the retried POST stores every event once', async () => {
    const several = last(cases, 'oversize case');
    let down = true;
    verifierBlobs = {
      put: async (key, body) => {
        if (down) throw new Error('S3 unavailable (test)');
        return w.blobs.put(key, body);
      },
      get: (key) => w.blobs.get(key),
    };
    expect(await verify(several.body)).toBe(500);
    expect(fake.messages(QUEUE)).toEqual([]);
    down = false;
    expect(await verify(several.body)).toBe(200);
    expect(await verify(several.body)).toBe(200); // Meta's duplicate delivery
    await deliverQueued();
    const items = await w.conversations.listItems(PAGE_A, ADA);
    expect(items.map((i) => i.mid)).toEqual(several.events.map((e) => e.mid));
  });

  it('answers 500 when SQS keeps refusing one batch while the others are queued; the retry stores each event once', async () => {
    const several = last(cases, 'oversize case');
    const victim = at(several.events, 4, 'events').mid;
    fakeOptions.failEntry = (e) =>
      e.MessageDeduplicationId === victim ? { Code: 'InternalError', SenderFault: false } : undefined;
    expect(await verify(several.body)).toBe(500);
    expect(fake.messages(QUEUE).length).toBeGreaterThan(0); // half queued
    fakeOptions.failEntry = undefined;
    expect(await verify(several.body)).toBe(200);
    await deliverQueued();
    const items = await w.conversations.listItems(PAGE_A, ADA);
    expect(items.map((i) => i.mid)).toEqual(several.events.map((e) => e.mid));
  });
});

describe('parallel batches', () => {
  /** One conversation of 25 events (three batches: 10, 10, 5) among 30 one-event conversations. */
  function busyPost(base: number) {
    const ada: string[] = [];
    const expected: Array<{ mid: string; timestamp: number; direction: 'in' | 'out' }> = [];
    for (let i = 0; i < 21; i++) {
      const mid = `m_ada_${base}_${i}`;
      const timestamp = base + i * 10;
      const out = i % 5 === 2;
      ada.push(
        out
          ? echoEvent({ userId: ADA, mid, text: `reply ${i}`, timestamp })
          : textEvent({ userId: ADA, mid, text: `message ${i}`, timestamp }),
      );
      expected.push({ mid, timestamp, direction: out ? 'out' : 'in' });
    }
    // Watermarks and reads interleaved; later ones may be stored first.
    const receipt = (kind: 'delivery' | 'read', watermark: number, timestamp: number) =>
      metaJson({ sender: { id: ADA }, recipient: { id: PAGE_A }, timestamp, [kind]: { watermark } });
    ada.splice(8, 0, receipt('delivery', base + 20, base + 75));
    ada.splice(12, 0, receipt('read', base + 20, base + 105));
    ada.push(receipt('delivery', base + 170, base + 205), receipt('read', base + 120, base + 206));
    const others = Array.from({ length: 30 }, (_, i) =>
      textEvent({
        pageId: PAGE_B,
        userId: `72000000000000${10 + i}`,
        mid: `m_other_${base}_${i}`,
        text: 'hi',
        timestamp: base + i,
      }),
    );
    // Meta interleaves conversations (and pages) in one POST.
    const body = webhookBody(
      entry(PAGE_A, ada.slice(0, 12)),
      entry(PAGE_B, others.slice(0, 15)),
      entry(PAGE_A, ada.slice(12)),
      entry(PAGE_B, others.slice(15)),
    );
    return { body, expected };
  }

  it('a conversation split across batches that arrive in reverse order: timeline by timestamp, nothing lost', async () => {
    const base = 1_727_000_000_000;
    const { body, expected } = busyPost(base);
    expect(await verify(body)).toBe(200);
    const adaMessages = fake.messages(QUEUE).filter((m) => m.groupId === `${PAGE_A}:${ADA}`);
    expect(new Set(adaMessages.map((m) => m.call)).size).toBe(3);
    // The batches reach the queue last first (as parallel calls may), Ada's runs among them.
    await deliverQueued((messages) =>
      [...messages].sort((a, b) => b.call - a.call || a.sequenceNumber.localeCompare(b.sequenceNumber)),
    );
    const items = await w.conversations.listItems(PAGE_A, ADA);
    expect(items.map((i) => [i.mid, i.timestamp, i.direction])).toEqual(
      expected.map((e) => [e.mid, e.timestamp, e.direction]),
    );
    const conversation = await w.conversations.get(PAGE_A, ADA);
    expect(conversation).toMatchObject({
      lastMessageAt: base + 200,
      lastInboundAt: base + 200,
      deliveredWatermark: base + 170,
      readWatermark: base + 120,
    });
  });

  it('1,000 messages through the real SDK: 50 calls at once, each message queued once, each conversation in order', async () => {
    const url = fake.createQueue('load.fifo');
    // 250 conversations of 4 messages each, interleaved as Meta might batch them: each conversation's
    // 4 go whole into one batch, two conversations a batch, so 125 calls.
    const sent = Array.from({ length: 1_000 }, (_, i) => ({
      groupId: `page:user${i % 250}`,
      dedupId: `m_${i}`,
      body: JSON.stringify({ n: i, text: 'é' }),
    }));
    fake.pause();
    const sending = new SqsEventQueue(fakeSqsClient(fake), url).send(sent);
    await fake.waitForInFlight(50);
    fake.resume();
    await sending;
    expect(fake.maxInFlight).toBe(50);
    expect(fake.calls).toHaveLength(125);
    const stored = fake.messages('load.fifo');
    expect(stored.map((m) => m.dedupId).sort()).toEqual(sent.map((m) => m.dedupId).sort());
    for (let user = 0; user < 250; user++) {
      const own = stored.filter((m) => m.groupId === `page:user${user}`);
      expect(new Set(own.map((m) => m.call)).size).toBe(1);
      expect(own.map((m) => JSON.parse(m.body).n)).toEqual([user, user + 250, user + 500, user + 750]);
    }
  });
});
