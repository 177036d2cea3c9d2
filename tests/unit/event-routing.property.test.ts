/**
 * The verifier routes events with `readRouting`, a hand-written twin of the zod `EventRouting` schema
 * (the contract: JSON Schema, docs). Property: on any input, valid events and every kind of damage
 * (fields missing, of the wrong type, null, arrays, numbers as ids, empty strings, extra keys, values
 * JSON cannot hold), both give the same verdict and the same routing values. If either is changed
 * without the other, this fails.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { EventRouting, readRouting } from '#contracts/webhook';

/** zod's verdict and values beside the twin's. */
function agree(input: unknown): void {
  const slow = z.safeParse(EventRouting, input);
  const fast = readRouting(input);
  expect(fast === undefined).toBe(!slow.success);
  // toEqual: a field zod leaves out and one the twin sets to undefined are the same routing.
  if (slow.success) expect(fast).toEqual(slow.data);
}

/** Anything a field might hold instead of what it should. */
const junk = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, 1, -1, 1e21, 2 ** 53, 1.5, '', ' ', '0', [], {}, [1], ['x']),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 4 }),
  fc.anything({ maxDepth: 2 }),
);

/** An id as Meta sends it (string or number), or something else. */
const idValue = fc.oneof(
  fc.stringMatching(/^[0-9]{1,17}$/),
  fc.integer({ min: 0, max: 2 ** 53 }),
  fc.double({ noNaN: true }),
  junk,
);
const text = fc.oneof(fc.string({ maxLength: 8 }), junk);

/** `field` holds a record of the given keys, or (sometimes) anything else. */
function maybe<T>(record: fc.Arbitrary<T>) {
  return fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: junk });
}

const party = maybe(fc.record({ id: idValue, user_ref: text, name: text }, { requiredKeys: [] }));

/** Meta-shaped events with any field missing, damaged or extra. */
const eventLike = fc.record(
  {
    sender: party,
    recipient: party,
    timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), junk),
    message: maybe(
      fc.record(
        {
          mid: text,
          text,
          is_echo: fc.oneof(fc.boolean(), junk),
          is_deleted: fc.oneof(fc.boolean(), junk),
          app_id: idValue,
        },
        { requiredKeys: [] },
      ),
    ),
    postback: maybe(fc.record({ mid: text, payload: text, title: text }, { requiredKeys: [] })),
    optin: maybe(fc.record({ user_ref: text, type: text }, { requiredKeys: [] })),
    app_roles: maybe(fc.dictionary(fc.string({ maxLength: 4 }), fc.array(fc.string(), { maxLength: 2 }))),
    reaction: maybe(fc.record({ mid: text, action: text })),
    delivery: junk,
    extra: fc.anything({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

/** What JSON.parse can answer: the verifier only ever sees these. */
const jsonValue = fc.jsonValue({ maxDepth: 3 }).map((v) => v as unknown);

describe('readRouting: the twin of EventRouting', () => {
  it('agrees with zod on Meta-shaped events, whole or damaged', () => {
    fc.assert(
      fc.property(eventLike, (input) => agree(input)),
      { numRuns: 3000 },
    );
  });

  it('agrees with zod on events as JSON carries them (text parsed back)', () => {
    const asJson = eventLike.map((input) => JSON.parse(JSON.stringify(input) ?? 'null') as unknown);
    fc.assert(
      fc.property(asJson, (input) => agree(input)),
      { numRuns: 1000 },
    );
  });

  it('agrees with zod on any JSON value and any JavaScript value', () => {
    fc.assert(
      fc.property(jsonValue, (input) => agree(input)),
      { numRuns: 1000 },
    );
    const anything = fc.anything({
      maxDepth: 3,
      withNullPrototype: true,
      withBoxedValues: true,
      withSparseArray: true,
      withObjectString: true,
    });
    fc.assert(
      fc.property(anything, (input) => agree(input)),
      { numRuns: 1000 },
    );
  });

  it.each([
    [
      'an inbound message',
      { sender: { id: '9' }, recipient: { id: '1' }, timestamp: 5, message: { mid: 'm' } },
    ],
    [
      'an echo with numeric ids',
      { sender: { id: 1 }, recipient: { id: 9 }, message: { mid: 'm', is_echo: true } },
    ],
    ['a chat-plugin sender', { sender: { user_ref: 'r' }, recipient: { id: '1' }, timestamp: 5 }],
    ['an opt-in', { recipient: { id: '1' }, optin: { user_ref: 'r' }, timestamp: 5 }],
    ['app_roles', { recipient: { id: '1' }, app_roles: { '123': ['primary_receiver'] } }],
    ['ids that are no ids', { sender: { id: '' }, recipient: { id: null }, timestamp: '5' }],
    ['kinds that are not objects', { message: [], postback: 'p', optin: null, app_roles: [] }],
    ['an empty object', {}],
    ['null', null],
    ['an array', [{ sender: { id: '9' } }]],
    ['a string', '{"sender":{"id":"9"}}'],
    ['a number', 7],
  ])('agrees on %s', (_, input) => agree(input));

  it('reads the routing the verifier needs', () => {
    expect(
      readRouting({
        sender: { id: 9001 },
        recipient: { id: '1001', extra: 1 },
        timestamp: 1_700_000_000_000,
        message: { mid: 'm_1', is_echo: 'yes', text: 'hi' },
        app_roles: { a: 1 },
      }),
    ).toEqual({
      sender: { id: '9001' },
      recipient: { id: '1001' },
      timestamp: 1_700_000_000_000,
      message: { mid: 'm_1' },
      app_roles: { a: 1 },
    });
    expect(readRouting([])).toBeUndefined();
  });
});
