/**
 * The verifier under bad input, thousands of cases each (fast-check): random and mutated bodies,
 * signatures, encodings (the `isBase64Encoded` flag), sizes and headers, through the deployed wrapper
 * (`lambda()`: middy, Powertools, time budget). Whatever comes in: no 5xx, nothing accepted or queued
 * without a valid signature over the exact bytes, nothing queued from a refused request, and what is
 * queued fits SQS FIFO (ids, sizes).
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import type { QueueMessage } from '#contracts/queue';
import { CLAIM_CHECK_ABOVE_BYTES } from '#ingest/claim-check';
import { parseWebhook, toQueueMessage } from '#ingest/parse-webhook';
import { readQueueBody } from '#ingest/read-queued-event';
import { signBody } from '#ingest/signature';
import { createVerifier, MAX_BODY_BYTES } from '#ingest/verify-webhook';
import { lambdaContext } from '#local/lambda-context';
import { lambda } from '#runtime/lambda';
import { httpEvent } from '#testkit/http-events';
import { at, first } from '#testkit/pick';
import { metaJson } from '#testkit/webhooks';

const SECRET = 'fuzz-app-secret-5a1f';
const VERIFY_TOKEN = 'fuzz-verify-token';
const SQS_ID = /^[!-~]{1,128}$/;
/** What SQS accepts in a message body (W3C XML Char), U+FFFE and U+FFFF aside: see the last test. */
const SQS_BODY = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

function world() {
  const queued: QueueMessage[] = [];
  const blobs = new MemoryBlobStore();
  const handler = lambda(
    createVerifier({
      queue: { send: async (messages) => void queued.push(...messages) },
      credentials: { get: async () => ({ appId: '1', appSecret: SECRET, verifyToken: VERIFY_TOKEN }) },
      blobs,
    }),
  );
  const call = async (event: ReturnType<typeof httpEvent>) => {
    queued.length = 0;
    const res = await handler(event, lambdaContext('pagewire-verifier', 10_000));
    return { status: res.statusCode ?? 0, body: String(res.body ?? ''), queued: [...queued] };
  };
  return { call, blobs };
}

const { call, blobs } = world();

/** The bytes API Gateway hands over, as the verifier must read them. */
function bytesOf(body: string | undefined, base64: boolean): Buffer {
  return Buffer.from(body ?? '', base64 ? 'base64' : 'utf8');
}

/** An independent check of the signature: one `x-hub-signature-256` header (any case), exact bytes. */
function validlySigned(headers: Record<string, string>, bytes: Buffer): boolean {
  const values = Object.entries(headers).filter(([k]) => k.toLowerCase() === 'x-hub-signature-256');
  if (values.length !== 1) return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(first(values, 'signature header')[1]);
  return (
    !!m &&
    at(m, 1, 'signature hex').toLowerCase() === createHmac('sha256', SECRET).update(bytes).digest('hex')
  );
}

/** The invariants every answer keeps, whatever the input (`post`: 200 means accepted, not a handshake). */
function checkAnswer(
  res: Awaited<ReturnType<typeof call>>,
  signedOk: boolean,
  bytes: Buffer,
  post = true,
): void {
  expect(res.status).toBeGreaterThanOrEqual(200);
  expect(res.status).toBeLessThan(500);
  if (res.status !== 200) expect(res.queued).toEqual([]);
  if (res.queued.length > 0 || (post && res.status === 200)) expect(signedOk).toBe(true);
  // The expected digest is never echoed.
  expect(res.body).not.toContain(createHmac('sha256', SECRET).update(bytes).digest('hex'));
  for (const m of res.queued) {
    expect(m.groupId).toMatch(SQS_ID);
    expect(m.dedupId).toMatch(SQS_ID);
    // Larger events travel as claim checks: no message comes near SQS's 1 MiB.
    expect(Buffer.byteLength(m.body)).toBeLessThanOrEqual(CLAIM_CHECK_ABOVE_BYTES);
    const q = JSON.parse(m.body);
    expect(q).toMatchObject({ v: 1, pageId: expect.any(String), userId: expect.any(String) });
    if ('claim' in q) expect(q.claim).toMatch(/^claims\/[0-9a-f]{64}\.json$/);
    else expect(typeof q.event).toBe('object');
    expect(m.body.replace(/[\ufffe\uffff]/g, '')).toMatch(SQS_BODY);
  }
}

// ---- arbitraries ---------------------------------------------------------------------------------------

const id = fc.oneof(
  fc.stringMatching(/^[1-9][0-9]{5,17}$/),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  fc.string({ maxLength: 140, unit: 'binary' }),
  fc.constant(''),
);
const text = fc.string({ maxLength: 200, unit: 'binary' });
const event = fc.oneof(
  fc.record(
    {
      sender: fc.record({ id }),
      recipient: fc.record({ id }),
      timestamp: fc.oneof(fc.integer(), fc.double(), fc.string()),
      message: fc.record(
        { mid: fc.oneof(text, fc.string({ minLength: 120, maxLength: 300 })), text, is_echo: fc.boolean() },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  ),
  fc.record({
    sender: fc.record({ id }),
    recipient: fc.record({ id }),
    timestamp: fc.integer({ min: 0 }),
    delivery: fc.record({ watermark: fc.integer(), mids: fc.array(text, { maxLength: 3 }) }),
  }),
  fc.record({ recipient: fc.record({ id }), optin: fc.record({ user_ref: text }), timestamp: fc.integer() }),
  fc.jsonValue({ maxDepth: 4 }),
  fc.letrec((tie) => ({ deep: fc.oneof({ depthSize: 'large' }, fc.constant(1), fc.tuple(tie('deep'))) }))
    .deep,
);
const entry = fc.record(
  {
    id,
    time: fc.oneof(fc.integer(), fc.constant(Number.NaN)),
    messaging: fc.oneof(fc.array(event, { maxLength: 4 }), fc.jsonValue({ maxDepth: 2 })),
    standby: fc.array(event, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
/** Webhook-shaped JSON, mostly well-formed, sometimes not at all. */
const webhookValue = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ object: fc.constant('page'), entry: fc.array(entry, { maxLength: 5 }) }),
  },
  { weight: 1, arbitrary: fc.record({ object: fc.string(), entry: fc.array(entry, { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
/** Serialised the way Meta does (`\/`, `\u00e1`) or plainly. */
const webhookText = fc
  .tuple(webhookValue, fc.boolean())
  .map(([value, meta]) => (meta ? metaJson(value) : (JSON.stringify(value) ?? 'null')));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), tail: fc.constantFrom(' ', '\n', '\u0000', '}', 'x') }),
  fc.record({ kind: fc.constant('reserialise' as const) }),
);

function mutate(
  bytes: Buffer,
  m: { kind: string; at?: number; bit?: number; byte?: number; tail?: string },
): Buffer {
  const at = bytes.length ? Number(m.at ?? 0) % bytes.length : 0;
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(bytes);
      if (out.length) out.writeUInt8(out.readUInt8(at) ^ (1 << Number(m.bit)), at);
      return out;
    }
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([Number(m.byte)]), bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    case 'truncate':
      return bytes.subarray(0, at);
    case 'append':
      return Buffer.concat([bytes, Buffer.from(String(m.tail))]);
    default:
      // What a framework that parses and re-serialises the body does: `\/` and `\u00e1` escapes are gone.
      try {
        return Buffer.from(JSON.stringify(JSON.parse(bytes.toString('utf8'))));
      } catch {
        return bytes;
      }
  }
}

const signatureHeader = (bytes: Buffer) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(signBody(bytes, SECRET)) },
    { weight: 1, arbitrary: fc.constant(signBody(bytes, SECRET).toUpperCase()) },
    {
      weight: 1,
      arbitrary: fc.constant(
        `sha256=${createHmac('sha256', SECRET).update(bytes).digest('hex').toUpperCase()}`,
      ),
    },
    { weight: 1, arbitrary: fc.constant(signBody(bytes, 'another-secret')) },
    { weight: 1, arbitrary: fc.constant(`sha1=${createHmac('sha1', SECRET).update(bytes).digest('hex')}`) },
    { weight: 1, arbitrary: fc.constant(` ${signBody(bytes, SECRET)}`) },
    { weight: 1, arbitrary: fc.constant(`${signBody(bytes, SECRET)},${signBody(bytes, SECRET)}`) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map((b) => `sha256=${Buffer.from(b).toString('hex')}`),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 80, unit: 'binary' }) },
  );

const headerName = fc.constantFrom(
  'x-hub-signature-256',
  'X-Hub-Signature-256',
  'X-HUB-SIGNATURE-256',
  'x-hub-signature',
  'x-hub-signature-256 ',
);

// ---- properties -----------------------------------------------------------------------------------------

describe('verifier under fuzzed input', () => {
  it('random bytes with random signatures and encodings: no 5xx, nothing queued unsigned', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          webhookText.map((t) => new Uint8Array(Buffer.from(t))),
        ),
        fc.boolean(),
        fc.option(fc.string({ maxLength: 80, unit: 'binary' }), { nil: undefined }),
        headerName,
        async (raw, base64, header, name) => {
          const bytes = Buffer.from(raw);
          const headers: Record<string, string> = header === undefined ? {} : { [name]: header };
          const event = httpEvent('POST', '/webhooks/facebook', { body: bytes, base64, headers });
          const res = await call(event);
          checkAnswer(res, validlySigned(headers, bytesOf(event.body, base64)), bytesOf(event.body, base64));
          expect(res.status).toBe(401);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('validly signed webhook-shaped JSON: never 5xx, and what is queued fits SQS FIFO', async () => {
    await fc.assert(
      fc.asyncProperty(webhookText, fc.boolean(), async (body, base64) => {
        const bytes = Buffer.from(body);
        const headers = { 'x-hub-signature-256': signBody(bytes, SECRET) };
        const res = await call(httpEvent('POST', '/webhooks/facebook', { body: bytes, base64, headers }));
        checkAnswer(res, true, bytes);
        expect([200, 400]).toContain(res.status);
        const value = JSON.parse(body);
        const pageShaped =
          typeof value === 'object' &&
          value !== null &&
          value.object === 'page' &&
          Array.isArray(value.entry);
        expect(res.status === 200).toBe(pageShaped);
      }),
      { numRuns: 3_000 },
    );
  });

  it('mutated signed bodies keep their old signature: every change is refused, nothing queued', async () => {
    await fc.assert(
      fc.asyncProperty(webhookText, mutation, fc.boolean(), async (body, m, base64) => {
        const original = Buffer.from(body);
        const mutated = mutate(original, m);
        const headers = { 'x-hub-signature-256': signBody(original, SECRET) };
        const res = await call(httpEvent('POST', '/webhooks/facebook', { body: mutated, base64, headers }));
        checkAnswer(res, mutated.equals(original), mutated);
        if (!mutated.equals(original)) expect(res).toMatchObject({ status: 401, queued: [] });
      }),
      { numRuns: 2_000 },
    );
  });

  it('signature header variants and encodings: only the exact HMAC of the exact bytes passes', async () => {
    await fc.assert(
      fc.asyncProperty(
        webhookText.chain((body) => {
          const bytes = Buffer.from(body);
          return fc.tuple(
            fc.constant(bytes),
            signatureHeader(bytes),
            headerName,
            fc.constantFrom('base64', 'utf8', 'base64-as-text'),
          );
        }),
        async ([bytes, signature, name, encoding]) => {
          const headers = { [name]: signature };
          const event =
            encoding === 'base64-as-text'
              ? // The base64 text handed over as if it were the body itself: other bytes, refused.
                httpEvent('POST', '/webhooks/facebook', {
                  body: bytes.toString('base64'),
                  base64: false,
                  headers,
                })
              : httpEvent('POST', '/webhooks/facebook', {
                  body: bytes,
                  base64: encoding === 'base64',
                  headers,
                });
          const seen = bytesOf(event.body, event.isBase64Encoded);
          const res = await call(event);
          checkAnswer(res, validlySigned(headers, seen), seen);
          if (!validlySigned(headers, seen)) expect(res.status).toBe(401);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  // A body of at most 1 MiB can hold events whose queue messages are larger: JSON.stringify writes an
  // invalid UTF-8 byte as 3 bytes, U+FFFF as a 6-byte escape, 1e20 as 21 digits. Whatever it holds, every
  // event is queued (large ones as claim checks) and reads back as parsed.
  it('signed bodies up to 1 MiB that grow when re-serialised: 200, every event queued and readable', async () => {
    const unit = fc.constantFrom(
      Buffer.from([0xff]),
      Buffer.from([0xc0, 0x80]),
      Buffer.from('\uffff'),
      Buffer.from('\ufffe'),
      Buffer.from('x'),
      Buffer.from('é'),
    );
    const part = fc.oneof(
      fc.record({ kind: fc.constant('string' as const), unit, count: fc.integer({ min: 1, max: 400_000 }) }),
      fc.record({
        kind: fc.constant('numbers' as const),
        form: fc.constantFrom('1e20', '9E20', '1e-6', '5E+9', '-1e20', '1E2'),
        count: fc.integer({ min: 1, max: 200_000 }),
      }),
    );
    let largest = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(part, { minLength: 1, maxLength: 6 }), async (parts) => {
        const events = parts.map((p, i) => {
          const bulk =
            p.kind === 'string'
              ? Buffer.concat([
                  Buffer.from('"'),
                  Buffer.alloc(p.unit.length * p.count, p.unit),
                  Buffer.from('"'),
                ])
              : Buffer.from(`[${Array(p.count).fill(p.form).join(',')}]`);
          return Buffer.concat([
            Buffer.from(`{"sender":{"id":"${7000 + (i % 2)}"},"recipient":{"id":"1"},"timestamp":${i},`),
            Buffer.from(`"message":{"mid":"m_fuzz_${i}","text":"t${i}","nlp":`),
            bulk,
            Buffer.from('}}'),
          ]);
        });
        const body = Buffer.concat([
          Buffer.from('{"object":"page","entry":[{"id":"1","time":1,"messaging":['),
          ...events.flatMap((e, i) => (i ? [Buffer.from(','), e] : [e])),
          Buffer.from(']}]}'),
        ]);
        fc.pre(body.length <= MAX_BODY_BYTES);
        const headers = { 'x-hub-signature-256': signBody(body, SECRET) };
        const res = await call(httpEvent('POST', '/webhooks/facebook', { body, base64: true, headers }));
        checkAnswer(res, true, body);
        expect(res.status).toBe(200);
        const parsed = parseWebhook(body);
        if (!parsed.ok) throw new Error('fixture refused');
        const read = await Promise.all(res.queued.map((m) => readQueueBody(m.body, blobs)));
        expect(read).toEqual(parsed.events);
        for (const e of parsed.events) largest = Math.max(largest, Buffer.byteLength(toQueueMessage(e).body));
      }),
      { numRuns: 25 },
    );
    // The runs did meet events whose plain queue message SQS would refuse.
    expect(largest).toBeGreaterThan(1_048_576);
  });

  it('sizes around the 1 MiB limit: 413 above it whatever the signature, nothing queued', async () => {
    const prefix = '{"object":"page","entry":[],"pad":"';
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: MAX_BODY_BYTES - 2, max: MAX_BODY_BYTES + 2 }),
        fc.boolean(),
        fc.boolean(),
        async (size, signed, base64) => {
          const body = Buffer.from(`${prefix}${'a'.repeat(size - prefix.length - 2)}"}`);
          expect(body.length).toBe(size);
          const headers = { 'x-hub-signature-256': signed ? signBody(body, SECRET) : 'sha256=00' };
          const res = await call(httpEvent('POST', '/webhooks/facebook', { body, base64, headers }));
          checkAnswer(res, signed, body);
          if (size > MAX_BODY_BYTES) expect(res).toMatchObject({ status: 413, queued: [] });
          else expect(res.status).toBe(signed ? 200 : 401);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('odd requests: other methods, no body, no headers, the handshake with random tokens', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
        fc.dictionary(
          fc.constantFrom('hub.mode', 'hub.verify_token', 'hub.challenge', 'x'),
          fc.oneof(fc.constantFrom('subscribe', VERIFY_TOKEN), fc.string({ maxLength: 40, unit: 'binary' })),
        ),
        fc.boolean(),
        async (method, query, withBody) => {
          const event = httpEvent(method, '/webhooks/facebook', {
            query,
            body: withBody ? '{"object":"page","entry":[]}' : undefined,
          });
          if (!withBody) delete (event as { headers?: unknown }).headers;
          const res = await call(event);
          checkAnswer(res, false, bytesOf(event.body, event.isBase64Encoded), method === 'POST');
          const handshakeOk = query['hub.mode'] === 'subscribe' && query['hub.verify_token'] === VERIFY_TOKEN;
          if (method === 'GET') expect(res.status).toBe(handshakeOk ? 200 : 403);
          if (method === 'GET' && handshakeOk) expect(res.body).toBe(query['hub.challenge'] ?? '');
          if (method === 'POST') expect(res.status).toBe(401);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  // JSON.stringify leaves U+FFFE and U+FFFF raw, and SQS refuses message bodies holding them
  // (InvalidMessageContents): one person's message would make the verifier answer 500 to the whole POST.
  it('queues only characters SQS accepts, U+FFFE and U+FFFF included', async () => {
    const body = metaJson({
      object: 'page',
      entry: [
        {
          id: '1',
          time: 1,
          messaging: [
            {
              sender: { id: '2' },
              recipient: { id: '1' },
              timestamp: 1,
              message: { mid: 'm_1', text: 'a\uffffb' },
            },
          ],
        },
      ],
    });
    const res = await call(
      httpEvent('POST', '/webhooks/facebook', {
        body,
        headers: { 'x-hub-signature-256': signBody(body, SECRET) },
      }),
    );
    expect(res.status).toBe(200);
    for (const m of res.queued) expect(m.body).toMatch(SQS_BODY);
  });
});
