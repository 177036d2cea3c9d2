/**
 * Where each event of a webhook body starts and ends in its raw JSON text, so the verifier can queue
 * an event's own bytes instead of `JSON.stringify`-ing the parsed event again (at 100 events per POST
 * that was the larger half of the verifier's CPU). The text is the same the verifier parsed, so
 * `JSON.parse` of a slice gives back the same event (tests/unit/event-slices.property.test.ts).
 */

/** [start, end) of each element of one event list, in the order of the list. */
export type Slices = Array<[number, number]>;

/** Per `entry[]` element: the slices of its `messaging[]` and `standby[]`, where they are arrays. */
export type EntrySlices = Array<{ messaging?: Slices; standby?: Slices } | undefined>;

/** Thrown inside the scanner for text it will not vouch for; the caller then stringifies. */
class Unsure extends Error {}

/**
 * The event slices of a body JSON.parse accepted, or undefined when the scanner cannot be sure they
 * are what JSON.parse read: a key written with escapes (`"entr\u0079"`) or a key given twice (JSON.parse
 * keeps the last). Only for text JSON.parse accepted: it skips, it does not validate. Strings are
 * jumped with indexOf, not read character by character.
 */
export function eventSlices(s: string): EntrySlices | undefined {
  try {
    const start = ws(s, 0);
    if (s.charCodeAt(start) !== OPEN_OBJECT) return undefined;
    let result: EntrySlices | undefined;
    objectKeys(s, start, (key, at) => {
      if (key !== 'entry') return skipValue(s, at);
      if (result) throw new Unsure();
      result = [];
      return s.charCodeAt(at) === OPEN_ARRAY ? entryList(s, at, result) : skipValue(s, at);
    });
    return result;
  } catch (err) {
    if (err instanceof Unsure) return undefined;
    throw err;
  }
}

const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const QUOTE = 34;
const BACKSLASH = 92;

function entryList(s: string, at: number, entries: EntrySlices): number {
  return arrayItems(s, at, (start) => {
    if (s.charCodeAt(start) !== OPEN_OBJECT) {
      entries.push(undefined);
      return skipValue(s, start);
    }
    const found: NonNullable<EntrySlices[number]> = {};
    entries.push(found);
    return objectKeys(s, start, (key, value) => {
      if (key !== 'messaging' && key !== 'standby') return skipValue(s, value);
      if (found[key]) throw new Unsure();
      if (s.charCodeAt(value) !== OPEN_ARRAY) return skipValue(s, value);
      const items: Slices = [];
      found[key] = items;
      return arrayItems(s, value, (itemStart) => {
        const end = skipValue(s, itemStart);
        items.push([itemStart, end]);
        return end;
      });
    });
  });
}

/** JSON whitespace (JSON.parse takes no other). */
function ws(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** Calls `onKey(key, valueStart)` for each key; it answers where the value ends. Answers the end. */
function objectKeys(s: string, i: number, onKey: (key: string, at: number) => number): number {
  i = ws(s, i + 1);
  if (s.charCodeAt(i) === CLOSE_OBJECT) return i + 1;
  for (;;) {
    const keyEnd = skipString(s, i);
    const key = s.slice(i + 1, keyEnd - 1);
    if (key.includes('\\')) throw new Unsure();
    i = ws(s, keyEnd);
    i = ws(s, i + 1); // past the colon
    i = ws(s, onKey(key, i));
    if (s.charCodeAt(i) === CLOSE_OBJECT) return i + 1;
    i = ws(s, i + 1); // past the comma
  }
}

function arrayItems(s: string, i: number, onItem: (start: number) => number): number {
  i = ws(s, i + 1);
  if (s.charCodeAt(i) === CLOSE_ARRAY) return i + 1;
  for (;;) {
    i = ws(s, onItem(i));
    if (s.charCodeAt(i) === CLOSE_ARRAY) return i + 1;
    i = ws(s, i + 1);
  }
}

/** The index after the string starting at `i`: the next quote not escaped by an odd run of backslashes. */
function skipString(s: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const quote = s.indexOf('"', from);
    if (quote < 0) throw new Unsure();
    let backslashes = 0;
    for (let k = quote - 1; s.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) return skipComposite(s, i);
  // A number, true, false or null: runs to the next delimiter.
  let j = i;
  for (;;) {
    const d = s.charCodeAt(j);
    if (d === 44 || d === CLOSE_OBJECT || d === CLOSE_ARRAY || d === 32 || d === 10 || d === 13 || d === 9)
      return j;
    if (Number.isNaN(d)) return j;
    j++;
  }
}

/** Skips an object or array by counting brackets outside strings. */
function skipComposite(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === QUOTE) j = skipString(s, j) - 1;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) return j + 1;
  }
  throw new Unsure();
}
