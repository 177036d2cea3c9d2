/**
 * Claim checks (functions/ingest/claim-check.ts, read-queued-event.ts): an event whose queue
 * message would be over 256 KiB travels as a small message naming a blob of its bytes; the processor
 * reads it back as the same QueuedEvent.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import type { ClaimCheck, QueuedEvent } from '#contracts/queue';
import { CLAIM_CHECK_ABOVE_BYTES, claimKey, toQueueMessages } from '#ingest/claim-check';
import { parseWebhook, toQueueMessage } from '#ingest/parse-webhook';
import { ClaimCheckError, readQueueBody } from '#ingest/read-queued-event';
import type { BlobStore } from '#ports/ports';
import { oversizeCases } from '#testkit/oversize-webhooks';
import { at, first, only, present } from '#testkit/pick';
import { EVENTS, entry, PAGE_A, USER_A1, webhookBody } from '#testkit/webhooks';

const CASES = oversizeCases(PAGE_A, USER_A1);

function eventsOf(body: string | Buffer): QueuedEvent[] {
  const parsed = parseWebhook(body);
  if (!parsed.ok || parsed.rejected.length) throw new Error('fixture refused');
  return parsed.events;
}

/** One inbound message whose plain queue message is exactly `bytes` long (ASCII text grows it 1:1). */
function eventOfMessageSize(bytes: number): QueuedEvent {
  const make = (text: string) =>
    only(
      eventsOf(
        `{"object":"page","entry":[{"id":"${PAGE_A}","time":1,"messaging":[{"sender":{"id":"${USER_A1}"},"recipient":{"id":"${PAGE_A}"},"timestamp":5,"message":{"mid":"m_size","text":"${text}"}}]}]}`,
      ),
      'event',
    );
  const base = Buffer.byteLength(toQueueMessage(make('')).body);
  const event = make('x'.repeat(bytes - base));
  expect(Buffer.byteLength(toQueueMessage(event).body)).toBe(bytes);
  return event;
}

const failingStore: BlobStore = {
  put: async () => {
    throw Object.assign(new Error('S3 is down (test)'), { name: 'ServiceUnavailable' });
  },
  get: async () => undefined,
};

describe('toQueueMessages', () => {
  it('queues small events as themselves and stores nothing', async () => {
    const events = eventsOf(webhookBody(entry(PAGE_A, [EVENTS.text, EVENTS.image, EVENTS.read])));
    const blobs = new MemoryBlobStore();
    const { messages, claimChecks } = await toQueueMessages(events, blobs);
    expect(messages).toEqual(events.map(toQueueMessage));
    expect(claimChecks).toBe(0);
    expect(blobs.blobs.size).toBe(0);
  });

  it('claim-checks from one byte over 256 KiB, not at 256 KiB', async () => {
    const blobs = new MemoryBlobStore();
    const at = eventOfMessageSize(CLAIM_CHECK_ABOVE_BYTES);
    const over = eventOfMessageSize(CLAIM_CHECK_ABOVE_BYTES + 1);
    const { messages, claimChecks } = await toQueueMessages([at, over], blobs);
    expect(claimChecks).toBe(1);
    expect(messages[0]).toEqual(toQueueMessage(at));
    expect(JSON.parse(present(messages[1], 'second message').body)).toHaveProperty('claim');
    expect(blobs.blobs.size).toBe(1);
  });

  it('stores the event bytes under their SHA-256 and queues a small message with the same ids', async () => {
    const event = first(eventsOf(first(CASES, 'CASES').body), 'event');
    const blobs = new MemoryBlobStore();
    const { messages } = await toQueueMessages([event], blobs);
    const plain = toQueueMessage(event);
    const bytes = Buffer.from(JSON.stringify(event.event));
    const key = `claims/${createHash('sha256').update(bytes).digest('hex')}.json`;
    expect(claimKey(bytes)).toBe(key);
    expect(blobs.blobs.get(key)?.equals(bytes)).toBe(true);
    expect(first(messages, 'messages').groupId).toBe(plain.groupId);
    expect(first(messages, 'messages').dedupId).toBe(plain.dedupId);
    expect(JSON.parse(first(messages, 'messages').body)).toEqual({
      v: 1,
      pageId: event.pageId,
      userId: event.userId,
      eventId: event.eventId,
      timestamp: event.timestamp,
      standby: false,
      claim: key,
    } satisfies ClaimCheck);
    expect(Buffer.byteLength(first(messages, 'messages').body)).toBeLessThan(1024);
  });

  it('writes the same key for the same event (a retried POST), one blob for both', async () => {
    const event = at(eventsOf(at(CASES, 0, 'case').body), 0, 'event');
    const blobs = new MemoryBlobStore();
    const first = await toQueueMessages([event], blobs);
    const again = await toQueueMessages([structuredClone(event)], blobs);
    expect(again.messages).toEqual(first.messages);
    expect(blobs.blobs.size).toBe(1);
  });

  it('rejects when a blob cannot be stored', async () => {
    const event = first(eventsOf(at(CASES, 1, 'CASES').body), 'event');
    await expect(toQueueMessages([event], failingStore)).rejects.toThrow(/S3 is down/);
  });

  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: every message fits in 256 KiB and reads back as the event parsed',
    async (_name, c) => {
      const events = eventsOf(c.body);
      expect(Math.max(...events.map((e) => Buffer.byteLength(toQueueMessage(e).body)))).toBeGreaterThan(
        1_048_576,
      );
      const blobs = new MemoryBlobStore();
      const { messages, claimChecks } = await toQueueMessages(events, blobs);
      expect(claimChecks).toBeGreaterThan(0);
      for (const m of messages)
        expect(Buffer.byteLength(m.body)).toBeLessThanOrEqual(CLAIM_CHECK_ABOVE_BYTES);
      const read = await Promise.all(messages.map((m) => readQueueBody(m.body, blobs)));
      expect(read).toEqual(events);
    },
  );
});

describe('readQueueBody: claim checks', () => {
  async function claimed() {
    const event = first(eventsOf(at(CASES, 2, 'CASES').body), 'event');
    const blobs = new MemoryBlobStore();
    const { messages } = await toQueueMessages([event], blobs);
    const claim = JSON.parse(first(messages, 'messages').body) as ClaimCheck;
    return { event, blobs, claim };
  }

  /** A claim check message body, as the verifier sends it. */
  const bodyOf = (claim: ClaimCheck) => JSON.stringify(claim);

  it('fails, naming the key and no content, when the blob is missing, altered or unreachable', async () => {
    const { blobs, claim } = await claimed();
    const missing = await readQueueBody(bodyOf(claim), new MemoryBlobStore()).catch((e: Error) => e);
    expect(missing).toBeInstanceOf(ClaimCheckError);
    expect((missing as Error).message).toBe(`claim check ${claim.claim}: no such blob`);

    const altered = new MemoryBlobStore();
    const bytes = (await blobs.get(claim.claim)) as Buffer;
    await altered.put(claim.claim, Buffer.concat([bytes.subarray(0, -2), Buffer.from(' }')]));
    await expect(readQueueBody(bodyOf(claim), altered)).rejects.toThrow(
      `claim check ${claim.claim}: other bytes`,
    );

    await expect(readQueueBody(bodyOf(claim), undefined)).rejects.toThrow(/no blob store/);
    const unreachable: BlobStore = { put: failingStore.put, get: failingStore.put as never };
    await expect(readQueueBody(bodyOf(claim), unreachable)).rejects.toThrow(/S3 is down/);
  });

  it.each([
    ['a key outside claims/', { claim: 'items/abc.json' }],
    ['a key that is not a hash', { claim: 'claims/../../etc/passwd' }],
    ['no page id', { pageId: undefined }],
    ['a string timestamp', { timestamp: '5' }],
  ])('refuses a malformed claim check: %s', async (_name, change) => {
    const { blobs, claim } = await claimed();
    const bad = { ...claim, ...change } as unknown as ClaimCheck;
    await expect(readQueueBody(bodyOf(bad), blobs)).rejects.toThrow(ClaimCheckError);
  });
});

describe('readQueueBody: the processor reads every message with the queue contract', () => {
  const reasonOf = (body: string, blobs?: BlobStore) =>
    readQueueBody(body, blobs).then(
      () => 'read',
      (e: Error & { reason?: string }) => `${e.reason}: ${e.message}`,
    );

  it('reads a queued event, and a claim check back from its blob', async () => {
    const event = first(eventsOf(webhookBody(entry(PAGE_A, [EVENTS.text]))), 'event');
    expect(await readQueueBody(JSON.stringify(event), undefined)).toEqual(event);
    const large = first(eventsOf(at(CASES, 2, 'CASES').body), 'event');
    const blobs = new MemoryBlobStore();
    const { messages } = await toQueueMessages([large], blobs);
    expect(await readQueueBody(first(messages, 'messages').body, blobs)).toEqual(large);
  });

  it('refuses what the verifier cannot have written, naming the field and quoting nothing', async () => {
    const event = first(eventsOf(webhookBody(entry(PAGE_A, [EVENTS.text]))), 'event');
    expect(await reasonOf('{"v":1,')).toBe('UnreadableQueueMessage: the queue message body is not JSON');
    expect(await reasonOf(JSON.stringify({ ...event, userId: '' }))).toMatch(/^InvalidQueuedEvent: userId: /);
    expect(await reasonOf(JSON.stringify({ ...event, event: 'my card is 4111' }))).toBe(
      'InvalidQueuedEvent: event: custom',
    );
    expect(await reasonOf(JSON.stringify({ ...event, v: 2 }))).toMatch(/^InvalidQueuedEvent: v: /);
    expect(await reasonOf('{"claim":"claims/x.json"}')).toBe(
      'UnredeemableClaimCheck: malformed claim check message',
    );
  });
});
