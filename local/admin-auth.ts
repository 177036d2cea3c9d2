import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * `Authorization: Bearer <token>` of the local admin API (on AWS, IAM stands here). The scheme is
 * case-insensitive (RFC 9110 §11.1: `bearer`, `BEARER` are the same scheme) and may be followed by more
 * than one space; the token is compared in constant time, its length included (both sides are hashed
 * first, so a wrong length takes as long as a wrong byte).
 */
export function bearerMatches(given: string | undefined, token: string): boolean {
  const match = /^bearer +(.+)$/i.exec(given ?? '');
  if (!match || !token) return false;
  return timingSafeEqual(digest(match[1]), digest(token));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
