/**
 * Signed-size webhook bodies (each exactly 1 MiB, the most the verifier takes) whose events become
 * queue messages larger than SQS takes, because JSON.stringify writes them longer than Meta did: plain
 * overhead at the very limit, invalid UTF-8 bytes (1 byte → U+FFFD, 3 bytes), U+FFFF (3 bytes → a
 * 6-byte escape), numbers in exponent form (`1e20`, 4 bytes → 21 digits), and several large events
 * in one body. Each event's bulk sits in a field the processor does not store (`message.nlp`), so
 * what is stored stays inside DynamoDB's 400 KB item limit; the text carries a sample of the same
 * bytes, so the stored text shows they were read back right.
 */
import { MAX_BODY_BYTES } from '#ingest/verify-webhook';

export interface OversizeCase {
  name: string;
  body: Buffer;
  pageId: string;
  /** The events of the body: who wrote, their mid and the text the processor should store. */
  events: Array<{ userId: string; mid: string; timestamp: number; text: string }>;
}

const TIME = 1_727_251_200_000;
const b = (text: string) => Buffer.from(text, 'utf8');

/** `{"sender":…,"message":{"mid","text":<text bytes>,"nlp":<nlp bytes>}}` */
function messageEvent(
  pageId: string,
  userId: string,
  mid: string,
  timestamp: number,
  text: Buffer,
  nlp: Buffer,
) {
  return Buffer.concat([
    b(`{"sender":{"id":"${userId}"},"recipient":{"id":"${pageId}"},"timestamp":${timestamp},`),
    b(`"message":{"mid":"${mid}","text":"`),
    text,
    b('","nlp":'),
    nlp,
    b('}}'),
  ]);
}

function webhook(pageId: string, events: Buffer[]): Buffer {
  return Buffer.concat([
    b(`{"object":"page","entry":[{"id":"${pageId}","time":${TIME},"messaging":[`),
    ...events.flatMap((e, i) => (i === 0 ? [e] : [b(','), e])),
    b(']}]}'),
  ]);
}

/** A JSON string value of `size` bytes: `"` + the unit repeated (then `y`s to the exact size) + `"`. */
function stringOf(unit: Buffer, size: number): Buffer {
  const room = size - 2;
  const count = Math.floor(room / unit.length);
  return Buffer.concat([
    b('"'),
    Buffer.alloc(count * unit.length, unit),
    b('y'.repeat(room - count * unit.length)),
    b('"'),
  ]);
}

/**
 * A JSON array of `size` bytes of 5-byte numbers in exponent form (`1e20` is written back as 21 digits,
 * `1e-6` as `0.000001`, `5E+9` as `5000000000`), closed by one number of the remaining length.
 */
function numbersOf(size: number, forms = ['1e20,', '9E20,', '1e-6,', '5E+9,']): Buffer {
  const count = Math.floor((size - 3) / 5);
  const items = Array.from({ length: count }, (_, i) => forms[i % forms.length]).join('');
  const last = size - 2 - items.length; // at least 1
  return b(`[${items}${'1'.padEnd(last, '0')}]`);
}

/** One message event whose `nlp` is sized so the whole body is exactly `total` bytes. */
function oneEventCase(
  name: string,
  pageId: string,
  userId: string,
  text: Buffer,
  nlpOf: (size: number) => Buffer,
  total = MAX_BODY_BYTES,
): OversizeCase {
  const mid = `m_${name.replace(/[^a-z0-9]+/gi, '_')}_AYs3b5v9Xq2kqYdF0sQ8y1K7tQz2Lw7lS9vN3dJYhbW9v4fB9rQe0u6Jm1o4pQ0`;
  const timestamp = TIME + 1;
  const without = webhook(pageId, [messageEvent(pageId, userId, mid, timestamp, text, b('0'))]).length - 1;
  const body = webhook(pageId, [messageEvent(pageId, userId, mid, timestamp, text, nlpOf(total - without))]);
  if (body.length !== total) throw new Error(`${name}: ${body.length} bytes, not ${total}`);
  return { name, body, pageId, events: [{ userId, mid, timestamp, text: text.toString('utf8') }] };
}

export function oversizeCases(pageId: string, userId: string): OversizeCase[] {
  const invalid = Buffer.from([0xff]);
  const ffff = b('\uffff');
  return [
    oneEventCase('exactly 1 MiB, plain ASCII', pageId, userId, b('x'.repeat(300_000)), (n) =>
      stringOf(b('y'), n),
    ),
    oneEventCase(
      'invalid UTF-8 bytes',
      pageId,
      userId,
      Buffer.concat([b('caf'), Buffer.from([0xe9]), b(' ok '), Buffer.from([0xc0, 0x80, 0xff])]),
      (n) => stringOf(invalid, n),
    ),
    oneEventCase('U+FFFF-heavy text', pageId, userId, b('a\uffff'.repeat(20_000)), (n) => stringOf(ffff, n)),
    oneEventCase('numbers in exponent form', pageId, userId, b('Order 1e20'), numbersOf),
    severalLargeEvents(pageId, userId),
  ];
}

/** Four events of 240 KB of `1e20`-style numbers each (each a message over 1 MiB) among six small ones. */
function severalLargeEvents(pageId: string, userId: string): OversizeCase {
  const events: OversizeCase['events'] = [];
  const raw: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    const large = i % 4 === 0;
    const mid = `m_several_${i}_AYs3b5v9Xq2kqYdF0sQ8y1K7tQz2Lw7lS9vN3dJYhbW9v4fB9rQe0u6Jm1o4pQ0`;
    const timestamp = TIME + 100 + i;
    const text = `part ${i}`;
    raw.push(
      messageEvent(
        pageId,
        userId,
        mid,
        timestamp,
        b(text),
        large ? numbersOf(300_000, ['1e20,', '9E20,']) : b('{}'),
      ),
    );
    events.push({ userId, mid, timestamp, text });
  }
  const body = webhook(pageId, raw);
  if (body.length > MAX_BODY_BYTES) throw new Error(`several large events: ${body.length} bytes`);
  return { name: 'several large events in one body', body, pageId, events };
}
