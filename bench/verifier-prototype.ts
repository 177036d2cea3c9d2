/**
 * A prototype of a faster verifier hot path, kept in bench/ to measure proposals before anyone touches
 * functions/. Same contract as functions/ingest/verify-webhook.ts (same answers, same group and dedup
 * ids, queue bodies that JSON.parse to the same QueuedEvent), three changes:
 *
 * 1. Queue bodies are built from the raw bytes of each event (a string-aware scanner finds where each
 *    `messaging[]`/`standby[]` element starts and ends) instead of `JSON.stringify` of the parsed event;
 *    any body the scanner is not sure about falls back to `JSON.stringify`.
 * 2. SQS id checks test `/^[!-~]+$/` and the length apart instead of `/^[!-~]{1,128}$/`, and ids need
 *    no `JSON.stringify` when they hold no character JSON escapes.
 * 3. Metrics are plain counters flushed as one EMF line per invocation, and the Lambda wrapper is a plain
 *    function (no middy): Powertools' stores read `process.env` on every access (envUtils
 *    `shouldUseInvokeStore`), which is most of the per-request overhead at 1 event.
 *
 * `createFastVerifier`'s options switch (1) and the counters of (3) off, to measure each change alone.
 *
 * `checkEquivalent` proves (1) and (2) against the production code on the bench bodies.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { QueueMessage } from '#contracts/queue';
import { parseWebhook, toQueueMessage } from '#ingest/parse-webhook';
import { verifySignature } from '#ingest/signature';
import { MAX_BODY_BYTES } from '#ingest/verify-webhook';
import type { AppCredentialsSource, EventQueue } from '#ports/ports';
import { withInvocationBudget } from '#runtime/deadline';
import { type HttpEvent, type HttpResult, header, rawBody, text } from '#runtime/http';
import { count, logger, metrics } from '#runtime/observability';

type Json = Record<string, unknown>;

const MAX_DEPTH = 32;

// ---- counters instead of Powertools Metrics on the hot path --------------------------------------------

/** Counts of the current invocation; flushed once, as one EMF line, by `thinLambda`. */
const pending = new Map<string, number>();

export function countPlain(name: string, value = 1): void {
  if (value > 0) pending.set(name, (pending.get(name) ?? 0) + value);
}

const METRICS_DISABLED = process.env.POWERTOOLS_METRICS_DISABLED === 'true';
const NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Pagewire';
const SERVICE = process.env.POWERTOOLS_SERVICE_NAME ?? 'pagewire';

/** The EMF line Powertools would print (one namespace, dimension `service`, unit Count). */
export function emfLine(counts: Map<string, number>, now = Date.now()): string {
  const metrics = [...counts.keys()].map((Name) => ({ Name, Unit: 'Count' }));
  const doc: Json = {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [{ Namespace: NAMESPACE, Dimensions: [['service']], Metrics: metrics }],
    },
    service: SERVICE,
  };
  for (const [name, value] of counts) doc[name] = value;
  return JSON.stringify(doc);
}

function flushCounts(): void {
  // Counts made through Powertools (the `plainCounters: false` variant) are flushed as lambda() does.
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  if (pending.size === 0) return;
  if (!METRICS_DISABLED) process.stdout.write(`${emfLine(pending)}\n`);
  pending.clear();
}

/**
 * What `lambda()` does (time budget, logger context, metrics flush) without middy: the logger gets
 * the context, the counters are flushed after the handler, even when it throws.
 */
export function thinLambda<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return async (event: E, context: Context): Promise<R> => {
    logger.addContext(context);
    try {
      return await withInvocationBudget(context.getRemainingTimeInMillis?.(), () => fn(event, context));
    } finally {
      flushCounts();
      logger.resetKeys();
    }
  };
}

// ---- the verifier ----------------------------------------------------------------------------------------

export interface FastVerifierDeps {
  queue: EventQueue;
  credentials: AppCredentialsSource;
}

export interface FastVerifierOptions {
  /** Queue bodies from the raw bytes (true) or `JSON.stringify` of the parsed event, as production does. */
  rawBodies?: boolean;
  /** Plain counters flushed once (true) or Powertools `addMetric` per count, as production does. */
  plainCounters?: boolean;
}

/**
 * createVerifier's POST path (only POST: the bench sends nothing else) with the changes above, each of
 * which can be switched off to measure the others alone.
 */
export function createFastVerifier(deps: FastVerifierDeps, opts: FastVerifierOptions = {}) {
  const fastCount = opts.plainCounters === false ? count : countPlain;
  const parseToMessages = opts.rawBodies === false ? parseStringified : parseRaw;
  return async (event: HttpEvent): Promise<HttpResult> => {
    if (event.requestContext?.http?.method !== 'POST') return text(405, 'Method Not Allowed');
    fastCount('WebhooksReceived');
    const body = rawBody(event);
    if (body.length > MAX_BODY_BYTES) {
      fastCount('WebhooksRefused');
      return text(413, 'Payload Too Large');
    }
    const appSecret = (await deps.credentials.get())?.appSecret;
    if (!verifySignature(body, header(event, 'x-hub-signature-256'), appSecret)) {
      fastCount('WebhooksRefused');
      logger.warn('webhook signature missing or invalid', { bytes: body.length });
      return text(401, 'Unauthorized');
    }
    const parsed = parseToMessages(body.toString('utf8'));
    if (!parsed.ok) {
      fastCount('WebhooksRefused');
      logger.warn('webhook body refused', { reason: parsed.reason });
      return text(400, parsed.message);
    }
    for (const r of parsed.rejected) logger.warn('malformed webhook event skipped', { ...r });
    fastCount('MalformedEvents', parsed.rejected.length);
    try {
      await deps.queue.send(parsed.messages);
    } catch (err) {
      logger.error('events could not be queued; Facebook will retry', { error: err as Error });
      fastCount('QueueFailures');
      return text(500, 'Internal Server Error');
    }
    fastCount('EventsQueued', parsed.messages.length);
    return text(200, 'EVENT_RECEIVED');
  };
}

// ---- parsing straight to queue messages -------------------------------------------------------------------

interface Rejected {
  entryIndex: number;
  eventIndex?: number;
  field?: 'messaging' | 'standby';
  reason: string;
}

type Parsed =
  | { ok: true; messages: QueueMessage[]; rejected: Rejected[] }
  | { ok: false; reason: string; message: string };

const FIELDS = ['messaging', 'standby'] as const;

/** Production's parse, for the variant that keeps `JSON.stringify` bodies. */
function parseStringified(textBody: string): Parsed {
  const parsed = parseWebhook(textBody);
  if (!parsed.ok) return parsed;
  return { ok: true, messages: parsed.events.map(toQueueMessage), rejected: parsed.rejected };
}

/** parseWebhook + toQueueMessage in one pass, the queue body's `event` copied from the raw text. */
export function parseRaw(textBody: string): Parsed {
  let body: unknown;
  try {
    body = JSON.parse(textBody);
  } catch {
    return { ok: false, reason: 'invalid_json', message: 'body is not JSON' };
  }
  if (!isObject(body) || body.object !== 'page') {
    return { ok: false, reason: 'not_page', message: 'object is not "page"' };
  }
  if (!Array.isArray(body.entry)) {
    return { ok: false, reason: 'invalid_envelope', message: 'entry is not an array' };
  }
  const slices = eventSlices(textBody);
  const messages: QueueMessage[] = [];
  const rejected: Rejected[] = [];
  const entries = body.entry as unknown[];
  for (let entryIndex = 0; entryIndex < entries.length; entryIndex++) {
    const entry = entries[entryIndex];
    if (!isObject(entry)) {
      rejected.push({ entryIndex, reason: 'entry_not_object' });
      continue;
    }
    if (entry.messaging === undefined && entry.standby === undefined) {
      rejected.push({ entryIndex, reason: 'no_events' });
      continue;
    }
    for (const field of FIELDS) {
      const list = entry[field];
      if (list === undefined) continue;
      if (!Array.isArray(list)) {
        rejected.push({ entryIndex, field, reason: 'not_an_array' });
        continue;
      }
      const raw = slices?.[entryIndex]?.[field];
      const rawOk = raw !== undefined && raw.length === list.length;
      for (let eventIndex = 0; eventIndex < list.length; eventIndex++) {
        const event = list[eventIndex];
        const span = rawOk ? raw[eventIndex] : undefined;
        const source = span ? textBody.slice(span[0], span[1]) : undefined;
        const result = readEvent(entry, event, field === 'standby', source);
        if (typeof result === 'string') rejected.push({ entryIndex, eventIndex, field, reason: result });
        else messages.push(result);
      }
    }
  }
  return { ok: true, messages, rejected };
}

function readEvent(entry: Json, event: unknown, standby: boolean, source: string | undefined) {
  if (!isObject(event)) return 'event_not_object';
  if (tooDeep(event, MAX_DEPTH)) return 'too_deep';
  const pageId = idOf(entry.id) ?? fallbackPageId(event);
  if (pageId === undefined) return 'no_page_id';
  const userId = otherParty(event, pageId);
  if (userId === undefined) return 'no_user_id';
  const timestamp = finite(event.timestamp) ?? finite(entry.time);
  if (timestamp === undefined) return 'no_timestamp';
  const eventId = midOf(event.message) ?? midOf(event.postback) ?? `h:${sha256(JSON.stringify(event))}`;
  const eventJson = source ?? JSON.stringify(event);
  return {
    groupId: sqsId(`${pageId}:${userId}`),
    dedupId: sqsId(eventId),
    body: `{"v":1,"pageId":${jsonString(pageId)},"userId":${jsonString(userId)},"eventId":${jsonString(eventId)},"timestamp":${JSON.stringify(timestamp)},"standby":${standby},"event":${eventJson}}`,
  };
}

/** No quote, backslash, control character or surrogate: the string is its own JSON between quotes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what it looks for.
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function jsonString(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

function fallbackPageId(event: Json): string | undefined {
  const echo = isObject(event.message) && event.message.is_echo === true;
  const page = echo ? event.sender : event.recipient;
  return isObject(page) ? idOf(page.id) : undefined;
}

function otherParty(event: Json, pageId: string): string | undefined {
  const sender = partyKey(event.sender);
  const other = sender === pageId ? partyKey(event.recipient) : sender;
  if (other !== undefined) return other;
  if (isObject(event.optin)) return userRef(event.optin.user_ref);
  if (isObject(event.app_roles)) return pageId;
  return undefined;
}

function partyKey(party: unknown): string | undefined {
  return isObject(party) ? (idOf(party.id) ?? userRef(party.user_ref)) : undefined;
}

function userRef(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? `ref:${value}` : undefined;
}

function midOf(value: unknown): string | undefined {
  return isObject(value) && typeof value.mid === 'string' && value.mid !== '' ? value.mid : undefined;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function tooDeep(value: unknown, depthLeft: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depthLeft === 0) return true;
  for (const key in value) {
    if (tooDeep((value as Json)[key], depthLeft - 1)) return true;
  }
  return false;
}

/** 1–128 printable ASCII characters other than space; the length is checked apart (cheaper than `{1,128}`). */
const PRINTABLE = /^[!-~]+$/;

function isSqsId(value: string): boolean {
  return value.length <= 128 && PRINTABLE.test(value);
}

function sqsId(value: string): string {
  return isSqsId(value) ? value : sha256(value);
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- the scanner ---------------------------------------------------------------------------------------

type Slices = Array<{ messaging?: Array<[number, number]>; standby?: Array<[number, number]> } | undefined>;

class Unsure extends Error {}

/**
 * Where each element of `entry[i].messaging` and `entry[i].standby` starts and ends in the raw JSON
 * text, or undefined when the scanner cannot be sure (escaped or duplicate keys): then the caller
 * stringifies. Only called on text JSON.parse accepted, so it need not validate; strings are skipped
 * with indexOf, not char by char.
 */
export function eventSlices(s: string): Slices | undefined {
  try {
    let i = ws(s, 0);
    if (s.charCodeAt(i) !== 123 /* { */) return undefined;
    let result: Slices | undefined;
    i = objectKeys(s, i, (key, at) => {
      if (key !== 'entry') return skipValue(s, at);
      if (result) throw new Unsure();
      if (s.charCodeAt(at) !== 91 /* [ */) {
        result = [];
        return skipValue(s, at);
      }
      const entries: Slices = [];
      result = entries;
      return arrayItems(s, at, (start) => {
        if (s.charCodeAt(start) !== 123) {
          entries.push(undefined);
          return skipValue(s, start);
        }
        const found: NonNullable<Slices[number]> = {};
        entries.push(found);
        return objectKeys(s, start, (k, v) => {
          if (k !== 'messaging' && k !== 'standby') return skipValue(s, v);
          if (found[k]) throw new Unsure();
          if (s.charCodeAt(v) !== 91) return skipValue(s, v);
          const items: Array<[number, number]> = [];
          found[k] = items;
          return arrayItems(s, v, (itemStart) => {
            const end = skipValue(s, itemStart);
            items.push([itemStart, end]);
            return end;
          });
        });
      });
    });
    return result;
  } catch (err) {
    if (err instanceof Unsure) return undefined;
    throw err;
  }
}

function ws(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** Calls `onKey(key, valueStart)` for each key; it answers where the value ends. Answers the end. */
function objectKeys(s: string, i: number, onKey: (key: string, at: number) => number): number {
  i = ws(s, i + 1);
  if (s.charCodeAt(i) === 125 /* } */) return i + 1;
  for (;;) {
    const keyEnd = skipString(s, i);
    const key = s.slice(i + 1, keyEnd - 1);
    if (key.includes('\\')) throw new Unsure();
    i = ws(s, keyEnd);
    i = ws(s, i + 1); // the colon
    i = ws(s, onKey(key, i));
    const c = s.charCodeAt(i);
    if (c === 125) return i + 1;
    i = ws(s, i + 1); // the comma
  }
}

function arrayItems(s: string, i: number, onItem: (start: number) => number): number {
  i = ws(s, i + 1);
  if (s.charCodeAt(i) === 93 /* ] */) return i + 1;
  for (;;) {
    i = ws(s, onItem(i));
    if (s.charCodeAt(i) === 93) return i + 1;
    i = ws(s, i + 1);
  }
}

function skipString(s: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q < 0) throw new Unsure();
    let backslashes = 0;
    for (let k = q - 1; s.charCodeAt(k) === 92; k--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    j = q + 1;
  }
}

function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 34 /* " */) return skipString(s, i);
  if (c === 123 || c === 91) return skipComposite(s, i);
  // a number, true, false or null
  let j = i;
  for (;;) {
    const d = s.charCodeAt(j);
    if (d === 44 || d === 125 || d === 93 || d === 32 || d === 10 || d === 13 || d === 9 || Number.isNaN(d))
      return j;
    j++;
  }
}

/** Skips an object or array by counting brackets outside strings; strings are jumped with indexOf. */
function skipComposite(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) j = skipString(s, j) - 1;
    else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return j + 1;
  }
  throw new Unsure();
}

// ---- proof of equivalence -----------------------------------------------------------------------------------

/** Throws unless the prototype queues what production queues (ids equal, bodies JSON-equal). */
export function checkEquivalent(bodyText: string): void {
  const production = parseWebhook(bodyText);
  const prototype = parseRaw(bodyText);
  if (production.ok !== prototype.ok) throw new Error('prototype disagrees on acceptance');
  if (!production.ok || !prototype.ok) return;
  const expected = production.events.map(toQueueMessage);
  if (expected.length !== prototype.messages.length) throw new Error('prototype queues another count');
  expected.forEach((m, i) => {
    const got = prototype.messages[i];
    if (!got) throw new Error(`no message at ${i}`);
    if (m.groupId !== got.groupId || m.dedupId !== got.dedupId) throw new Error(`ids differ at ${i}`);
    const a = JSON.stringify(JSON.parse(m.body));
    const b = JSON.stringify(JSON.parse(got.body));
    if (!sameBytes(a, b)) throw new Error(`body differs at ${i}`);
  });
}

function sameBytes(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
