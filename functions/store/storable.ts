/**
 * What DynamoDB can hold, checked before anything is written, so a value it would refuse fails as a
 * PoisonError (deterministic: quarantined) instead of a retried write, and never half-way through an
 * event. Limits from the DynamoDB developer guide ("Service, account, and table quotas").
 */
import { createHash } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import { checkBlobKey } from '#ports/ports';
import { PoisonError } from '#runtime/poison-error';
import { documentClientConfig, GSI1_PK, GSI1_SK, PK, SK, TSK } from './table.js';

/** An item, attribute names and values, may not exceed 400 KB. */
export const DYNAMO_ITEM_LIMIT = 400 * 1024;
const PARTITION_KEY_LIMIT = 2048;
const SORT_KEY_LIMIT = 1024;
const KEY_LIMITS: Record<string, number> = {
  [PK]: PARTITION_KEY_LIMIT,
  [GSI1_PK]: PARTITION_KEY_LIMIT,
  [SK]: SORT_KEY_LIMIT,
  [TSK]: SORT_KEY_LIMIT,
  [GSI1_SK]: SORT_KEY_LIMIT,
};

/**
 * Throws a PoisonError unless the lib-dynamodb marshalling takes `values` (it refuses, for instance,
 * numbers beyond Number.MAX_SAFE_INTEGER and objects whose `constructor` key is not a function).
 *
 * The document client marshals every write anyway, so this does not marshal a second time: a walk that
 * allocates nothing accepts what marshalling surely takes (strings, booleans, null, finite numbers
 * within ±2^53, arrays, plain objects; undefined, which the client removes), and only a value it does
 * not know (a Set, a Buffer, an unsafe number, an own `constructor` or `__proto__` key, …) is put to
 * the marshaller itself, which decides. Same verdict as marshalling (tests/unit/storable.test.ts).
 */
export function assertMarshallable(values: Record<string, unknown> | undefined): void {
  if (!values || isPlainStorable(values)) return;
  try {
    marshall(values, documentClientConfig.marshallOptions);
  } catch (error) {
    throw new PoisonError('UnstorableValue', (error as Error).message, { cause: error });
  }
}

/** True when marshalling surely takes `value` as it is; false means "ask the marshaller". */
function isPlainStorable(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER;
    case 'object':
      if (value === null) return true;
      if (Array.isArray(value)) return value.every(isPlainStorable);
      return isPlainObject(value) && Object.values(value).every(isPlainStorable);
    default:
      return false;
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return !Object.hasOwn(value, 'constructor') && !Object.hasOwn(value, '__proto__');
}

/** Throws a PoisonError when a key attribute of `record` is longer than DynamoDB allows. */
export function assertKeySizes(record: Record<string, unknown>): void {
  for (const [name, limit] of Object.entries(KEY_LIMITS)) {
    const value = record[name];
    if (typeof value === 'string' && Buffer.byteLength(value, 'utf8') > limit) {
      throw new PoisonError('KeyTooLarge', `the key attribute ${name} would exceed ${limit} bytes`);
    }
  }
}

/**
 * A string as a key part: itself when it is short and well-formed, else `sha256:` and its digest, so
 * keys built from ids Meta (or anyone) sent stay within DynamoDB's key sizes.
 */
export function keyPart(value: string, maxBytes = 256): string {
  if (
    !LONE_SURROGATE.test(value) &&
    Buffer.byteLength(value, 'utf8') <= maxBytes &&
    !value.startsWith('sha256:')
  ) {
    return value;
  }
  return `sha256:${sha256(value)}`;
}

/** Half of a surrogate pair without its other half: not text, and not UTF-8 encodable. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Where a part of a stored record goes in the blob store: under `items/`, in a folder of its own record
 * (`scope`: the record's identity, hashed: ids never become paths) and named by its bytes' hash, so a
 * redelivery writes the same key again.
 */
export function itemBlobKey(scope: readonly string[], bytes: Buffer): string {
  return checkBlobKey(`items/${sha256(JSON.stringify(scope))}/${sha256(bytes)}.json`);
}

/**
 * An upper bound of the size DynamoDB counts for an item: UTF-8 lengths of names and strings, a byte
 * per two digits of a number and three more, 1 byte for a boolean or null, 3 bytes plus 1 per element
 * for a list or map.
 */
export function itemSize(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value !== undefined) size += Buffer.byteLength(name, 'utf8') + valueSize(value);
  }
  return size;
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return numberSize(value);
  if (typeof value === 'boolean' || value === null) return 1;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) {
    return value.reduce<number>((sum, element) => sum + 1 + valueSize(element), 3);
  }
  if (value instanceof Set) return [...value].reduce<number>((sum, element) => sum + valueSize(element), 3);
  if (typeof value === 'object') {
    let size = 3;
    for (const [name, element] of Object.entries(value as Record<string, unknown>)) {
      if (element !== undefined) size += 1 + Buffer.byteLength(name, 'utf8') + valueSize(element);
    }
    return size;
  }
  return 0;
}

/**
 * About one byte per two significant digits plus one (AWS's rule of thumb); plus two more for the
 * exponent's parity and the sign, as measured (and as dynalite computes it).
 */
function numberSize(n: number): number {
  const digits = String(Math.abs(n))
    .replace(/e.*$/i, '')
    .replace(/[^0-9]/g, '')
    .replace(/^0+/, '');
  return Math.ceil(digits.length / 2) + 3;
}
