/**
 * The fault-injection run shared by tests/chaos/fault-injection.test.ts (2,000 events) and
 * `npm run bench` (10,000): signed POSTs through the real verifier handler → LocalFifoQueue (short
 * visibility timeout) → the real processor handler in a few "containers" → dynalite, with
 *
 * - DynamoDB throttling (`ProvisionedThroughputExceededException`) on a share of document-client calls,
 * - Graph API 5xx (code 2) and 613 answers on a share of Graph calls (GraphFake.injectError),
 * - processor invocations crashing part-way through a batch, or after it, before answering,
 * - SQS sends failing before or after the messages were taken (the verifier answers 500; Meta retries),
 * - POSTs delivered again, at the same time or later (past the queue's deduplication window),
 * - a few poison messages put on the queue directly (to be quarantined, not retried),
 * - public event publishes rejected, whole or after accepting the first events of the call, and
 *   containers dying after a publish went out, before they answer (the record comes back).
 *
 * It then reads the whole table back and reports what was lost, stored twice or reordered, which
 * messages reached the dead letters or the quarantine, whether the published events match the change
 * log (SPEC §8), and whether the app secret or any page token appears in a log
 * line (stdout and stderr captured), an HTTP answer, an error, a queued message or a DynamoDB request.
 *
 * For the log scan to mean something, load this module with `POWERTOOLS_LOG_LEVEL=DEBUG`: the
 * Powertools logger takes its level when it is created, and `injectLambdaContext` puts that level back
 * at every invocation, so `logger.setLogLevel()` from outside does not stick.
 */
import { randomBytes } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalFifoQueue } from '#adapters/local/fifo-queue';
import { LocalKeyring } from '#adapters/local/keyring';
import { loadConfig } from '#app/config';
import { processorDeps } from '#app/processor';
import type { ConversationRecord, TimelineItem } from '#contracts/conversation-records';
import type { PublicConversationEvent, PublicEvent } from '#contracts/public-event';
import type { QueueMessage } from '#contracts/queue';
import { ConversationRepository } from '#conversations/conversation-repository';
import { outStatus } from '#conversations/message-status';
import { createEventsProcessor } from '#conversations/process-events';
import { QuarantineRepository } from '#conversations/quarantine-repository';
import { ChangeLog } from '#events/change-log';
import { signBody } from '#ingest/signature';
import { createVerifier } from '#ingest/verify-webhook';
import { lambdaContext } from '#local/lambda-context';
import { PageRepository } from '#pages/page-repository';
import type { EventPublisher } from '#ports/event-publisher';
import type { EventQueue, TokenSealer } from '#ports/ports';
import { lambda } from '#runtime/lambda';
import { logger } from '#runtime/observability';
import { GraphFake } from '#testkit/graph-faults';
import { memoryPublisher } from '#testkit/memory-publisher';
import {
  conversationKey,
  expectedState,
  makeTraffic,
  prng,
  sendInOrder,
  type TrafficEvent,
  type TrafficPost,
} from './chaos-traffic.js';
import type { TestDynamo } from './dynamo.js';
import { httpEvent } from './http-events.js';
import { first, pairs } from './pick.js';
import { tappedDocClient } from './sdk-tap.js';
import { seedPages } from './seed.js';

export const CHAOS_APP_ID = '1517776481860111';

export interface ChaosFaults {
  /** Share of DynamoDB document-client calls answered ProvisionedThroughputExceededException. */
  dynamoThrottle: number;
  /** Share of Graph API calls answered 5xx (code 2) or 613. */
  graphErrors: number;
  /** Share of processor invocations that crash (part-way through the batch, or after it). */
  crash: number;
  /** Share of POSTs delivered again (half at the same time, half later). */
  redeliver: number;
  /** Share of SQS sends that fail (half before the messages are taken, half after). */
  queueFailure: number;
  /** Share of publish calls rejected (PublishError); half of those holding 2+ events accept some first. */
  publishFailure: number;
  /** Share of accepted publish calls after which the container dies, before it answers the batch. */
  crashAfterPublish: number;
}

export const CHAOS_FAULTS: ChaosFaults = {
  dynamoThrottle: 0.05,
  graphErrors: 0.05,
  crash: 0.02,
  redeliver: 0.1,
  queueFailure: 0.02,
  publishFailure: 0.02,
  crashAfterPublish: 0.005,
};

export interface ChaosOptions {
  dynamo: TestDynamo;
  /** Webhook events in all (messages, echoes, deliveries, reads, postbacks, reactions). */
  events: number;
  pages: number;
  /** Persons; each writes to every page, so conversations = pages × persons. */
  persons: number;
  seed?: number;
  faults?: Partial<ChaosFaults>;
  /**
   * Poison messages put on the queue directly (half not JSON, half JSON that is no queued event): each
   * is quarantined at its first receive, and its group goes on.
   */
  poison?: number;
  visibilityTimeoutMs?: number;
  /** Receives before a message goes to the dead letters. */
  maxReceiveCount?: number;
  /** Processor containers (each with its own caches); also the batches in flight. */
  containers?: number;
  /** POSTs in flight at once (a conversation's POSTs still go one after the other). */
  postConcurrency?: number;
  /** The queue's deduplication window: short, so later redeliveries reach the processor. */
  dedupWindowMs?: number;
  /**
   * The share of `pages` that are Instagram accounts (SPEC §11), each linked to one of the Messenger
   * pages (whose token its profile calls use); their conversations come in `object: "instagram"` POSTs.
   */
  instagramShare?: number;
}

export interface ChaosReport {
  events: number;
  posts: number;
  pages: number;
  conversations: number;
  /** Instagram's part of the traffic: accounts, events, POSTs (`object: "instagram"`), unsends. */
  instagram: { accounts: number; events: number; posts: number; unsends: number };
  /** Public events whose channel is not their entry's (`instagram` for an Instagram account). */
  channelMismatches: string[];
  sent: { requests: number; concurrentDuplicates: number; lateDuplicates: number; retriesAfter5xx: number };
  statuses: Record<string, number>;
  injected: {
    dynamoThrottles: number;
    graphErrors: number;
    crashes: number;
    queueFailuresBefore: number;
    queueFailuresAfter: number;
    publishFailures: number;
    /** Of the publish failures, those that accepted the first events of the call. */
    partialPublishFailures: number;
    crashesAfterPublish: number;
  };
  processor: { invocations: number; records: number; redeliveredRecords: number; maxReceiveCount: number };
  /** mids generated but not stored. */
  lost: string[];
  /** Items put (and answered OK) more than once. */
  storedTwice: string[];
  /** Items in the store that no event asked for. */
  unexpected: string[];
  /** Conversations whose items were first stored out of timestamp order, or list out of order. */
  orderViolations: string[];
  /** Conversation records, watermarks, statuses and reactions that differ from what the events imply. */
  stateMismatches: string[];
  deadLetters: { total: number; poison: number; unexpected: string[] };
  /** Events quarantined (they cannot be applied): the poison messages, and nothing else. */
  quarantined: { total: number; poison: number; unexpected: string[] };
  /** Where a secret was found (never the secret itself). */
  leaks: string[];
  scanned: {
    logLines: number;
    logBytes: number;
    queueMessages: number;
    errors: number;
    responses: number;
    dynamoRequests: number;
  };
  publicEvents: PublicEventsReport;
  namedConversations: number;
  /** The Powertools log level the run logged at. */
  logLevel: string;
  wallMs: number;
}

const THROTTLE_MESSAGE =
  'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';

/** An error as a log line or a dead-letter reader would see it: name, message, stack, own fields. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let own = '';
  try {
    own = JSON.stringify(err);
  } catch {}
  return `${err.name}: ${err.message}\n${err.stack ?? ''}\n${own}`;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const faults = { ...CHAOS_FAULTS, ...opts.faults };
  const seed = opts.seed ?? 20261127;
  const random = prng(seed);
  const chance = (p: number) => random() < p;
  const containers = opts.containers ?? 4;
  const appSecret = randomBytes(16).toString('hex');
  const started = performance.now();

  // ---- the world: Meta (GraphFake), pages, persons, the table -----------------------------------------------
  const fake = new GraphFake({ appId: CHAOS_APP_ID, appSecret });
  const graphUrl = await fake.start();
  const igCount = Math.min(opts.pages - 1, Math.round(opts.pages * (opts.instagramShare ?? 0)));
  const pageIds = Array.from({ length: opts.pages - igCount }, (_, i) => String(310_000_000_000_000 + i));
  fake.addUser({ name: 'Chaos Admin', pages: pageIds.map((id, i) => ({ id, name: `Chaos Page ${i}` })) });
  // Instagram accounts, each linked to a page: events to the account, token calls with the page's token.
  const igAccounts = Array.from({ length: igCount }, (_, i) => ({
    id: String(17_841_400_000_000_000n + BigInt(i)),
    username: `chaos.ig.${i}`,
    pageId: pageIds[i % pageIds.length] ?? '',
  }));
  for (const a of igAccounts) fake.linkInstagram(a.pageId, { id: a.id, username: a.username });
  const igIds = new Set(igAccounts.map((a) => a.id));
  const persons = Array.from({ length: opts.persons }, (_, i) => fake.addPerson(`Person${i}`, `Chaos${i}`));
  const conversations = [
    ...pageIds.flatMap((pageId) => persons.map((person) => ({ pageId, userId: fake.psid(person, pageId) }))),
    ...igAccounts.flatMap((a) =>
      persons.map((person) => ({
        pageId: a.id,
        userId: fake.igsid(person, a.id),
        channel: 'instagram' as const,
      })),
    ),
  ];
  const secrets = new Map<string, string>([['the app secret', appSecret]]);
  for (const id of pageIds) secrets.set(`the page token of ${id}`, fake.pageToken(id));

  const tableName = await opts.dynamo.createTable();
  const keyring = LocalKeyring.ephemeral();
  const seededPages = new PageRepository(opts.dynamo.doc, tableName);
  await seedPages(
    seededPages,
    keyring,
    pageIds.map((pageId, i) => ({ pageId, token: fake.pageToken(pageId), name: `Chaos Page ${i}` })),
  );
  const seededAt = new Date().toISOString();
  for (const a of igAccounts) {
    await seededPages.put({
      pageId: a.id,
      name: a.username,
      status: 'active',
      channel: 'instagram',
      linkedPageId: a.pageId,
      subscribedFields: [],
      connectedAt: seededAt,
      updatedAt: seededAt,
    });
  }

  const { events, posts } = makeTraffic({
    conversations,
    events: opts.events,
    seed,
    appId: CHAOS_APP_ID,
    variety: true,
  });
  const expected = expectedState(events);

  // ---- what gets scanned for secrets, and the counters ------------------------------------------------------
  const logs: string[] = [];
  const queued: string[] = [];
  const errors: string[] = [];
  const responses: string[] = [];
  const dynamoRequests: string[] = [];
  const injected = {
    dynamoThrottles: 0,
    graphErrors: 0,
    crashes: 0,
    queueFailuresBefore: 0,
    queueFailuresAfter: 0,
    publishFailures: 0,
    partialPublishFailures: 0,
    crashesAfterPublish: 0,
  };
  const processor = { invocations: 0, records: 0, redeliveredRecords: 0, maxReceiveCount: 0 };
  const sent = { requests: 0, concurrentDuplicates: 0, lateDuplicates: 0, retriesAfter5xx: 0 };
  const statuses: Record<string, number> = {};
  /** Successful conditional puts of timeline items, per conversation, in the order they happened. */
  const firstStores = new Map<string, Array<{ mid: string; timestamp: number }>>();
  const storeCounts = new Map<string, number>();

  // ---- DynamoDB with throttling -----------------------------------------------------------------------------
  const doc = tappedDocClient(opts.dynamo.endpoint, async (call, send) => {
    const input = call.input;
    dynamoRequests.push(JSON.stringify(input));
    if (chance(faults.dynamoThrottle)) {
      injected.dynamoThrottles++;
      throw Object.assign(new Error(THROTTLE_MESSAGE), {
        name: 'ProvisionedThroughputExceededException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const output = await send();
    const item = input.Item as { pk?: string; sk?: string; mid?: string; timestamp?: number } | undefined;
    if (call.command instanceof PutCommand && item?.sk?.startsWith('ITEM#')) {
      const key = `${item.pk}|${item.sk}`;
      storeCounts.set(key, (storeCounts.get(key) ?? 0) + 1);
      const conv = String(item.pk)
        .replace(/^CONV#/, '')
        .replace('#', ':');
      const list = firstStores.get(conv) ?? [];
      list.push({ mid: String(item.mid), timestamp: Number(item.timestamp) });
      firstStores.set(conv, list);
    }
    return output;
  });

  // ---- Graph API errors -------------------------------------------------------------------------------------
  const realFetch = globalThis.fetch;
  const faultyFetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(graphUrl) && chance(faults.graphErrors)) {
      injected.graphErrors++;
      const path = new URL(url).pathname.replace(/^\/v\d+\.\d+/, '');
      const throttle = chance(0.5);
      fake.injectError(
        { path, times: 1 },
        throttle
          ? { status: 400, code: 613, message: '(#613) Calls to this api have exceeded the rate limit.' }
          : {
              status: 500,
              code: 2,
              message: 'An unexpected error has occurred. Please retry your request later.',
            },
      );
    }
    return realFetch(input, init);
  };

  // ---- the processor containers, crashing now and then -----------------------------------------------------
  const sealer: TokenSealer = keyring;
  // Claim checks (the verifier's and the processor's), oversize parts and quarantined bodies.
  const blobs = new MemoryBlobStore();
  const credentials = new EnvCredentials({
    FB_APP_ID: CHAOS_APP_ID,
    FB_APP_SECRET: appSecret,
    FB_VERIFY_TOKEN: 'chaos-verify',
  });
  const config = loadConfig({
    TABLE_NAME: tableName,
    GRAPH_API_URL: graphUrl,
    GRAPH_API_VERSION: 'v24.0',
    GRAPH_TIMEOUT_MS: '5000',
  });
  // ---- public events: one memory publisher behind each container's faulty one ---------------------------
  const publisher = memoryPublisher();
  const pool = Array.from({ length: containers }, () => {
    const life = { crashed: false };
    const faulty: EventPublisher = {
      async publish(batch, deadline) {
        if (chance(faults.publishFailure)) {
          injected.publishFailures++;
          const accepted =
            batch.length > 1 && chance(0.5) ? 1 + Math.floor(random() * (batch.length - 1)) : 0;
          if (accepted > 0) injected.partialPublishFailures++;
          // Taken by the very next publish call: the memory publisher plans and fails synchronously.
          publisher.failNext(1, { accepted });
        }
        await publisher.publish(batch, deadline);
        if (chance(faults.crashAfterPublish)) {
          // The events went out; the container dies before it answers, so the record comes back.
          injected.crashesAfterPublish++;
          life.crashed = true;
        }
      },
    };
    const handler = lambda(
      createEventsProcessor(
        processorDeps(config, { table: doc, sealer, credentials, blobs, publisher: faulty }),
      ),
    );
    return { busy: false, life, handler };
  });
  const invoke = async (event: SQSEvent): Promise<SQSBatchResponse | undefined> => {
    const container = pool.find((c) => !c.busy) ?? first(pool, 'processor container');
    container.busy = true;
    container.life.crashed = false;
    try {
      processor.invocations++;
      for (const r of event.Records) {
        const receives = Number(r.attributes.ApproximateReceiveCount);
        processor.records++;
        if (receives > 1) processor.redeliveredRecords++;
        processor.maxReceiveCount = Math.max(processor.maxReceiveCount, receives);
      }
      const context = lambdaContext('pagewire-processor', 60_000);
      if (chance(faults.crash)) {
        injected.crashes++;
        // Part of the batch done (0 to all of it), then the container dies before it answers.
        const done = Math.floor(random() * (event.Records.length + 1));
        if (done > 0) await container.handler({ Records: event.Records.slice(0, done) }, context);
        throw new Error(`processor crashed after ${done} of ${event.Records.length} records (injected)`);
      }
      const response = await container.handler(event, context);
      if (container.life.crashed)
        throw new Error('processor crashed after a publish, before answering (injected)');
      return response;
    } finally {
      container.busy = false;
    }
  };
  const queue = new LocalFifoQueue({
    name: 'chaos-events.fifo',
    handler: invoke,
    concurrency: containers,
    visibilityTimeoutMs: opts.visibilityTimeoutMs ?? 25,
    maxReceiveCount: opts.maxReceiveCount ?? 20,
    dedupWindowMs: opts.dedupWindowMs ?? 50,
    onError: (err) => errors.push(describe(err)),
  });

  // ---- the verifier, in front of a queue that fails now and then ------------------------------------------
  const port: EventQueue = {
    async send(messages: QueueMessage[]) {
      for (const m of messages) queued.push(m.body);
      const r = random();
      if (r < faults.queueFailure / 2) {
        injected.queueFailuresBefore++;
        throw Object.assign(new Error('SQS is unavailable (injected)'), { name: 'ServiceUnavailable' });
      }
      await queue.send(messages);
      if (r < faults.queueFailure) {
        injected.queueFailuresAfter++;
        throw Object.assign(new Error('SQS answered too late (injected)'), { name: 'TimeoutError' });
      }
    },
  };
  const verifier = lambda(createVerifier({ queue: port, credentials, blobs }));

  /** Meta: sends the POST until it gets 200, as Facebook retries failed deliveries. */
  const deliver = async (p: TrafficPost): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      sent.requests++;
      const base64 = chance(0.5);
      const res = await verifier(
        httpEvent('POST', '/webhooks/facebook', {
          body: base64 ? Buffer.from(p.body) : p.body,
          base64,
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(p.body, appSecret) },
        }),
        lambdaContext('pagewire-verifier', 10_000),
      );
      statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
      responses.push(`${res.statusCode} ${res.body ?? ''}`);
      if (res.statusCode === 200) return;
      if ((res.statusCode ?? 0) < 500 || attempt >= 20) {
        throw new Error(`verifier answered ${res.statusCode} ${res.body} on attempt ${attempt}`);
      }
      sent.retriesAfter5xx++;
      await new Promise((resolve) => setTimeout(resolve, 2 + Math.floor(random() * 20)));
    }
  };

  // ---- the run ---------------------------------------------------------------------------------------------
  const restore = captureOutput(logs);
  globalThis.fetch = faultyFetch as typeof fetch;
  let failure: unknown;
  try {
    queue.start();
    // Poison first: quarantined while the traffic flows (retried only when a write of its record fails).
    const poisonCount = opts.poison ?? 4;
    const poison: QueueMessage[] = Array.from({ length: poisonCount }, (_, i) => ({
      groupId: `poison:${i}`,
      dedupId: `poison-${i}`,
      body:
        i % 2 === 0
          ? `{"v":1,"pageId":"${pageIds[0]}", this is not JSON`
          : JSON.stringify({
              v: 1,
              pageId: pageIds[i % pageIds.length],
              userId: `poison-${i}`,
              eventId: `poison-${i}`,
              timestamp: 1,
              standby: false,
              event: null,
            }),
    }));
    await queue.send(poison);

    const late: Promise<void>[] = [];
    await sendInOrder(posts, opts.postConcurrency ?? 16, async (p) => {
      const r = random();
      if (r < faults.redeliver / 2) {
        sent.concurrentDuplicates++;
        await Promise.all([deliver(p), deliver(p)]);
        return;
      }
      await deliver(p);
      if (r < faults.redeliver) {
        sent.lateDuplicates++;
        const delay = 20 + Math.floor(random() * 300);
        late.push(new Promise((resolve) => setTimeout(resolve, delay)).then(() => deliver(p)));
      }
    });
    await Promise.all(late);
    await queue.idle();
    await queue.stop();
  } catch (err) {
    failure = err;
  } finally {
    globalThis.fetch = realFetch;
    restore();
    await fake.stop();
  }
  if (failure) throw failure;
  const wallMs = performance.now() - started;

  // ---- what the store holds ---------------------------------------------------------------------------------
  const repo = new ConversationRepository(opts.dynamo.doc, tableName);
  const changeLog = new ChangeLog(opts.dynamo.doc, tableName);
  const eventCheck = publicEventCheck(publisher.events, events);
  const lost: string[] = [];
  const unexpected: string[] = [];
  const orderViolations: string[] = [];
  const stateMismatches: string[] = [];
  let namedConversations = 0;
  for (const [key, exp] of expected) {
    const [items, conversation, logged] = await Promise.all([
      repo.listItems(exp.pageId, exp.userId),
      repo.get(exp.pageId, exp.userId),
      changeLogOf(changeLog, exp.pageId, exp.userId),
    ]);
    eventCheck.conversation(key, { items, conversation, logged });
    const stored = new Map(items.map((i) => [i.mid, i]));
    for (const mid of exp.items.keys()) if (!stored.has(mid)) lost.push(`${key} ${mid}`);
    for (const mid of stored.keys()) if (!exp.items.has(mid)) unexpected.push(`${key} ${mid}`);
    for (const [previous, item] of pairs(items)) {
      if (item.timestamp < previous.timestamp) orderViolations.push(`${key}: listed out of order`);
    }
    const firsts = firstStores.get(key) ?? [];
    for (const [previous, item] of pairs(firsts)) {
      if (item.timestamp < previous.timestamp) {
        orderViolations.push(`${key}: ${item.mid} stored after ${previous.mid}, older`);
      }
    }
    if (conversation?.name) namedConversations++;
    if (exp.items.size > 0 && conversation?.lastMessageAt !== exp.lastMessageAt) {
      stateMismatches.push(`${key}: lastMessageAt ${conversation?.lastMessageAt} ≠ ${exp.lastMessageAt}`);
    }
    if (conversation?.readWatermark !== exp.readWatermark) {
      stateMismatches.push(`${key}: readWatermark ${conversation?.readWatermark} ≠ ${exp.readWatermark}`);
    }
    if (conversation?.deliveredWatermark !== exp.deliveredWatermark) {
      stateMismatches.push(
        `${key}: deliveredWatermark ${conversation?.deliveredWatermark} ≠ ${exp.deliveredWatermark}`,
      );
    }
    // The status the admin API shows: a watermark covers every echo up to it (a delivery with one marks
    // no mid on its own); a delivery without one would mark the mids it names.
    for (const mid of exp.echoes) {
      const item = stored.get(mid);
      if (!item) continue; // reported as lost
      const at = exp.items.get(mid) ?? 0;
      const want =
        (exp.readWatermark ?? -1) >= at
          ? 'read'
          : exp.delivered.has(mid) || (exp.deliveredWatermark ?? -1) >= at
            ? 'delivered'
            : 'sent';
      const got = outStatus(item, conversation);
      if (got !== want) stateMismatches.push(`${key} ${mid}: status ${got} ≠ ${want}`);
    }
    for (const [mid, ts] of exp.reactions) {
      const got = stored.get(mid)?.reactions?.[exp.userId]?.timestamp;
      if (got !== ts) stateMismatches.push(`${key} ${mid}: reaction at ${got} ≠ ${ts}`);
    }
    // Instagram unsends: the message stays in its place, marked deleted, its text erased (SPEC §11).
    for (const [mid, item] of stored) {
      const want = exp.deleted.has(mid);
      if ((item.deleted === true) !== want || (want && item.text !== undefined))
        stateMismatches.push(
          `${key} ${mid}: deleted ${item.deleted} (text ${item.text !== undefined}) ≠ ${want}`,
        );
    }
  }
  const storedTwice = [...storeCounts].filter(([, n]) => n > 1).map(([k]) => k);

  const letters = queue.deadLetters();
  const poisonIds = new Set(Array.from({ length: opts.poison ?? 4 }, (_, i) => `poison-${i}`));
  const deadLetters = {
    total: letters.length,
    poison: letters.filter((l) => poisonIds.has(l.dedupId)).length,
    unexpected: letters.filter((l) => !poisonIds.has(l.dedupId)).map((l) => `${l.groupId} ${l.dedupId}`),
  };
  const quarantinedEvents = await new QuarantineRepository(opts.dynamo.doc, tableName, blobs).list();
  const quarantined = {
    total: quarantinedEvents.length,
    poison: quarantinedEvents.filter((q) => poisonIds.has(q.eventId)).length,
    unexpected: quarantinedEvents
      .filter((q) => !poisonIds.has(q.eventId))
      .map((q) => `${q.pageId}:${q.userId} ${q.eventId} ${q.reason}`),
  };

  // ---- secrets ---------------------------------------------------------------------------------------------
  const corpora: Array<[string, string]> = [
    ['a log line', logs.join('')],
    ['a queued message', queued.join('\n')],
    ['an error', errors.join('\n')],
    ['an HTTP answer', responses.join('\n')],
    ['a DynamoDB request', dynamoRequests.join('\n')],
  ];
  const leaks: string[] = [];
  for (const [where, text] of corpora) {
    for (const [what, secret] of secrets) if (text.includes(secret)) leaks.push(`${what} in ${where}`);
  }
  const logText = logs.join('');

  const channelMismatches = publisher.events
    .filter((e) => e.channel !== (igIds.has(e.pageId) ? 'instagram' : 'messenger'))
    .map((e) => `${e.pageId} ${e.type} ${e.id}: channel ${e.channel}`);

  return {
    events: events.length,
    posts: posts.length,
    pages: opts.pages,
    conversations: conversations.length,
    instagram: {
      accounts: igAccounts.length,
      events: events.filter((e) => e.channel === 'instagram').length,
      posts: posts.filter((p) => p.body.startsWith('{"object":"instagram"')).length,
      unsends: events.filter((e) => e.kind === 'unsend').length,
    },
    channelMismatches,
    sent,
    statuses,
    injected,
    processor,
    lost,
    storedTwice,
    unexpected,
    orderViolations,
    stateMismatches,
    deadLetters,
    quarantined,
    leaks,
    scanned: {
      logLines: logText.split('\n').filter(Boolean).length,
      logBytes: Buffer.byteLength(logText),
      queueMessages: queued.length,
      errors: errors.length,
      responses: responses.length,
      dynamoRequests: dynamoRequests.length,
    },
    publicEvents: { ...eventCheck.done(), publishCalls: publisher.calls },
    namedConversations,
    logLevel: logger.getLevelName(),
    wallMs: Math.round(wallMs),
  };
}

/** The published events against the change log and the store (SPEC §8); each list names what failed. */
export interface PublicEventsReport {
  /** Events accepted by the publisher, redeliveries' included. */
  published: number;
  /** Distinct ids among them (what a deduping consumer sees). */
  distinct: number;
  /** Events published again (redeliveries after a failed publish or a crash): published − distinct. */
  duplicates: number;
  /** Events in the change logs of all conversations. */
  logged: number;
  publishCalls: number;
  /** Change-log events never published. */
  unpublished: string[];
  /** Published events not in the change log, or not identical to it, or naming nothing stored. */
  notStored: string[];
  /** Ids published with different contents (seq, type, time, data) across redeliveries. */
  unstableIds: string[];
  /** Conversations whose seqs are not exactly 1..n, one id each (in the log or as published). */
  seqViolations: string[];
  /** Stored changes (items, watermarks, reactions, names) without exactly one event of their own. */
  missingEvents: string[];
}

const ITEM_EVENT_TYPES = new Set([
  'message.received',
  'message.sent',
  'postback',
  'referral',
  'optin',
  'handover',
]);

/** The whole change log of one conversation, page after page. */
async function changeLogOf(
  log: ChangeLog,
  pageId: string,
  userId: string,
): Promise<PublicConversationEvent[]> {
  const all: PublicConversationEvent[] = [];
  for (;;) {
    const page = await log.list(pageId, userId, all.at(-1)?.seq ?? 0, 100);
    all.push(...page);
    if (page.length < 100) return all;
  }
}

/** JSON with keys sorted at every level: the same event parsed or built compares equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function itemEventType(item: TimelineItem): string {
  if (item.kind !== 'message') return item.kind;
  return item.direction === 'out' ? 'message.sent' : 'message.received';
}

/**
 * Checks the published events conversation by conversation against what is stored: its change log,
 * timeline, watermarks, reactions and name; and, for watermarks and reactions, every change the
 * traffic made (each conversation's receipts and reactions arrive in order, so each one applies).
 */
function publicEventCheck(published: readonly PublicEvent[], traffic: readonly TrafficEvent[]) {
  const report: PublicEventsReport = {
    published: published.length,
    distinct: 0,
    duplicates: 0,
    logged: 0,
    publishCalls: 0,
    unpublished: [],
    notStored: [],
    unstableIds: [],
    seqViolations: [],
    missingEvents: [],
  };
  const byId = new Map<string, { event: PublicEvent; forms: Set<string> }>();
  const byConversation = new Map<string, PublicEvent[]>();
  for (const event of published) {
    const seen = byId.get(event.id);
    if (seen) seen.forms.add(canonical(event));
    else {
      byId.set(event.id, { event, forms: new Set([canonical(event)]) });
      const key = conversationKey(event.pageId, event.userId ?? '');
      byConversation.set(key, [...(byConversation.get(key) ?? []), event]);
    }
  }
  report.distinct = byId.size;
  report.duplicates = published.length - byId.size;
  for (const [id, { forms }] of byId)
    if (forms.size > 1) report.unstableIds.push(`${id}: ${forms.size} forms`);
  const receipts = new Map<string, string[]>();
  for (const e of traffic) {
    const change =
      e.kind === 'delivery' || e.kind === 'read'
        ? `${e.kind === 'read' ? 'read' : 'delivered'} ${e.watermark}`
        : e.kind === 'reaction'
          ? `reaction ${e.refs?.[0]} ${new Date(e.timestamp).toISOString()}`
          : undefined;
    const key = conversationKey(e.pageId, e.userId);
    if (change) receipts.set(key, [...(receipts.get(key) ?? []), change]);
  }
  const checked = new Set<string>();

  return {
    conversation(
      key: string,
      stored: { items: TimelineItem[]; conversation?: ConversationRecord; logged: PublicConversationEvent[] },
    ): void {
      const { items, conversation, logged } = stored;
      checked.add(key);
      report.logged += logged.length;
      const logById = new Map<string, PublicConversationEvent>();
      for (const [i, event] of logged.entries()) {
        if (event.seq !== i + 1) report.seqViolations.push(`${key}: change log seq ${event.seq} at ${i + 1}`);
        const twin = logById.get(event.id);
        if (twin)
          report.seqViolations.push(
            `${key}: ${event.type} ${event.id} logged at seq ${twin.seq} and ${event.seq} (${canonical(twin.data)}) ${twin.time}`,
          );
        logById.set(event.id, event);
        if (!byId.has(event.id)) report.unpublished.push(`${key} ${event.seq} ${event.type} ${event.id}`);
      }
      // Nothing published that the change log does not hold, identically (every acceptance compared).
      const out = byConversation.get(key) ?? [];
      for (const event of out) {
        const logEvent = logById.get(event.id);
        const forms = byId.get(event.id)?.forms ?? new Set<string>();
        // An unsent message's events are redacted in the log after they went out (data {mid, deleted}).
        const asLogged = (form: string) =>
          form === canonical(logEvent) ||
          (logEvent !== undefined &&
            canonical(logEvent.data) === canonical({ mid: logEvent.data.mid, deleted: true }) &&
            canonical({ ...JSON.parse(form), data: logEvent.data }) === canonical(logEvent));
        if (!logEvent)
          report.notStored.push(`${key} ${event.seq} ${event.type} ${event.id}: not in the change log`);
        else if ([...forms].some((form) => !asLogged(form)))
          report.notStored.push(`${key} ${event.seq} ${event.type} ${event.id}: differs from the change log`);
      }
      // As a consumer sees them: distinct seqs exactly 1..n, one id each.
      const seqs = new Map<number, number>();
      for (const event of out) seqs.set(event.seq ?? 0, (seqs.get(event.seq ?? 0) ?? 0) + 1);
      for (const [seq, ids] of seqs)
        if (ids > 1) report.seqViolations.push(`${key}: seq ${seq} published with ${ids} ids`);
      for (let seq = 1; seq <= Math.max(logged.length, ...seqs.keys()); seq++) {
        if (!seqs.has(seq)) report.seqViolations.push(`${key}: seq ${seq} never published`);
      }
      // Every stored item has exactly one item event, of its kind; every item event names a stored item.
      const itemEvents = new Map<string, PublicConversationEvent[]>();
      for (const event of logged) {
        if (!ITEM_EVENT_TYPES.has(event.type)) continue;
        const mid = String(event.data.mid);
        itemEvents.set(mid, [...(itemEvents.get(mid) ?? []), event]);
      }
      const mids = new Set(items.map((item) => item.mid));
      for (const item of items) {
        const events = itemEvents.get(item.mid) ?? [];
        if (events.length !== 1 || events[0]?.type !== itemEventType(item))
          report.missingEvents.push(
            `${key} ${item.mid}: ${events.map((e) => e.type).join(',') || 'no'} item event`,
          );
      }
      for (const mid of itemEvents.keys()) {
        if (!mids.has(mid)) report.notStored.push(`${key} ${mid}: item event, no stored item`);
      }
      // Every watermark raised and reaction applied has one message.status / message.reaction event.
      const changes = new Map<string, number>();
      for (const event of logged) {
        const d = event.data;
        const change =
          event.type === 'message.status'
            ? `${d.status} ${d.watermark}`
            : event.type === 'message.reaction'
              ? `reaction ${d.mid} ${event.time}`
              : event.type === 'contact.updated'
                ? `name ${d.name}`
                : event.type === 'message.deleted'
                  ? `deleted ${d.mid}`
                  : undefined;
        if (change) changes.set(change, (changes.get(change) ?? 0) + 1);
      }
      const wanted = [...(receipts.get(key) ?? [])];
      if (conversation?.readWatermark !== undefined) wanted.push(`read ${conversation.readWatermark}`);
      if (conversation?.deliveredWatermark !== undefined)
        wanted.push(`delivered ${conversation.deliveredWatermark}`);
      for (const item of items) {
        const ts = item.reactions?.[item.userId]?.timestamp;
        if (ts !== undefined) wanted.push(`reaction ${item.mid} ${new Date(ts).toISOString()}`);
      }
      if (conversation?.name !== undefined) wanted.push(`name ${conversation.name}`);
      for (const item of items) if (item.deleted) wanted.push(`deleted ${item.mid}`);
      for (const change of new Set(wanted)) {
        const n = changes.get(change) ?? 0;
        if (n !== 1) report.missingEvents.push(`${key} ${change}: ${n} events`);
      }
      for (const change of changes.keys()) {
        if (!wanted.includes(change)) report.notStored.push(`${key} ${change}: event, no such change stored`);
      }
    },
    done(): PublicEventsReport {
      for (const [key, events] of byConversation) {
        if (!checked.has(key))
          report.notStored.push(`${key}: ${events.length} events of a conversation never sent`);
      }
      return report;
    },
  };
}

/** Sends stdout and stderr into `into` until the returned function is called. */
export function captureOutput(into: string[]): () => void {
  const out = process.stdout.write;
  const err = process.stderr.write;
  const capture = ((chunk: unknown, ...rest: unknown[]) => {
    into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  return () => {
    process.stdout.write = out;
    process.stderr.write = err;
  };
}

export { conversationKey };
