/**
 * The verifier queues each event's own text from the body (ingest/event-slices.ts) instead of
 * stringifying the parsed event again. Property: for arbitrary Meta-style bodies (`\/` escapes,
 * `\u00e4` escapes, raw U+FFFF, lone surrogates, exponent numbers, duplicate and escaped keys, random
 * whitespace, deep nesting, events that are not objects) every message carries the same ids as the
 * stringified one and JSON.parse of its body gives the same QueuedEvent the contract parser read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventSlices } from '#ingest/event-slices';
import { parseWebhook, toQueueMessage, toQueueMessageWithText } from '#ingest/parse-webhook';

/** A JSON value the serializer below writes; `dup` keys are written twice (JSON.parse keeps the last). */
type Tree = null | boolean | number | string | Tree[] | { [key: string]: Tree };

const chars = fc.oneof(
  fc.constantFrom(
    '/',
    '"',
    '\\',
    '\u00e4',
    '\uffff',
    '\ufffe',
    '\ud800',
    '\udc00',
    '\n',
    '\u2028',
    '😀',
    'a',
    ' ',
  ),
  fc.string({ unit: 'binary', maxLength: 1 }),
);
const text = fc.string({ unit: chars, maxLength: 12 });
const id = fc.oneof(fc.stringMatching(/^[0-9]{1,17}$/), fc.integer({ min: 1, max: 2 ** 40 }));
const number = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(-0));

const anyJson: fc.Arbitrary<Tree> = fc.letrec<{ v: Tree }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(text, tie('v'), { maxKeys: 3 }),
  ),
})).v;

const event: fc.Arbitrary<Tree> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        sender: fc.record({ id }, { requiredKeys: [] }),
        recipient: fc.record({ id }),
        timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), number),
        message: fc.record({ mid: text, text, is_echo: fc.boolean(), nlp: anyJson }, { requiredKeys: [] }),
        postback: fc.record({ mid: text, payload: text }, { requiredKeys: [] }),
        extra: anyJson,
      },
      { requiredKeys: ['recipient'] },
    ) as fc.Arbitrary<Tree>,
  },
  { weight: 1, arbitrary: anyJson },
);

const entry: fc.Arbitrary<Tree> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        id,
        time: fc.integer({ min: 0, max: 2 ** 45 }),
        messaging: fc.oneof({ weight: 6, arbitrary: fc.array(event, { maxLength: 4 }) }, anyJson),
        standby: fc.array(event, { maxLength: 2 }),
        changes: anyJson,
      },
      { requiredKeys: ['messaging'] },
    ) as fc.Arbitrary<Tree>,
  },
  { weight: 1, arbitrary: anyJson },
);

const body = fc.record({ object: fc.constant('page'), entry: fc.array(entry, { maxLength: 4 }) });

/** How the serializer writes: a stream of choices, so fast-check can shrink them too. */
const style = fc.array(fc.nat({ max: 99 }), { minLength: 1, maxLength: 64 });

/** Writes `value` as Meta might: optional escapes, whitespace, exponent numbers, repeated keys. */
function write(value: Tree, choices: number[]): string {
  let n = 0;
  const pick = () => choices[n++ % choices.length] ?? 0;
  const space = () => [' ', '', '\n  ', '\t', '\r\n', '', ''][pick() % 7];
  const hex = (code: number) => `\\u${code.toString(16).padStart(4, '0')}`;
  const str = (s: string) => {
    let out = '"';
    for (const c of s) {
      const code = c.charCodeAt(0);
      if (c === '"' || c === '\\') out += `\\${c}`;
      else if (c === '/') out += pick() % 2 ? '\\/' : '/';
      // Control characters must be escaped; anything else beyond ASCII may be (lone surrogates written
      // raw become U+FFFD in UTF-8, for both parsers alike).
      else if (code < 0x20 || (code > 0x7e && pick() % 2))
        out += Array.from({ length: c.length }, (_, i) => hex(c.charCodeAt(i))).join('');
      else out += c;
    }
    return `${out}"`;
  };
  const key = (k: string) =>
    pick() % 11 === 0 && /^[a-z]{2,}$/.test(k)
      ? `"${k[0]}\\u00${k.charCodeAt(1).toString(16)}${k.slice(2)}"`
      : str(k);
  const num = (x: number) => {
    if (Object.is(x, -0)) return '-0';
    const p = pick() % 9;
    if (p === 0 && Number.isFinite(x)) return x.toExponential();
    if (p === 1) return '1e400';
    if (p === 2 && Number.isSafeInteger(x)) return `${x}.0`;
    return JSON.stringify(x);
  };
  const go = (v: Tree): string => {
    if (v === null || typeof v === 'boolean') return String(v);
    if (typeof v === 'number') return num(v);
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) return `[${space()}${v.map((x) => go(x) + space()).join(`,${space()}`)}]`;
    const parts = Object.entries(v).map(([k, x]) => {
      const dup = pick() % 13 === 0 ? `${key(k)}:${space()}${go(null)},${space()}` : '';
      return `${dup}${key(k)}${space()}:${space()}${go(x)}`;
    });
    return `{${space()}${parts.join(`,${space()}`)}${space()}}`;
  };
  return go(value);
}

describe('event-slices: raw event text queued in place of the stringified event', () => {
  it('every queued message reads back as the event the contract parser read, ids unchanged', () => {
    let rawBodies = 0;
    fc.assert(
      fc.property(body, style, (value, choices) => {
        const raw = Buffer.from(write(value as Tree, choices), 'utf8');
        const parsed = parseWebhook(raw);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.eventJson).toHaveLength(parsed.events.length);
        for (const [i, e] of parsed.events.entries()) {
          const queued = toQueueMessageWithText(e, parsed.eventJson[i]);
          // Without the raw text: the message JSON.stringify writes, as before.
          const stringified = toQueueMessage(e);
          expect(queued.groupId).toBe(stringified.groupId);
          expect(queued.dedupId).toBe(stringified.dedupId);
          expect(queued.body).not.toMatch(/[\uFFFE\uFFFF]/);
          expect(JSON.stringify(JSON.parse(queued.body))).toBe(JSON.stringify(JSON.parse(stringified.body)));
          expect(JSON.parse(queued.body)).toEqual(JSON.parse(stringified.body));
          // The envelope written by hand around the raw text is JSON.stringify's, byte for byte.
          expect(toQueueMessageWithText(e, JSON.stringify(e.event)).body).toBe(stringified.body);
          if (queued.body !== stringified.body) rawBodies++;
        }
      }),
      { numRuns: 400 },
    );
    // The property says something only if raw text was really queued.
    expect(rawBodies).toBeGreaterThan(100);
  });

  it('slices every event of a plain body; is unsure of a repeated or escaped key', () => {
    const events = [{ a: 1 }, { b: 'x\\"]}' }, 3];
    const plain = JSON.stringify({ object: 'page', entry: [{ id: '1', messaging: events }, 7] });
    const slices = eventSlices(plain);
    expect(slices?.[0]?.messaging?.map(([s, e]) => JSON.parse(plain.slice(s, e)))).toEqual(events);
    expect(slices?.[1]).toBeUndefined();
    expect(eventSlices('{"entry":[],"entry":[{"messaging":[1]}]}')).toBeUndefined();
    expect(eventSlices('{"entry":[{"messaging":[1],"messaging":[2]}]}')).toBeUndefined();
    expect(eventSlices('{"entr\\u0079":[{"messaging":[1]}]}')).toBeUndefined();
    expect(eventSlices('{"entry":[{"m\\u0065ssaging":[1]}]}')).toBeUndefined();
  });
});
