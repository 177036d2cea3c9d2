import { createHmac, timingSafeEqual } from 'node:crypto';

/** `X-Hub-Signature-256` as Meta sends it: `sha256=` and 64 hex digits, either case. */
const HEADER_FORMAT = /^sha256=([0-9a-fA-F]{64})$/;

/** The `X-Hub-Signature-256` value for a body: `sha256=` + hex HMAC-SHA256 keyed by the app secret. */
export function signBody(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/**
 * True only when `header` is the HMAC-SHA256 of the exact raw body bytes, keyed by the app secret.
 * Fails closed: no secret, no header or a malformed header is false. Constant-time compare; the
 * expected digest never leaves this function.
 */
export function verifySignature(
  rawBody: Buffer,
  header: string | undefined,
  appSecret: string | undefined,
): boolean {
  if (typeof appSecret !== 'string' || appSecret === '' || typeof header !== 'string') return false;
  const hex = HEADER_FORMAT.exec(header)?.[1];
  if (hex === undefined) return false;
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}
