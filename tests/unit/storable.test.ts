/**
 * What DynamoDB can hold, checked before a write (storable.ts), and how items keep free-form parts and
 * oversize parts (item-codec.ts).
 */
import { createRequire } from 'node:module';
import { marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import type { TimelineItem } from '#contracts/conversation-records';
import { PoisonError } from '#runtime/poison-error';
import { decodeItem, encodeItem, fitItem, INLINE_ITEM_LIMIT, restoreParts } from '#store/item-codec';
import { assertKeySizes, assertMarshallable, itemSize, keyPart } from '#store/storable';

/** dynalite's own item size (DynamoDB's rules, strings counted in characters). */
const dynalite = createRequire(import.meta.url)('dynalite/db/index.js') as {
  itemSize(item: Record<string, unknown>): number;
};

const storable = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.integer(),
    // What the marshaller takes: below 2^53, and not so small that DynamoDB underflows.
    fc.double({ noNaN: true, min: -1e15, max: 1e15 }).filter((n) => n === 0 || Math.abs(n) > 1e-100),
    fc.boolean(),
    fc.constant(null),
    tie('list'),
    tie('map'),
  ),
  list: fc.array(tie('value'), { maxLength: 5 }),
  map: fc.dictionary(
    fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__'),
    tie('value'),
    {
      maxKeys: 5,
    },
  ),
}));

describe('itemSize', () => {
  it('never counts less than DynamoDB does (checked against dynalite, and UTF-8 bytes for strings)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__'),
          storable.value,
          {
            minKeys: 1,
            maxKeys: 6,
          },
        ),
        (item) => {
          const numbersOnly = JSON.parse(JSON.stringify(item)) as Record<string, unknown>;
          expect(itemSize(numbersOnly)).toBeGreaterThanOrEqual(
            dynalite.itemSize(marshall(numbersOnly, { removeUndefinedValues: true })),
          );
        },
      ),
      { numRuns: 300 },
    );
    expect(itemSize({ t: 'ñ'.repeat(10) })).toBe(1 + 20);
  });
});

describe('assertMarshallable and assertKeySizes', () => {
  it('turn what lib-dynamodb or DynamoDB would refuse into a PoisonError, before any write', () => {
    const poison = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        return error instanceof PoisonError ? error.reason : `not a PoisonError: ${String(error)}`;
      }
      return 'nothing thrown';
    };
    expect(poison(() => assertMarshallable({ a: JSON.parse('{"constructor":1}') }))).toBe('UnstorableValue');
    expect(poison(() => assertMarshallable({ ':ts': 1e300 }))).toBe('UnstorableValue');
    expect(poison(() => assertMarshallable({ a: 'ok', b: [1, { c: null }] }))).toBe('nothing thrown');
    expect(poison(() => assertKeySizes({ pk: 'p'.repeat(2048), sk: 's'.repeat(1024) }))).toBe(
      'nothing thrown',
    );
    expect(poison(() => assertKeySizes({ pk: 'p', sk: 'ñ'.repeat(513) }))).toBe('KeyTooLarge');
    expect(poison(() => assertKeySizes({ pk: 'p'.repeat(2049), sk: 's' }))).toBe('KeyTooLarge');
  });
});

describe('assertMarshallable without marshalling', () => {
  const verdict = (check: () => void) => {
    try {
      check();
      return 'takes';
    } catch (error) {
      return error instanceof PoisonError ? 'refuses' : `throws ${String(error)}`;
    }
  };
  const marshalls = (values: Record<string, unknown>) =>
    verdict(() => {
      try {
        marshall(values, { removeUndefinedValues: true });
      } catch (error) {
        throw new PoisonError('UnstorableValue', String(error));
      }
    });

  it('gives the marshaller’s verdict on anything (JSON, exotic objects, sets, maps, binaries, big numbers)', () => {
    const anything = fc.anything({
      maxDepth: 3,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      key: fc.oneof(fc.string(), fc.constantFrom('constructor', '__proto__', 'name')),
    });
    fc.assert(
      fc.property(fc.dictionary(fc.string(), anything, { maxKeys: 4 }), (values) => {
        expect(verdict(() => assertMarshallable(values))).toBe(marshalls(values));
      }),
      { numRuns: 2000 },
    );
    for (const odd of [
      JSON.parse('{"constructor":{"name":"Object"}}'),
      JSON.parse('{"__proto__":{"a":1}}'),
      JSON.parse('{"constructor":1}'),
      { constructor: 'x', a: 1 },
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 2,
      -1e300,
      Number.NaN,
      new Set<string>(),
      new Set([1, 2]),
      Buffer.from('x'),
      () => 1,
      Symbol('s'),
      new Date(0),
      Array(3),
    ]) {
      expect(verdict(() => assertMarshallable({ a: odd, b: [odd], c: { d: odd } }))).toBe(
        marshalls({ a: odd, b: [odd], c: { d: odd } }),
      );
    }
  });
});

describe('keyPart', () => {
  it('keeps short well-formed ids, digests the rest (long, lone surrogates, look-alikes of a digest)', () => {
    expect(keyPart('104127259063412')).toBe('104127259063412');
    expect(keyPart('m_abc#def')).toBe('m_abc#def');
    for (const odd of ['x'.repeat(257), 'a\ud800b', 'sha256:abc']) {
      expect(keyPart(odd)).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    expect(keyPart('x'.repeat(257))).not.toBe(keyPart('x'.repeat(258)));
  });
});

describe('item codec', () => {
  const item: TimelineItem = {
    pageId: 'p1',
    userId: 'u1',
    mid: 'm1',
    kind: 'message',
    direction: 'in',
    timestamp: 1,
    text: 'hola',
    attachments: [
      { type: 'image', url: 'https://x/a.jpg', payload: JSON.parse('{"__proto__":{"a":1},"":2}') },
    ],
    detail: { referral: JSON.parse('{"constructor":{"b":[1e300]}}') },
  };

  it('keeps free-form parts as JSON text, and reads them back as they were', () => {
    const encoded = encodeItem(item);
    expect(encoded.detailJson).toBe('{"referral":{"constructor":{"b":[1e+300]}}}');
    expect(encoded.attachments).toEqual([
      { type: 'image', url: 'https://x/a.jpg', payloadJson: '{"__proto__":{"a":1},"":2}' },
    ]);
    expect(() => assertMarshallable(encoded)).not.toThrow();
    const decoded = decodeItem(JSON.parse(JSON.stringify(encoded)));
    expect(decoded).toEqual(item);
    expect(JSON.stringify(decoded.attachments?.[0]?.payload)).toBe('{"__proto__":{"a":1},"":2}');
    expect(JSON.stringify(decoded.detail)).toBe(JSON.stringify(item.detail));
  });

  it('reads items stored before the codec (maps) as they were', () => {
    const legacy = {
      ...item,
      attachments: [{ type: 'image', url: 'u', payload: { template_type: 'generic' } }],
      detail: { referral: { ref: 'r' } },
    };
    expect(decodeItem({ ...legacy })).toEqual(legacy);
  });

  it('moves the largest parts of an oversize item to the blob store, content-addressed, and restores them', async () => {
    const blobs = new MemoryBlobStore();
    const big: Record<string, unknown> = {
      ...encodeItem({ ...item, text: 't'.repeat(INLINE_ITEM_LIMIT) }),
      pk: 'CONV#p1#u1',
      sk: 'ITEM#m1',
    };

    const fitted = await fitItem(big, item, blobs);

    expect(fitted.text).toBeUndefined();
    expect(fitted.attachments).toEqual(big.attachments); // small parts stay
    expect(itemSize(fitted)).toBeLessThan(INLINE_ITEM_LIMIT);
    expect(fitted.overflow).toMatchObject({ parts: ['text'], key: expect.stringMatching(/^items\//) });
    expect(await fitItem(big, item, blobs)).toEqual(fitted); // a retry: same key, same bytes
    expect(blobs.blobs.size).toBe(1);
    expect(await restoreParts(fitted, blobs)).toEqual({ ...big, overflow: fitted.overflow });
    expect(await fitItem({ ...big, text: 'small' }, item, undefined)).toEqual({ ...big, text: 'small' });
    await expect(fitItem(big, item, undefined)).rejects.toThrow(/no blob store/);
  });
});
