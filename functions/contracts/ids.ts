import * as z from 'zod/mini';

/**
 * What may stand in a Graph API path: a Facebook object id. Page ids, Instagram account ids, PSIDs
 * and IGSIDs are all decimal digit strings (15–17 digits today; 32 leaves room and stays far from
 * anything else). Anything else taken from a webhook or a URL — `..`, `me`, `a/b`, `%2e%2e`, `?x=1`,
 * a checkbox opt-in's `ref:…` user ref — would name another Graph object than the one meant (`..`
 * resolves to `GET /` with a page token, `me` to the token's own page), so it never reaches a path.
 */
export const GraphId = z.string().check(z.regex(/^[0-9]{1,32}$/, 'not a Facebook id (1 to 32 digits)'));

export function isGraphId(value: unknown): value is string {
  return GraphId.safeParse(value).success;
}
