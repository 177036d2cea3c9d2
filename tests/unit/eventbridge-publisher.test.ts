/**
 * The EventBridge publisher against a mocked client (aws-sdk-client-mock): the exact PutEvents requests,
 * chunking at 10 entries and at 256 KiB, partial failures retried with only the failed entries, and
 * the errors when retries run out or an event can never fit.
 */
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsCommandOutput,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EVENT_SOURCE,
  EventBridgePublisher,
  entrySize,
  MAX_PUT_EVENTS_BYTES,
} from '#adapters/aws/eventbridge-publisher';
import { eventId, type PublicConversationEvent, type PublicEvent } from '#contracts/public-event';
import { EventTooLargeError, MAX_EVENT_JSON_BYTES, PublishError } from '#ports/event-publisher';
import { NO_DEADLINE } from '#runtime/deadline';

const BUS = 'Pagewire-pagewire';
const eb = mockClient(EventBridgeClient);

/** Retries at once (no back-off wait), so the tests wait on nothing. */
const publisher = (maxAttempts = 3) =>
  new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), BUS, {
    maxAttempts,
    backoff: { baseMs: 0, maxMs: 0, jitter: 'none' },
  });

function event(seq: number, text = `secret user text ${seq}`): PublicConversationEvent {
  return {
    id: eventId({ pageId: '111', userId: '222', changeKey: `m_${seq}`, type: 'message.received' }),
    type: 'message.received',
    time: '2026-12-01T10:00:00.000Z',
    version: 1,
    pageId: '111',
    channel: 'messenger',
    userId: '222',
    seq,
    data: { mid: `m_${seq}`, text },
  };
}

const events = (count: number, text?: (i: number) => string) =>
  Array.from({ length: count }, (_, i) => event(i + 1, text?.(i + 1)));

function acceptAll(input: PutEventsCommandInput): Partial<PutEventsCommandOutput> {
  return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `ev-${i}` })) };
}

/** Fails the entries whose detail satisfies `fails`, accepts the rest. */
function failWhere(fails: (detail: PublicEvent) => boolean) {
  return (input: PutEventsCommandInput): Partial<PutEventsCommandOutput> => {
    const entries = (input.Entries ?? []).map((entry, i) =>
      fails(JSON.parse(entry.Detail ?? '{}'))
        ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }
        : { EventId: `ev-${i}` },
    );
    return { FailedEntryCount: entries.filter((e) => e.ErrorCode).length, Entries: entries };
  };
}

const calls = (): PutEventsCommandInput[] => eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input);
const seqsOf = (input: PutEventsCommandInput) =>
  (input.Entries ?? []).map((entry) => (JSON.parse(entry.Detail ?? '{}') as PublicEvent).seq);

beforeEach(() => eb.reset());
afterEach(() => eb.reset());

describe('EventBridgePublisher', () => {
  it('sends each event as one entry: source pagewire, detail-type its type, detail the event, its time, the bus', async () => {
    eb.on(PutEventsCommand).callsFake(acceptAll);
    const e = event(1);
    await publisher().publish([e], NO_DEADLINE);
    expect(calls()).toEqual([
      {
        Entries: [
          {
            EventBusName: BUS,
            Source: EVENT_SOURCE,
            DetailType: 'message.received',
            Detail: JSON.stringify(e),
            Time: new Date('2026-12-01T10:00:00.000Z'),
          },
        ],
      },
    ]);
    expect(EVENT_SOURCE).toBe('pagewire');
  });

  it('makes no call for no events', async () => {
    await publisher().publish([], NO_DEADLINE);
    expect(calls()).toHaveLength(0);
  });

  it('chunks at 10 entries', async () => {
    eb.on(PutEventsCommand).callsFake(acceptAll);
    await publisher().publish(events(23), NO_DEADLINE);
    const sizes = calls().map((c) => c.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
    expect(calls().flatMap(seqsOf)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
  });

  it('chunks at 256 KiB of entries as AWS counts them', async () => {
    eb.on(PutEventsCommand).callsFake(acceptAll);
    // Three events of ~100 KB: two fit one call (~200 KB), three do not (~300 KB).
    await publisher().publish(
      events(3, () => 'x'.repeat(100_000)),
      NO_DEADLINE,
    );
    expect(calls().map(seqsOf)).toEqual([[1, 2], [3]]);
    for (const input of calls()) {
      const total = (input.Entries ?? []).reduce((sum, entry) => sum + entrySize(entry), 0);
      expect(total).toBeLessThanOrEqual(MAX_PUT_EVENTS_BYTES);
    }
  });

  it('counts UTF-8 bytes, not characters, toward the 256 KiB', async () => {
    eb.on(PutEventsCommand).callsFake(acceptAll);
    // 45,000 three-byte characters: 135 KB each, so two do not fit one call though 90,000 characters would.
    await publisher().publish(
      events(2, () => '€'.repeat(45_000)),
      NO_DEADLINE,
    );
    expect(calls().map(seqsOf)).toEqual([[1], [2]]);
  });

  it('retries only the entries reported failed, then resolves', async () => {
    let round = 0;
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      round++;
      // First call: the even seqs fail; the retry succeeds.
      return round === 1 ? failWhere((d) => (d.seq ?? 0) % 2 === 0)(input) : acceptAll(input);
    });
    await publisher().publish(events(5), NO_DEADLINE);
    expect(calls().map(seqsOf)).toEqual([
      [1, 2, 3, 4, 5],
      [2, 4],
    ]);
    // The retried entries are the very same entries (same detail, so the same event ids).
    expect(calls()[1]?.Entries).toEqual([calls()[0]?.Entries?.[1], calls()[0]?.Entries?.[3]]);
  });

  it('throws a PublishError with counts and codes (no event content) when the attempts run out', async () => {
    eb.on(PutEventsCommand).callsFake(failWhere((d) => d.seq === 2));
    const error = await publisher(3)
      .publish(events(3), NO_DEADLINE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ total: 3, failed: 1, codes: ['InternalFailure'] });
    expect((error as Error).message).toBe('1 of 3 events could not be published (InternalFailure)');
    expect((error as Error).message).not.toContain('secret');
    expect(calls().map(seqsOf)).toEqual([[1, 2, 3], [2], [2]]);
  });

  it('retries a chunk whose call failed, and names the SDK error', async () => {
    const throttled = Object.assign(new Error('Rate exceeded for secret-ish detail'), {
      name: 'ThrottlingException',
    });
    eb.on(PutEventsCommand).rejectsOnce(throttled).callsFake(acceptAll);
    await publisher().publish(events(2), NO_DEADLINE);
    expect(calls().map(seqsOf)).toEqual([
      [1, 2],
      [1, 2],
    ]);

    eb.reset();
    eb.on(PutEventsCommand).rejects(throttled);
    await expect(publisher(2).publish(events(2), NO_DEADLINE)).rejects.toThrow(
      '2 of 2 events could not be published (ThrottlingException)',
    );
  });

  it('takes an entry missing from the answer as failed', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-0' }] })
      .callsFake(acceptAll);
    await publisher().publish(events(2), NO_DEADLINE);
    expect(calls().map(seqsOf)).toEqual([[1, 2], [2]]);
  });

  it('stops retrying when the deadline leaves no time for the back-off', async () => {
    eb.on(PutEventsCommand).callsFake(failWhere(() => true));
    const slow = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), BUS, {
      maxAttempts: 10,
      backoff: { baseMs: 1_000, maxMs: 1_000, jitter: 'none' },
    });
    await expect(slow.publish(events(1), { remainingMs: () => 500 })).rejects.toBeInstanceOf(PublishError);
    expect(calls()).toHaveLength(1);
  });

  it('refuses an event over 256 KiB before sending anything, with a clear error', async () => {
    eb.on(PutEventsCommand).callsFake(acceptAll);
    const big = event(2, 'x'.repeat(MAX_PUT_EVENTS_BYTES));
    const error = await publisher()
      .publish([event(1), big], NO_DEADLINE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect(error).toMatchObject({
      eventId: big.id,
      type: 'message.received',
      maxBytes: MAX_PUT_EVENTS_BYTES,
    });
    expect((error as Error).message).toMatch(
      /^Event [0-9a-f-]{36} \(message.received\) is \d+ bytes; at most 262144/,
    );
    expect(calls()).toHaveLength(0);
  });

  it('accepts any event whose JSON is within MAX_EVENT_JSON_BYTES, whatever its type', async () => {
    eb.on(PutEventsCommand).callsFake(acceptAll);
    const base = { ...event(1, ''), type: 'message.media_stored' as const };
    const room = MAX_EVENT_JSON_BYTES - Buffer.byteLength(JSON.stringify(base));
    const largest = { ...base, data: { mid: 'm_1', text: 'y'.repeat(room) } };
    expect(Buffer.byteLength(JSON.stringify(largest))).toBe(MAX_EVENT_JSON_BYTES);
    await publisher().publish([largest], NO_DEADLINE);
    expect(calls()).toHaveLength(1);
  });
});
