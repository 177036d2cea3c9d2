import { AssertionError } from 'node:assert';

/**
 * Reading one element of an array in a test, with `noUncheckedIndexedAccess` on: each throws an
 * assertion error naming `what` (and the length) instead of handing `undefined` to the next line.
 */

/** The first element: fails when the array is empty. */
export function first<T>(items: readonly T[], what: string): T {
  return at(items, 0, what);
}

/** The only element: fails unless the array holds exactly one. */
export function only<T>(items: readonly T[], what: string): T {
  if (items.length !== 1) fail(`expected exactly one ${what}, got ${items.length}`);
  return at(items, 0, what);
}

/** The element at `index` (negative counts from the end): fails when there is none. */
export function at<T>(items: readonly T[], index: number, what: string): T {
  const i = index < 0 ? items.length + index : index;
  if (i < 0 || i >= items.length) fail(`expected ${what} at index ${index}, got ${items.length} element(s)`);
  return items[i] as T;
}

/** The last element: fails when the array is empty. */
export function last<T>(items: readonly T[], what: string): T {
  return at(items, -1, what);
}

type Tuple<T, N extends number, R extends T[] = []> = R['length'] extends N ? R : Tuple<T, N, [...R, T]>;

/** The first `n` elements as a tuple (`const [a, b] = take(ids, 2, 'page id')`): fails when there are fewer. */
export function take<T, N extends number>(items: readonly T[], n: N, what: string): Tuple<T, N> {
  if (items.length < n) fail(`expected at least ${n} ${what}(s), got ${items.length}`);
  return items.slice(0, n) as Tuple<T, N>;
}

/** Each element with the one before it: `[a, b], [b, c]` for `[a, b, c]`. */
export function pairs<T>(items: readonly T[]): [T, T][] {
  return items.slice(1).map((item, i) => [at(items, i, 'previous element'), item]);
}

/** A value that must be there (a map entry, a regex group, a `find`): fails when it is undefined. */
export function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) fail(`expected ${what}, got undefined`);
  return value;
}

function fail(message: string): never {
  throw new AssertionError({ message });
}
