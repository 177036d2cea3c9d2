/**
 * The public event contract (SPEC §8): which events parse, the stable id, and the committed JSON Schema
 * being the one the code's schema generates.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONVERSATION_EVENT_TYPES,
  eventId,
  PAGE_EVENT_TYPES,
  PUBLIC_EVENT_TYPES,
  PublicEvent,
  publicEventJsonSchema,
} from '#contracts/public-event';
import { warningEvent } from '#pages/page-events';
import { PublishError } from '#ports/event-publisher';
import { NO_DEADLINE } from '#runtime/deadline';
import { memoryPublisher } from '#testkit/memory-publisher';

const received = {
  id: '0b3f5c1e-2a4d-8e6f-9a1b-2c3d4e5f6a7b',
  type: 'message.received',
  time: '2026-12-01T10:00:00.000Z',
  version: 1,
  pageId: '111',
  channel: 'messenger',
  userId: '222',
  seq: 42,
  data: { mid: 'm_1', text: 'hi' },
};

const statusChanged = {
  id: 'a3f5c1e0-2a4d-8e6f-9a1b-2c3d4e5f6a7b',
  type: 'page.status_changed',
  time: '2026-12-01T10:00:00.000Z',
  version: 1,
  pageId: '111',
  channel: 'messenger',
  data: { from: 'active', to: 'reauth_required', reason: 'token expired' },
};

const parses = (value: unknown) => PublicEvent.safeParse(value).success;

describe('PublicEvent', () => {
  it('names every event kind of SPEC §8, conversation and page kinds apart', () => {
    expect([...PUBLIC_EVENT_TYPES].sort()).toEqual(
      [
        'message.received',
        'message.sent',
        'message.status',
        'message.reaction',
        'message.edited',
        'message.deleted',
        'message.media_stored',
        'postback',
        'referral',
        'optin',
        'handover',
        'contact.updated',
        'page.status_changed',
        'page.warning',
      ].sort(),
    );
    expect(PAGE_EVENT_TYPES).toEqual(['page.status_changed', 'page.warning']);
  });

  it('takes a conversation event of every conversation kind, and a page event of every page kind', () => {
    for (const type of CONVERSATION_EVENT_TYPES) expect(parses({ ...received, type })).toBe(true);
    expect(parses(statusChanged)).toBe(true);
    expect(parses({ ...statusChanged, type: 'page.warning', data: { warning: 'quiet' } })).toBe(true);
    expect(PublicEvent.parse(received)).toEqual(received);
  });

  it('wants userId and a positive whole seq on conversation events', () => {
    const { userId: _u, ...noUser } = received;
    const { seq: _s, ...noSeq } = received;
    expect(parses(noUser)).toBe(false);
    expect(parses(noSeq)).toBe(false);
    expect(parses({ ...received, seq: 0 })).toBe(false);
    expect(parses({ ...received, seq: 1.5 })).toBe(false);
    expect(parses({ ...received, userId: '' })).toBe(false);
  });

  it('refuses userId or seq on page events', () => {
    expect(parses({ ...statusChanged, userId: '222' })).toBe(false);
    expect(parses({ ...statusChanged, seq: 1 })).toBe(false);
    expect(parses({ ...statusChanged, type: 'page.warning', userId: '222' })).toBe(false);
  });

  it('wants from and to on page.status_changed', () => {
    expect(parses({ ...statusChanged, data: { to: 'active' } })).toBe(false);
  });

  it('refuses an unknown type, another version, a time that is not ISO, another channel, data not an object', () => {
    expect(parses({ ...received, type: 'message.unknown' })).toBe(false);
    expect(parses({ ...received, version: 2 })).toBe(false);
    expect(parses({ ...received, time: '1 Dec 2026' })).toBe(false);
    expect(parses({ ...received, channel: 'whatsapp' })).toBe(false);
    expect(parses({ ...received, data: 'text' })).toBe(false);
    expect(parses({ ...received, id: '' })).toBe(false);
  });
});

describe('eventId', () => {
  const change = { pageId: '111', userId: '222', changeKey: 'm_1', type: 'message.received' } as const;

  it('is the same for the same change (a redelivery publishes the same id)', () => {
    expect(eventId({ ...change })).toBe(eventId(change));
  });

  it('is an RFC 9562 UUID (version 8, variant 10)', () => {
    expect(eventId(change)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('differs when any part of the identity differs', () => {
    const ids = new Set([
      eventId(change),
      eventId({ ...change, pageId: '112' }),
      eventId({ ...change, userId: '223' }),
      eventId({ ...change, userId: undefined }),
      eventId({ ...change, changeKey: 'm_2' }),
      eventId({ ...change, type: 'message.sent' }),
      // Parts are kept apart: moving a separator does not give the same id.
      eventId({ ...change, pageId: '111:222', userId: undefined }),
    ]);
    expect(ids.size).toBe(7);
  });
});

describe('docs/public-event.schema.json', () => {
  it('is what npm run schemas generates from the code (run it after changing the contract)', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../docs/public-event.schema.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(publicEventJsonSchema());
  });

  it('describes both kinds of event, with the fields SPEC §8 names', () => {
    const schema = publicEventJsonSchema() as {
      oneOf: { properties: Record<string, unknown>; required: string[] }[];
    };
    expect(schema.oneOf).toHaveLength(3);
    const [conversation] = schema.oneOf;
    expect(conversation?.required).toEqual(
      expect.arrayContaining(['id', 'type', 'time', 'version', 'pageId', 'channel', 'userId', 'seq', 'data']),
    );
    expect(conversation?.properties.seq).toMatchObject({ type: 'integer', exclusiveMinimum: 0 });
  });
});

describe('memoryPublisher (testkit)', () => {
  const at = (seq: number) =>
    ({
      ...received,
      seq,
      id: eventId({ pageId: '111', userId: '222', changeKey: `m_${seq}`, type: 'message.received' }),
    }) as PublicEvent;

  it('records accepted events in order', async () => {
    const p = memoryPublisher();
    await p.publish([at(1), at(2)], NO_DEADLINE);
    await p.publish([at(3)], NO_DEADLINE);
    expect(p.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(p.calls).toBe(2);
  });

  it('fails on demand, whole or after accepting the first events, and dedupes like a consumer', async () => {
    const p = memoryPublisher();
    p.failNext(1, { accepted: 1 });
    await expect(p.publish([at(1), at(2)], NO_DEADLINE)).rejects.toBeInstanceOf(PublishError);
    expect(p.events.map((e) => e.seq)).toEqual([1]);
    await p.publish([at(1), at(2)], NO_DEADLINE);
    expect(p.events.map((e) => e.seq)).toEqual([1, 1, 2]);
    expect(p.distinct().map((e) => e.seq)).toEqual([1, 2]);

    p.failWhen((e) => e.seq === 3);
    await expect(p.publish([at(2), at(3)], NO_DEADLINE)).rejects.toThrow(
      '1 of 2 events could not be published',
    );
    p.failWhen(undefined);
    await p.publish([at(3)], NO_DEADLINE);
    expect(p.distinct().map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('refuses an event that breaks the contract, accepting nothing', async () => {
    const p = memoryPublisher();
    const bad = { ...received, seq: 0 } as PublicEvent;
    await expect(p.publish([at(1), bad], NO_DEADLINE)).rejects.toThrow('event 1 breaks the public contract');
    expect(p.events).toEqual([]);
  });
});

describe('page.warning', () => {
  it('carries the channel of the entry it is about: an Instagram entry’s warning is on instagram', () => {
    const warning = { warning: 'quiet', detail: 'no events for 24 h' };
    const at = '2026-12-01T10:00:00.000Z';
    const ig = warningEvent({ pageId: '17841400000000437', channel: 'instagram' }, warning, at);
    const page = warningEvent({ pageId: '108374925610437' }, warning, at);
    expect([ig.channel, page.channel]).toEqual(['instagram', 'messenger']);
    expect(PublicEvent.parse(ig)).toEqual(ig);
    expect(ig.id).toBe(warningEvent({ pageId: '17841400000000437' }, warning, at).id);
  });
});
