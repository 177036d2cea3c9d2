import { createHash, randomBytes } from 'node:crypto';
import { LINK_SEAL_PREFIX } from '#contracts/connect-link';
import { sameSecret } from '#runtime/constant-time';

/** 32 random bytes, base64url: a link's state, or a picker form's CSRF token. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

const STATE = /^[A-Za-z0-9_-]{43}$/;

/** True for something shaped like a state: anything else is refused before any read. */
export function isState(value: string | undefined): value is string {
  return typeof value === 'string' && STATE.test(value);
}

/**
 * The link id: SHA-256 of the state, base64url. The table, the admin API and the logs know the link
 * by it; the state itself is stored nowhere, so reading the table never yields a usable link.
 */
export function linkIdOf(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** The context a link's user token is sealed under (the sealer's `pageId` slot): bound to that link. */
export function linkSealContext(linkId: string): string {
  return `${LINK_SEAL_PREFIX}${linkId}`;
}

/**
 * The picker's CSRF check (double submit, bound to the link): the form field and the cookie must be
 * the same token, and that token must be the one the callback stored (as a hash) on this link.
 * Compared in constant time.
 */
export function csrfMatches(
  field: string | undefined,
  cookie: string | undefined,
  storedHash?: string,
): boolean {
  if (!field || !cookie || !storedHash) return false;
  const same = sameSecret(field, cookie);
  const bound = sameSecret(sha256Hex(field), storedHash);
  return same && bound;
}
