import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import type { QueuedEvent, QueueMessage } from '#contracts/queue';
import { CLAIM_CHECK_ABOVE_BYTES } from '#ingest/claim-check';
import { readQueueBody } from '#ingest/read-queued-event';
import { signBody } from '#ingest/signature';
import { createVerifier, MAX_BODY_BYTES } from '#ingest/verify-webhook';
import type { AppCredentials, BlobStore, EventQueue } from '#ports/ports';
import { httpEvent } from '#testkit/http-events';
import { oversizeCases } from '#testkit/oversize-webhooks';
import { at, first } from '#testkit/pick';

const creds: AppCredentials = { appId: '111', appSecret: 'app-secret-value', verifyToken: 'verify-me' };

/** Records what is queued; refuses, as SQS does, a call holding a message over 1 MiB. */
class RecordingQueue implements EventQueue {
  sent: QueueMessage[] = [];
  failWith?: Error;
  async send(messages: QueueMessage[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    const sizes = messages.map((m) => Buffer.byteLength(m.body));
    if (sizes.some((size) => size > 1_048_576)) throw new Error(`message of ${Math.max(...sizes)} bytes`);
    this.sent.push(...messages);
  }
}

function setup(credentials: AppCredentials | undefined = creds, blobs: BlobStore = new MemoryBlobStore()) {
  const queue = new RecordingQueue();
  const verifier = createVerifier({ queue, credentials: { get: async () => credentials }, blobs });
  return { queue, verifier, blobs };
}

const inbound = (pageId: string, psid: string, mid: string, timestamp = 1_700_000_000_000) => ({
  sender: { id: psid },
  recipient: { id: pageId },
  timestamp,
  message: { mid, text: 'hi' },
});

function post(body: string | Buffer, secret = creds.appSecret, base64 = false) {
  return httpEvent('POST', '/webhooks/facebook', {
    body,
    base64,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, secret) },
  });
}

describe('verifier: handshake', () => {
  it('answers the challenge as text when the verify token matches', async () => {
    const { verifier } = setup();
    const q = { 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '1158201444' };
    const res = await verifier(httpEvent('GET', '/webhooks/facebook', { query: q }));
    expect(res).toMatchObject({ statusCode: 200, body: '1158201444' });
    expect(res.headers?.['content-type']).toMatch(/^text\/plain/);
  });

  it.each([
    ['wrong token', { 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': 'c' }],
    ['wrong mode', { 'hub.mode': 'unsubscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': 'c' }],
    ['no token', { 'hub.mode': 'subscribe', 'hub.challenge': 'c' }],
  ])('refuses with 403 on %s', async (_, query) => {
    const { verifier } = setup();
    expect((await verifier(httpEvent('GET', '/webhooks/facebook', { query }))).statusCode).toBe(403);
  });

  it('refuses the handshake when no credentials are configured', async () => {
    const { verifier } = setup(undefined);
    const q = { 'hub.mode': 'subscribe', 'hub.verify_token': '', 'hub.challenge': 'c' };
    expect((await verifier(httpEvent('GET', '/webhooks/facebook', { query: q }))).statusCode).toBe(403);
  });
});

describe('verifier: POST', () => {
  const body = JSON.stringify({
    object: 'page',
    entry: [
      { id: '1001', time: 1, messaging: [inbound('1001', '9001', 'm_a'), inbound('1001', '9002', 'm_b')] },
      { id: '1002', time: 1, standby: [inbound('1002', '9101', 'm_c')] },
    ],
  });

  it('queues every event of every entry, grouped by conversation, deduplicated by mid', async () => {
    const { verifier, queue } = setup();
    const res = await verifier(post(body));
    expect(res).toMatchObject({ statusCode: 200, body: 'EVENT_RECEIVED' });
    expect(queue.sent.map((m) => [m.groupId, m.dedupId])).toEqual([
      ['1001:9001', 'm_a'],
      ['1001:9002', 'm_b'],
      ['1002:9101', 'm_c'],
    ]);
    const queued = JSON.parse(at(queue.sent, 2, 'sent').body) as QueuedEvent;
    expect(queued).toMatchObject({ pageId: '1002', userId: '9101', standby: true, eventId: 'm_c' });
  });

  it('verifies the signature over the exact bytes when API Gateway base64-encodes the body', async () => {
    const escaped = Buffer.from(
      '{"object":"page","entry":[{"id":"1001","time":1,"messaging":[{"sender":{"id":"9001"},"recipient":{"id":"1001"},"timestamp":5,"message":{"mid":"m_x","text":"caf\\u00e9 https:\\/\\/x.y"}}]}]}',
    );
    const { verifier, queue } = setup();
    expect((await verifier(post(escaped, creds.appSecret, true))).statusCode).toBe(200);
    expect(JSON.parse(first(queue.sent, 'sent').body).event.message.text).toBe('café https://x.y');
  });

  it('answers 401 for a missing or wrong signature and queues nothing, never echoing a digest', async () => {
    const { verifier, queue } = setup();
    const unsigned = httpEvent('POST', '/webhooks/facebook', { body });
    const wrong = post(body, 'another-secret');
    for (const event of [unsigned, wrong]) {
      const res = await verifier(event);
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toMatch(/[0-9a-f]{64}/);
    }
    expect(queue.sent).toEqual([]);
  });

  it('fails closed: with no app secret configured every POST is refused', async () => {
    const { verifier, queue } = setup(undefined);
    expect((await verifier(post(body, ''))).statusCode).toBe(401);
    expect(queue.sent).toEqual([]);
  });

  it('answers 400 for a body that is not JSON or neither a page nor an instagram webhook', async () => {
    const { verifier } = setup();
    expect((await verifier(post('{nope'))).statusCode).toBe(400);
    expect((await verifier(post(JSON.stringify({ object: 'user', entry: [] })))).statusCode).toBe(400);
    expect((await verifier(post(JSON.stringify({ object: 'instagram', entry: [] })))).statusCode).toBe(200);
  });

  it('answers 413 for a body over 1 MiB, before anything else', async () => {
    const { verifier } = setup();
    const big = JSON.stringify({ object: 'page', entry: [], pad: 'x'.repeat(MAX_BODY_BYTES) });
    expect((await verifier(post(big))).statusCode).toBe(413);
  });

  it('queues the good events of a body with one malformed event, and still answers 200', async () => {
    const { verifier, queue } = setup();
    const mixed = JSON.stringify({
      object: 'page',
      entry: [{ id: '1001', time: 1, messaging: [inbound('1001', '9001', 'm_ok'), { sender: {} }, 'junk'] }],
    });
    expect((await verifier(post(mixed))).statusCode).toBe(200);
    expect(queue.sent.map((m) => m.dedupId)).toEqual(['m_ok']);
  });

  it('answers 500 (so Facebook retries) when the queue does not take every event', async () => {
    const { verifier, queue } = setup();
    queue.failWith = new Error('SQS unavailable');
    expect((await verifier(post(body))).statusCode).toBe(500);
  });
});

describe('verifier: events too large for a queue message (claim checks)', () => {
  const cases = oversizeCases('1001', '9001');

  it.each(cases.map((c) => [c.name, c] as const))(
    '%s: 200, every event queued within 256 KiB, the large ones as claim checks',
    async (_name, c) => {
      const { verifier, queue, blobs } = setup();
      // Base64, as API Gateway hands over a body that is not valid UTF-8 text: the exact bytes arrive.
      expect((await verifier(post(c.body, creds.appSecret, true))).statusCode).toBe(200);
      expect(queue.sent.map((m) => m.dedupId)).toEqual(c.events.map((e) => e.mid));
      for (const m of queue.sent)
        expect(Buffer.byteLength(m.body)).toBeLessThanOrEqual(CLAIM_CHECK_ABOVE_BYTES);
      const read = await Promise.all(queue.sent.map((m) => readQueueBody(m.body, blobs)));
      expect(read.map((e) => [e.eventId, e.timestamp, (e.event.message as { text: string }).text])).toEqual(
        c.events.map((e) => [e.mid, e.timestamp, e.text]),
      );
    },
  );

  it('answers 500 (Facebook retries) and queues nothing when a claim check cannot be stored', async () => {
    const failing: BlobStore = {
      put: async () => {
        throw new Error('S3 unavailable (test)');
      },
      get: async () => undefined,
    };
    const { verifier, queue } = setup(creds, failing);
    expect((await verifier(post(first(cases, 'cases').body, creds.appSecret, true))).statusCode).toBe(500);
    expect(queue.sent).toEqual([]);
  });
});
