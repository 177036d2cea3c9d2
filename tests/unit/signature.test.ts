import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signBody, verifySignature } from '#ingest/signature';
import { EVENTS, MULTI_ENTRY_BODY, singleEventBody } from '#testkit/webhooks';

const SECRET = 'b7f3c2d94e1a6f0851c2a9d7e3b4f610';
const body = Buffer.from(singleEventBody(EVENTS.text));
const header = signBody(body, SECRET);

describe('signBody', () => {
  it('is sha256= and the hex HMAC of the bytes', () => {
    const hex = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(header).toBe(`sha256=${hex}`);
    expect(signBody(body.toString('utf8'), SECRET)).toBe(header);
  });
});

describe('verifySignature', () => {
  it('accepts the signature of the exact bytes Meta sent, escapes and all', () => {
    expect(body.includes('\\u00bf')).toBe(true);
    expect(body.includes('https:\\/\\/')).toBe(true);
    expect(verifySignature(body, header, SECRET)).toBe(true);
    const multi = Buffer.from(MULTI_ENTRY_BODY);
    expect(verifySignature(multi, signBody(multi, SECRET), SECRET)).toBe(true);
  });

  it('rejects a signature over re-serialised JSON: only the raw bytes count', () => {
    const reserialised = JSON.stringify(JSON.parse(body.toString('utf8')));
    expect(reserialised).toContain('https://example.com');
    expect(reserialised).toContain('¿Cuánto');
    expect(reserialised).not.toBe(body.toString('utf8'));
    expect(verifySignature(body, signBody(reserialised, SECRET), SECRET)).toBe(false);
    expect(verifySignature(Buffer.from(reserialised), header, SECRET)).toBe(false);
  });

  it('accepts upper-case hex', () => {
    expect(verifySignature(body, `sha256=${header.slice(7).toUpperCase()}`, SECRET)).toBe(true);
  });

  it('rejects a body with one byte changed', () => {
    const tampered = Buffer.from(body);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 5) ^ 0x01, tampered.length - 5);
    expect(verifySignature(tampered, header, SECRET)).toBe(false);
  });

  it('rejects the wrong secret', () => {
    expect(verifySignature(body, header, `${SECRET}x`)).toBe(false);
  });

  it('fails closed without a secret', () => {
    expect(verifySignature(body, header, undefined)).toBe(false);
    expect(verifySignature(body, header, '')).toBe(false);
    expect(verifySignature(body, signBody(body, ''), '')).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without prefix', header.slice(7)],
    ['with the SHA-1 prefix', `sha1=${header.slice(7)}`],
    ['with an upper-case prefix', `SHA256=${header.slice(7)}`],
    ['with short hex', header.slice(0, -2)],
    ['with long hex', `${header}00`],
    ['with non-hex characters', `${header.slice(0, -1)}g`],
    ['with surrounding space', ` ${header}`],
  ])('rejects a header %s', (_name, value) => {
    expect(verifySignature(body, value, SECRET)).toBe(false);
  });
});
