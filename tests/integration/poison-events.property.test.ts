/**
 * Property (issue 8): arbitrary JSON in every free-form place of every event kind, mixed with good events
 * of the same conversation and with events that truly cannot be applied, through the real processor (the
 * real Powertools FIFO batch processor) against dynalite → every good event stored, no record reported
 * failed (so nothing would ever reach the dead letters), every event stored or quarantined, free-form
 * parts answered by the admin API exactly as they came.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { createAdminApi } from '#admin-api/routes';
import { adminDeps } from '#app/admin';
import { loadConfig } from '#app/config';
import { conversationGroupId } from '#contracts/queue';
import type { HttpResult } from '#runtime/http';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { httpEvent } from '#testkit/http-events';
import { first } from '#testkit/pick';
import {
  createProcessorWorld,
  type ProcessorWorld,
  queueMessagesOf,
  sqsEvent,
  sqsRecord,
} from '#testkit/processor-harness';
import { entry, PAGE_A, TIME, webhookBody } from '#testkit/webhooks';

let dynamo: TestDynamo;
let w: ProcessorWorld;
let admin: ReturnType<typeof createAdminApi>;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  w = await createProcessorWorld(dynamo);
  await w.seedPage(PAGE_A);
  const config = loadConfig({ TABLE_NAME: w.tableName });
  admin = createAdminApi(
    adminDeps(config, dynamo.doc, LocalKeyring.ephemeral(), new EnvCredentials({}), undefined, w.blobs),
  );
});
afterAll(async () => {
  await w?.stop();
  await dynamo?.stop();
});

// ---- arbitrary JSON ------------------------------------------------------------------------------------

/** Keys DynamoDB's marshalling or plain JS objects get wrong, and ordinary ones. */
const key = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '',
    'url',
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);

/** Huge strings are rare but present: they push items past DynamoDB's 400 KB. */
const text = fc.oneof(
  { weight: 20, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 5, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom('\ud800', 'a\udfffb', '\u0000\u001f', '\ufeff\ufffe') },
  { weight: 1, arbitrary: fc.integer({ min: 120_000, max: 450_000 }).map((n) => 'x'.repeat(n)) },
);

const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e300, -1e300, 5e-324, 2 ** 53 + 2, 1.2345678901234567e19, -0),
);

/** Objects built with Object.fromEntries: `__proto__` is an own key, as JSON.parse makes it. */
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('json'), { maxLength: 4 }),
  object: fc.array(fc.tuple(key, tie('json')), { maxLength: 5 }).map((pairs) => Object.fromEntries(pairs)),
}));

/** Nesting up to 24 levels (the verifier refuses events deeper than 32). */
const deep = fc.tuple(fc.integer({ min: 1, max: 24 }), json).map(([levels, leaf]) => {
  let value: unknown = leaf;
  for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { d: value };
  return value;
});

const free = fc.oneof({ weight: 6, arbitrary: json }, { weight: 1, arbitrary: deep });
const freeObject = fc
  .array(fc.tuple(key, free), { maxLength: 5 })
  .map((pairs) => Object.fromEntries(pairs) as Record<string, unknown>);
/** A free-form place: arbitrary JSON, or left out. */
const maybe = fc.option(free, { nil: undefined });

// ---- events --------------------------------------------------------------------------------------------

type Raw = Record<string, unknown>;
/**
 * One event of one kind, free-form places arbitrary: `fields` is its raw body (without sender, recipient,
 * timestamp); messages and postbacks get their mid, reactions their target, when it is sent.
 */
interface Junk {
  kind: string;
  /** Whether the kind makes a timeline item. */
  stores: boolean;
  standby: boolean;
  /** Reactions: to a stored message, or to one nobody has. */
  known?: boolean;
  fields: Raw;
}

const junk: fc.Arbitrary<Junk> = fc
  .oneof(
    fc
      .record({
        extra: freeObject,
        text: maybe,
        attachments: fc.array(
          fc.record({ type: maybe, payload: fc.oneof(freeObject, free), title: maybe, url: maybe }),
          { maxLength: 2 },
        ),
        quick_reply: maybe,
        reply_to: maybe,
        referral: fc.oneof(freeObject, free),
        echo: fc.option(fc.record({ app_id: maybe, metadata: maybe }), { nil: undefined }),
      })
      .map(({ extra, echo, ...m }) => ({
        kind: echo ? 'echo' : 'message',
        stores: true,
        standby: false,
        fields: { message: { ...extra, ...m, ...(echo ? { is_echo: true, ...echo } : {}) } },
      })),
    fc.record({ title: maybe, payload: maybe, referral: fc.oneof(freeObject, free) }).map((postback) => ({
      kind: 'postback',
      stores: true,
      standby: false,
      fields: { postback },
    })),
    fc
      .record({ action: maybe, reaction: maybe, emoji: maybe })
      .chain((reaction) =>
        fc
          .boolean()
          .map((known) => ({ kind: 'reaction', stores: false, standby: false, known, fields: { reaction } })),
      ),
    fc.record({ mids: maybe, watermark: maybe }).map((delivery) => ({
      kind: 'delivery',
      stores: false,
      standby: false,
      fields: { delivery },
    })),
    fc
      .record({ watermark: maybe })
      .map((read) => ({ kind: 'read', stores: false, standby: false, fields: { read } })),
    fc
      .record({ ref: maybe, source: maybe, type: maybe, ad_id: maybe, ads_context_data: maybe })
      .map((referral) => ({
        kind: 'referral',
        stores: true,
        standby: false,
        fields: { referral },
      })),
    fc
      .record({ type: maybe, payload: maybe, ref: maybe, notification_messages_token: maybe })
      .map((optin) => ({
        kind: 'optin',
        stores: true,
        standby: false,
        fields: { optin },
      })),
    fc
      .tuple(
        fc.constantFrom('pass_thread_control', 'take_thread_control', 'request_thread_control'),
        freeObject,
      )
      .map(([action, detail]) => ({
        kind: 'handover',
        stores: true,
        standby: false,
        fields: { [action]: detail },
      })),
  )
  .chain((j) => fc.boolean().map((standby) => ({ ...j, standby: standby && j.kind !== 'echo' })));

/** The raw body of a junk event: its own mid (messages, postbacks), its target (reactions). */
function bodyOf(j: Junk, mid: string, target: string): Raw {
  const { message, postback, reaction } = j.fields as Record<string, Raw | undefined>;
  if (message) return { message: { ...message, mid } };
  if (postback) return { postback: { ...postback, mid } };
  if (reaction) return { reaction: { ...reaction, mid: j.known ? target : 'm_not_there' } };
  return j.fields;
}

/** Events nothing can store: they must be quarantined, and their conversation go on. */
type Poison = 'longMid' | 'farTimestamp' | 'notJson';
const poison = fc.constantFrom<Poison>('longMid', 'farTimestamp', 'notJson');

type Planned = { good: true } | { good: false; junk: Junk } | { good: false; poison: Poison };
const plan = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constant<Planned>({ good: true }) },
    { weight: 4, arbitrary: junk.map<Planned>((j) => ({ good: false, junk: j })) },
    { weight: 1, arbitrary: poison.map<Planned>((p) => ({ good: false, poison: p })) },
  ),
  { minLength: 2, maxLength: 14 },
);

// ---- the property --------------------------------------------------------------------------------------

let conversations = 0;

interface Sent {
  planned: Planned;
  record: ReturnType<typeof sqsRecord>;
  eventId: string;
  raw?: Raw;
}

/** One conversation: its events as the verifier queues them (and poison put on the queue directly). */
function conversationOf(planned: Planned[]): { userId: string; sent: Sent[] } {
  const userId = `9${String(++conversations).padStart(15, '0')}`;
  let firstGood = '';
  const sent = planned.map((p, i): Sent => {
    const timestamp = TIME + i;
    const party = { sender: { id: userId }, recipient: { id: PAGE_A } };
    if (p.good) {
      const mid = `m_good_${userId}_${i}`;
      firstGood ||= mid;
      return queued(p, { ...party, timestamp, message: { mid, text: `good ${i}` } }, 'messaging');
    }
    if ('poison' in p) {
      if (p.poison === 'notJson') {
        const dedupId = `poison-${userId}-${i}`;
        const record = sqsRecord({
          groupId: conversationGroupId(PAGE_A, userId),
          dedupId,
          body: `{"v":1 ${i}`,
        });
        return { planned: p, record, eventId: dedupId };
      }
      const mid = p.poison === 'longMid' ? `m_${userId}_${i}_${'L'.repeat(1100)}` : `m_far_${userId}_${i}`;
      const at = p.poison === 'farTimestamp' ? 1e300 : timestamp;
      return queued(p, { ...party, timestamp: at, message: { mid, text: 'poison' } }, 'messaging');
    }
    const raw = { ...party, timestamp, ...bodyOf(p.junk, `m_junk_${userId}_${i}`, firstGood || 'm_none') };
    return queued(p, raw, p.junk.standby ? 'standby' : 'messaging');
  });
  return { userId, sent };
}

function queued(planned: Planned, raw: Raw, field: 'messaging' | 'standby'): Sent {
  // JSON text as Meta sends it: the verifier parses it, so own `__proto__` keys stay own keys.
  const message = first(
    queueMessagesOf(webhookBody(entry(PAGE_A, [JSON.stringify(raw)], { field }))),
    'queue message',
  );
  const record = sqsRecord(message);
  return { planned, record, eventId: JSON.parse(message.body).eventId, raw: JSON.parse(JSON.stringify(raw)) };
}

/** The value as it travels: JSON text (a -0 becomes 0, an undefined member disappears). */
const asSent = (value: unknown) => JSON.stringify(value);

// biome-ignore lint/suspicious/noExplicitAny: the admin answer is read field by field
async function messagesOf(userId: string): Promise<any[]> {
  const path = `/admin/pages/${PAGE_A}/conversations/${userId}/messages`;
  const res = (await admin(httpEvent('GET', path, { query: { limit: '1000' } }))) as HttpResult;
  expect(res.statusCode).toBe(200);
  return JSON.parse(res.body as string).messages;
}

describe('arbitrary JSON in every free-form place, mixed with good events of the same conversation', () => {
  it('stores every good event, fails no record, and stores or quarantines every event, as it came', async () => {
    await fc.assert(
      fc.asyncProperty(plan, async (planned) => {
        const { userId, sent } = conversationOf(planned);
        for (let i = 0; i < sent.length; i += 10) {
          const res = await w.run(sqsEvent(sent.slice(i, i + 10).map((s) => s.record)));
          expect(res.batchItemFailures).toEqual([]);
        }

        const messages = await messagesOf(userId);
        const stored = new Map(messages.map((m) => [m.mid as string, m]));
        const quarantined = new Map(
          (await w.quarantine.list({ pageId: PAGE_A, limit: 1000 }))
            .filter((q) => q.userId === userId)
            .map((q) => [q.eventId, q]),
        );
        for (const s of sent) {
          const { planned: p } = s;
          if (p.good) {
            expect(stored.has(s.eventId)).toBe(true);
            expect(quarantined.has(s.eventId)).toBe(false);
          } else if ('poison' in p) {
            expect(stored.has(s.eventId)).toBe(false);
            const eventId = s.eventId.length > 1024 ? `${s.eventId.slice(0, 1024)}…` : s.eventId;
            expect(quarantined.get(eventId)?.reason).toBeTruthy();
          } else if (p.junk.stores) {
            // Anything in a free-form place can be stored: none of these is quarantined.
            expect(quarantined.has(s.eventId)).toBe(false);
            expect(stored.has(s.eventId)).toBe(true);
            expectAsSent(stored.get(s.eventId), p.junk, s.raw as Raw);
          } else {
            // Reactions, deliveries, reads: parsed leniently, so always applied (junk in them ignored), never
            // quarantined; they change other items (a reaction to a message nobody has changes nothing)
            // and make none of their own.
            expect(quarantined.has(s.eventId)).toBe(false);
            expect(stored.has(s.eventId)).toBe(false);
          }
        }
        // Good messages are listed in timestamp order, whatever failed around them.
        const goods = sent.filter((s) => s.planned.good).map((s) => s.eventId);
        expect(messages.map((m) => m.mid).filter((mid: string) => goods.includes(mid))).toEqual(goods);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS) || 30 },
    );
    // The runs went through both paths: oversize parts moved to the blob store, poison quarantined.
    expect([...w.blobs.blobs.keys()].some((k) => k.startsWith('items/'))).toBe(true);
    expect((await w.quarantine.list()).length).toBeGreaterThan(0);
  }, 60_000);
});

/** The admin API answers the free-form parts of a stored event exactly as they were sent. */
// biome-ignore lint/suspicious/noExplicitAny: the admin answer is read field by field
function expectAsSent(answer: any, j: Junk, raw: Raw): void {
  const body = (raw.message ?? raw.postback ?? raw.referral ?? raw.optin) as Raw | undefined;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (j.kind === 'message' || j.kind === 'echo') {
    const m = body as Raw;
    expect(answer.text).toBe(typeof m.text === 'string' ? m.text : null);
    const sentAttachments = (m.attachments as Raw[]).filter(isObject);
    expect(answer.attachments).toHaveLength(sentAttachments.length);
    sentAttachments.forEach((a, i) => {
      if (isObject(a.payload)) expect(asSent(answer.attachments[i].payload)).toBe(asSent(a.payload));
      else expect(answer.attachments[i].payload).toBeUndefined();
    });
    if (isObject(m.referral)) expect(asSent(answer.detail.referral)).toBe(asSent(m.referral));
  }
  if (j.kind === 'postback' && isObject(body?.referral)) {
    expect(asSent(answer.detail.referral)).toBe(asSent(body?.referral));
  }
  if (j.kind === 'handover') {
    const action = Object.keys(raw).find((k) => k.endsWith('_thread_control')) as string;
    expect(answer.detail.action).toBe(action);
    expect(asSent(answer.detail.detail)).toBe(asSent(raw[action]));
  }
  expect(answer.partsUnavailable).toBeUndefined();
}
