import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conversationGroupId, type QueuedEvent } from '#contracts/queue';
import {
  type ParsedWebhook,
  parseWebhook,
  toQueueMessage,
  toQueueMessageWithText,
} from '#ingest/parse-webhook';
import { at, first } from '#testkit/pick';
import {
  EVENTS,
  entry,
  MID,
  MULTI_ENTRY_BODY,
  PAGE_A,
  PAGE_B,
  singleEventBody,
  TIME,
  TWO_EVENTS_BODY,
  USER_A1,
  USER_A2,
  USER_B1,
  webhookBody,
} from '#testkit/webhooks';

const SQS_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

function parsed(body: string | Buffer): Extract<ParsedWebhook, { ok: true }> {
  const result = parseWebhook(body);
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}`);
  return result;
}

function only(body: string): QueuedEvent {
  const { events, rejected } = parsed(body);
  expect(rejected).toEqual([]);
  expect(events).toHaveLength(1);
  return at(events, 0, 'event');
}

describe('parseWebhook: envelope', () => {
  it.each([
    ['not JSON', 'object=page', 'invalid_json'],
    ['empty', '', 'invalid_json'],
    ['truncated', singleEventBody(EVENTS.text).slice(0, -3), 'invalid_json'],
    ['another object', '{"object":"user","entry":[]}', 'not_page'],
    ['no object', '{"entry":[]}', 'not_page'],
    ['a bare array', '[{"object":"page"}]', 'not_page'],
    ['null', 'null', 'not_page'],
    ['no entry', '{"object":"page"}', 'invalid_envelope'],
    ['entry as object', '{"object":"page","entry":{"id":"1"}}', 'invalid_envelope'],
  ])('refuses a body that is %s', (_name, body, reason) => {
    const result = parseWebhook(body);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.message).toEqual(expect.any(String));
    }
  });

  it('accepts a Buffer and an empty entry list', () => {
    expect(parsed(Buffer.from(singleEventBody(EVENTS.text))).events).toHaveLength(1);
    expect(parsed('{"object":"page","entry":[]}')).toEqual({
      ok: true,
      events: [],
      eventJson: [],
      rejected: [],
    });
  });
});

describe('parseWebhook: flattening', () => {
  it('queues every event of every entry, standby included, with the right ids', () => {
    const { events, rejected } = parsed(MULTI_ENTRY_BODY);
    expect(rejected).toEqual([]);
    const summary = events.map(({ pageId, userId, standby, timestamp, eventId }) => ({
      pageId,
      userId,
      standby,
      timestamp,
      eventId,
    }));
    expect(summary).toEqual([
      { pageId: PAGE_A, userId: USER_A1, standby: false, timestamp: 1727251200123, eventId: MID.text },
      { pageId: PAGE_B, userId: USER_B1, standby: true, timestamp: 1727251201533, eventId: MID.standbyText },
      {
        pageId: PAGE_B,
        userId: USER_B1,
        standby: true,
        timestamp: 1727251201523,
        eventId: expect.stringMatching(/^h:[0-9a-f]{64}$/),
      },
      { pageId: PAGE_A, userId: USER_A1, standby: false, timestamp: 1727251201123, eventId: MID.echo },
      {
        pageId: PAGE_A,
        userId: USER_A1,
        standby: false,
        timestamp: 1727251201823,
        eventId: expect.stringMatching(/^h:[0-9a-f]{64}$/),
      },
    ]);
    expect(events.every((e) => e.v === 1)).toBe(true);
  });

  it('keeps the raw event untouched', () => {
    const { events } = parsed(MULTI_ENTRY_BODY);
    expect(first(events, 'events').event).toEqual(JSON.parse(EVENTS.text));
    expect(at(events, 2, 'events').event).toEqual(JSON.parse(EVENTS.standbyPostback));
  });

  it('loops over every event of one entry', () => {
    const { events } = parsed(TWO_EVENTS_BODY);
    expect(events.map((e) => e.eventId)).toEqual([MID.quickReply, expect.stringMatching(/^h:/)]);
    expect(events.map((e) => e.userId)).toEqual([USER_A1, USER_A1]);
  });

  it('reads messaging and standby of the same entry', () => {
    const body = `{"object":"page","entry":[{"id":"${PAGE_A}","time":${TIME},"messaging":[${EVENTS.text}],"standby":[${EVENTS.read}]}]}`;
    expect(parsed(body).events.map((e) => e.standby)).toEqual([false, true]);
  });

  it('puts an echo and the inbound message in the same conversation group', () => {
    const inbound = only(singleEventBody(EVENTS.text));
    const echo = only(singleEventBody(EVENTS.echo));
    expect(echo.userId).toBe(USER_A1);
    expect(toQueueMessage(echo).groupId).toBe(toQueueMessage(inbound).groupId);
    expect(toQueueMessage(echo).groupId).toBe(conversationGroupId(PAGE_A, USER_A1));
  });

  it('uses the other party for every kind', () => {
    expect(only(singleEventBody(EVENTS.inboxEcho)).userId).toBe(USER_A1);
    expect(only(singleEventBody(EVENTS.referral)).userId).toBe(USER_A2);
    expect(only(singleEventBody(EVENTS.passThread)).userId).toBe(USER_A1);
  });

  it('names checkbox and chat-plugin people by user_ref', () => {
    expect(only(singleEventBody(EVENTS.checkboxOptin)).userId).toBe(
      'ref:cb-8f14e45fceea167a5a36dedd4bea2543',
    );
    expect(only(singleEventBody(EVENTS.chatPluginText)).userId).toBe('ref:guest-3f2a9c');
    const toRef = `{"sender":{"id":"${PAGE_A}"},"recipient":{"user_ref":"guest-3f2a9c"},"timestamp":1,"message":{"mid":"m_x","is_echo":true,"text":"hi"}}`;
    expect(only(singleEventBody(toRef)).userId).toBe('ref:guest-3f2a9c');
  });

  it('files app_roles, which concern the whole page, under the page itself', () => {
    const e = only(singleEventBody(EVENTS.appRoles));
    expect([e.pageId, e.userId]).toEqual([PAGE_A, PAGE_A]);
  });

  it('accepts a numeric entry id and falls back to the recipient (or an echo sender) without one', () => {
    const numeric = `{"object":"page","entry":[{"id":${PAGE_A},"time":${TIME},"messaging":[${EVENTS.text}]}]}`;
    expect(only(numeric).pageId).toBe(PAGE_A);
    const noId = (event: string) => `{"object":"page","entry":[{"time":${TIME},"messaging":[${event}]}]}`;
    expect(only(noId(EVENTS.text))).toMatchObject({ pageId: PAGE_A, userId: USER_A1 });
    expect(only(noId(EVENTS.echo))).toMatchObject({ pageId: PAGE_A, userId: USER_A1 });
  });

  it('falls back to entry.time when the event has no timestamp', () => {
    const event = `{"sender":{"id":"${USER_A1}"},"recipient":{"id":"${PAGE_A}"},"read":{"watermark":5}}`;
    expect(only(webhookBody(entry(PAGE_A, [event], { time: 1727250000000 }))).timestamp).toBe(1727250000000);
  });
});

describe('parseWebhook: rejects bad events, keeps the rest', () => {
  it('rejects one malformed event among good ones', () => {
    const noSender = `{"recipient":{"id":"${PAGE_A}"},"timestamp":1727251200000,"message":{"mid":"m_orphan","text":"x"}}`;
    const body = webhookBody(
      entry(PAGE_A, [EVENTS.text, noSender, EVENTS.read]),
      entry(PAGE_B, [EVENTS.standbyText]),
    );
    const { events, rejected } = parsed(body);
    expect(events.map((e) => e.pageId)).toEqual([PAGE_A, PAGE_A, PAGE_B]);
    expect(rejected).toEqual([{ entryIndex: 0, eventIndex: 1, field: 'messaging', reason: 'no_user_id' }]);
  });

  it.each([
    ['a string', '"hello"', 'event_not_object'],
    ['null', 'null', 'event_not_object'],
    ['an array', '[]', 'event_not_object'],
    [
      'no timestamp anywhere',
      `{"sender":{"id":"${USER_A1}"},"recipient":{"id":"${PAGE_A}"},"read":{}}`,
      'no_timestamp',
    ],
    [
      'a string timestamp',
      `{"sender":{"id":"${USER_A1}"},"recipient":{"id":"${PAGE_A}"},"timestamp":"1727251200000","read":{}}`,
      'no_timestamp',
    ],
    ['no ids at all', '{"timestamp":1727251200000,"read":{"watermark":1}}', 'no_page_id'],
    [
      'an empty sender id',
      `{"sender":{"id":""},"recipient":{"id":"${PAGE_A}"},"timestamp":1,"read":{}}`,
      'no_user_id',
    ],
    [
      'a sender id over 16,384 characters',
      `{"sender":{"id":"${'7'.repeat(16_385)}"},"recipient":{"id":"${PAGE_A}"},"timestamp":1,"read":{}}`,
      'id_too_long',
    ],
    [
      'a page id over 16,384 characters',
      `{"sender":{"id":"${USER_A1}"},"recipient":{"id":"${'1'.repeat(16_385)}"},"timestamp":1,"read":{}}`,
      'id_too_long',
    ],
    [
      'a mid over 16,384 characters',
      `{"sender":{"id":"${USER_A1}"},"recipient":{"id":"${PAGE_A}"},"timestamp":1,"message":{"mid":"m_${'x'.repeat(16_383)}"}}`,
      'id_too_long',
    ],
    [
      'absurd nesting',
      `{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1,"x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      'too_deep',
    ],
  ])('rejects an event that is %s', (_name, event, reason) => {
    const body = `{"object":"page","entry":[{"messaging":[${event},${EVENTS.text}]}]}`;
    const { events, rejected } = parsed(body);
    expect(rejected).toEqual([{ entryIndex: 0, eventIndex: 0, field: 'messaging', reason }]);
    expect(events.map((e) => e.eventId)).toEqual([MID.text]);
  });

  it('takes ids of up to 1,000 characters', () => {
    const event = `{"sender":{"id":"${'7'.repeat(1000)}"},"recipient":{"id":"${PAGE_A}"},"timestamp":1,"message":{"mid":"m_${'x'.repeat(998)}"}}`;
    expect(only(singleEventBody(event))).toMatchObject({
      userId: '7'.repeat(1000),
      eventId: `m_${'x'.repeat(998)}`,
    });
  });

  it('rejects bad entries and keeps the good ones', () => {
    const body = `{"object":"page","entry":[42,{"id":"${PAGE_A}","time":1},{"id":"${PAGE_A}","messaging":{}},${entry(PAGE_B, [EVENTS.standbyText], { field: 'standby' })}]}`;
    const { events, rejected } = parsed(body);
    expect(events.map((e) => e.userId)).toEqual([USER_B1]);
    expect(rejected).toEqual([
      { entryIndex: 0, reason: 'entry_not_object' },
      { entryIndex: 1, reason: 'no_events' },
      { entryIndex: 2, field: 'messaging', reason: 'not_an_array' },
    ]);
  });

  it('puts no event content in a rejection', () => {
    const secretText = `{"sender":{"id":""},"recipient":{"id":"${PAGE_A}"},"timestamp":1,"message":{"mid":"m_1","text":"my card is 4111"}}`;
    expect(JSON.stringify(parsed(singleEventBody(secretText)).rejected)).not.toContain('4111');
  });

  it('never throws, whatever the body', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        parseWebhook(text);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        parseWebhook(JSON.stringify(value));
        parseWebhook(JSON.stringify({ object: 'page', entry: [value] }));
        parseWebhook(
          JSON.stringify({ object: 'page', entry: [{ id: '1', messaging: [value], standby: value }] }),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary events, and whatever it queues can be sent', () => {
    const id = fc.oneof(fc.string(), fc.integer(), fc.constant(null));
    const event = fc.record(
      {
        sender: fc.oneof(fc.record({ id }, { requiredKeys: [] }), fc.jsonValue()),
        recipient: fc.oneof(fc.record({ id, user_ref: fc.string() }, { requiredKeys: [] }), fc.jsonValue()),
        timestamp: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
        message: fc.oneof(fc.record({ mid: fc.oneof(fc.string(), fc.jsonValue()) }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(event), id, (events, pageId) => {
        const result = parsed(
          JSON.stringify({ object: 'page', entry: [{ id: pageId, time: 1, messaging: events }] }),
        );
        for (const e of result.events) {
          const message = toQueueMessage(e);
          expect(message.groupId).toMatch(SQS_ID);
          expect(message.dedupId).toMatch(SQS_ID);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('event ids and queue messages', () => {
  it("writes the envelope around an event's raw text as JSON.stringify writes it, for any ids and timestamp", () => {
    const ids = ['1001', 'a"b', 'c\\d', 'x\uffffy', '\ud800', 'é', ' ', ''];
    const times = [1_700_000_000_000, -0, 1e21, 0.5, Number.NaN, Number.POSITIVE_INFINITY];
    for (const id of ids)
      for (const timestamp of times) {
        const e: QueuedEvent = {
          v: 1,
          pageId: id,
          userId: `u${id}`,
          eventId: `m${id}`,
          timestamp,
          standby: true,
          event: { a: id },
        };
        expect(toQueueMessageWithText(e, JSON.stringify(e.event)).body).toBe(toQueueMessage(e).body);
      }
  });

  it('uses the message or postback mid as the dedup id', () => {
    const text = only(singleEventBody(EVENTS.text));
    const message = toQueueMessage(text);
    expect(message).toEqual({ groupId: `${PAGE_A}:${USER_A1}`, dedupId: MID.text, body: expect.any(String) });
    expect(JSON.parse(message.body)).toEqual(text);
    expect(only(singleEventBody(EVENTS.postback)).eventId).toBe(MID.postback);
  });

  it('never takes a reaction, delivery or edit mid as the event id: they name other messages', () => {
    for (const name of ['react', 'unreact', 'delivery', 'edit'] as const) {
      const id = only(singleEventBody(EVENTS[name])).eventId;
      expect(id).toMatch(/^h:[0-9a-f]{64}$/);
      expect(id).not.toBe(MID.echo);
      expect(id).not.toBe(MID.edited);
    }
  });

  it('hashes mid-less events stably, and differently per event', () => {
    const first = only(singleEventBody(EVENTS.read)).eventId;
    expect(only(singleEventBody(EVENTS.read)).eventId).toBe(first);
    expect(only(singleEventBody(EVENTS.read, PAGE_A, 'standby')).eventId).toBe(first);
    const ids = (
      ['read', 'delivery', 'deliveryNoMids', 'react', 'unreact', 'referral', 'optin', 'appRoles'] as const
    ).map((name) => only(singleEventBody(EVENTS[name])).eventId);
    expect(new Set(ids).size).toBe(ids.length);
    const laterRead = EVENTS.read.replace('1727251201923', '1727251201924');
    expect(only(singleEventBody(laterRead)).eventId).not.toBe(first);
  });

  it('hashes an empty mid like a missing one', () => {
    const event = `{"sender":{"id":"${USER_A1}"},"recipient":{"id":"${PAGE_A}"},"timestamp":1,"message":{"mid":"","text":"x"}}`;
    expect(only(singleEventBody(event)).eventId).toMatch(/^h:/);
  });

  it('hashes over-long or odd-character ids into at most 128 allowed characters, deterministically', () => {
    const base = only(singleEventBody(EVENTS.text));
    const cases = [
      { ...base, eventId: `m_${'A'.repeat(200)}` },
      { ...base, eventId: 'm_with space' },
      { ...base, eventId: 'm_ñandú' },
      { ...base, userId: 'ref:guest\u0000\t' },
      { ...base, pageId: '9'.repeat(100), userId: '8'.repeat(100) },
    ];
    for (const e of cases) {
      const message = toQueueMessage(e);
      expect(message.groupId).toMatch(SQS_ID);
      expect(message.dedupId).toMatch(SQS_ID);
      expect(toQueueMessage(e)).toEqual(message);
    }
    expect(toQueueMessage(first(cases, 'cases')).dedupId).toMatch(/^[0-9a-f]{64}$/);
    expect(toQueueMessage(first(cases, 'cases')).dedupId).not.toBe(
      toQueueMessage(at(cases, 1, 'cases')).dedupId,
    );
    expect(toQueueMessage(at(cases, 4, 'cases')).groupId).toMatch(/^[0-9a-f]{64}$/);
    const exactly128 = { ...base, eventId: `m_${'B'.repeat(126)}` };
    expect(toQueueMessage(exactly128).dedupId).toBe(exactly128.eventId);
  });

  it('keeps ids that are already valid, punctuation included', () => {
    const e = {
      ...only(singleEventBody(EVENTS.text)),
      eventId: `h:${'0'.repeat(64)}`,
      userId: 'ref:a!"#$%&\'()*+,-./[]^_`{|}~',
    };
    expect(toQueueMessage(e).dedupId).toBe(e.eventId);
    expect(toQueueMessage(e).groupId).toBe(`${PAGE_A}:${e.userId}`);
  });

  it('carries the queued event as the body', () => {
    const e = only(singleEventBody(EVENTS.image));
    expect(JSON.parse(toQueueMessage(e).body)).toEqual(e);
  });
});
