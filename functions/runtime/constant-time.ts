import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented secret with the expected one without leaking, by timing, how much matched or how
 * long the expected one is: both sides are hashed first, so a wrong length takes as long as a wrong byte.
 */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
