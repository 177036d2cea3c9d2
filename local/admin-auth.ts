import { sameSecret } from '#runtime/constant-time';

/**
 * `Authorization: Bearer <token>` of the local admin API (on AWS, IAM stands here). The scheme is
 * case-insensitive (RFC 9110 §11.1: `bearer`, `BEARER` are the same scheme) and may be followed by more
 * than one space; the token is compared in constant time, its length included (runtime/constant-time.ts).
 */
export function bearerMatches(given: string | undefined, token: string): boolean {
  const match = /^bearer +(.+)$/i.exec(given ?? '');
  return match !== null && token !== '' && sameSecret(match[1] as string, token);
}
