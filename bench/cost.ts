/**
 * Benchmark 3, AWS requests and cost per million inbound messages: 100 pages, 1,000 conversations, 10,000
 * inbound messages plus the echoes, deliveries and reads around them, in POSTs of 1–5 entries, through the
 * real verifier handler (→ the real SqsEventQueue → LocalFifoQueue) and the real processor handler in
 * CONTAINERS warm containers, against dynalite (own process) and the local keyring; the processor
 * publishes through the real EventBridgePublisher to a client that accepts every entry. Every SQS,
 * DynamoDB (calls and capacity units), KMS, EventBridge (PutEvents calls, entries, billed 64 KB chunks)
 * and Graph call is counted, then priced (prices.ts), beside the same
 * workload costed for a naive design: per event a page lookup and a Redis lock (SET NX + DEL), per inbound
 * message also a KMS decrypt and a profile fetch, everything inside the webhook call.
 *
 * Lambda time is billed as the process's CPU time in each phase plus, per AWS call, the latency the call
 * would have on AWS (prices.ts LATENCY_MS): the local fakes answer far faster than the real services.
 * Run with POWERTOOLS_LOG_LEVEL=INFO and metrics on (bench/run.ts does) so log bytes are what CloudWatch
 * would ingest.
 */
import { randomBytes } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EventBridgePublisher } from '#adapters/aws/eventbridge-publisher';
import { SqsEventQueue } from '#adapters/aws/sqs-event-queue';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalFifoQueue } from '#adapters/local/fifo-queue';
import { LocalKeyring } from '#adapters/local/keyring';
import { loadConfig } from '#app/config';
import { processorDeps } from '#app/processor';
import { createEventsProcessor } from '#conversations/process-events';
import { signBody } from '#ingest/signature';
import { createVerifier } from '#ingest/verify-webhook';
import { lambdaContext } from '#local/lambda-context';
import { PageRepository } from '#pages/page-repository';
import { lambda } from '#runtime/lambda';
import { startDynaliteProcess } from '#testkit/chaos-dynalite';
import { captureOutput } from '#testkit/chaos-harness';
import { makeTraffic, sendInOrder } from '#testkit/chaos-traffic';
import { GraphFake } from '#testkit/graph-faults';
import { httpEvent } from '#testkit/http-events';
import { first } from '#testkit/pick';
import { seedPages } from '#testkit/seed';
import {
  billedReceive,
  CountingSealer,
  type DynamoMeter,
  meteredDocClient,
  meteredEventBridgeClient,
  meteredSqsClient,
} from './aws-meter.js';
import { DEPLOYMENT, LATENCY_MS, PRICES } from './prices.js';
import { ratio, sig } from './stats.js';

const APP_ID = '1517776481860111';
const PAGES = 100;
const PERSONS = 10;
const INBOUND = 10_000;
const CONTAINERS = 4;
const GB = DEPLOYMENT.memoryMb / 1024;
const GIB = 1024 ** 3;

interface Figure {
  pagewire: number;
  naive: number;
  ratio: number;
  target?: number;
  ok?: boolean;
}

interface CostFigure {
  pagewire: number;
  naive: number;
  ratio: number;
  target: number;
  ok: boolean;
  /** USD per million inbound messages, by line item. */
  lines: Record<string, { pagewire: number; naive: number }>;
  /** The same without what both designs pay alike (API Gateway, the writes, the secret): the design's own cost. */
  designOnly: { pagewire: number; naive: number; ratio: number };
}

/** Line items both designs pay alike (a naive design publishing the same events pays the same for them). */
const SHARED = ['apiGateway', 'dynamoWrites', 'secretsManager', 'eventBridge', 'eventArchive', 'eventLog'];
/** Record kinds of the change log (functions/events/change-log.ts): its DynamoDB calls, by meter label. */
const CHANGE_LOG_KINDS = ['EVENT', 'CHANGE'];

/** What publishing events adds, USD per million inbound messages (burst), by line. */
export interface EventsAdded {
  total: number;
  /** The share of Pagewire's total (burst). */
  shareOfTotal: number;
  lines: {
    /** PutEvents: custom events billed. */
    eventBridge: number;
    /** The bus archive (processing, and storage for the archive's retention). */
    eventArchive: number;
    /** The log rule: every event ingested into the tail log group. */
    eventLog: number;
    /** The change log's DynamoDB writes and reads. */
    changeLogDynamo: number;
    /** Lambda time waiting on PutEvents and the change log's calls (assumed latencies; CPU not split out). */
    lambdaWaits: number;
  };
  /** Per inbound message: DynamoDB with and without the change log (same run). */
  dynamo: Record<'calls' | 'readUnits' | 'writeUnits', { total: number; changeLog: number; without: number }>;
}

export interface CostResult {
  workload: Record<string, number>;
  awsRequestsPerMessage: Record<string, Figure>;
  costPerMillion: CostFigure & {
    /** The same counts at a steady 1 M messages a month: one event per batch, page cache misses. */
    steady: CostFigure & {
      awsRequestsPerMessage: Record<string, Figure>;
      naiveWithValkeyMinimum: number;
      ratioWithValkeyMinimum: number;
    };
    /** Not in the totals: both designs would pay them alike, or they are fixed monthly costs. */
    notIncluded: Record<string, number | string>;
    /** Burst, by line; and the totals the same counts give steady and for the naive design. */
    eventsAdded: EventsAdded & { steadyTotal: number; naiveTotal: number };
  };
  assumptions: Record<string, unknown>;
  measured: Record<string, number>;
}

export async function costBench(): Promise<CostResult> {
  const dynamo = await startDynaliteProcess();
  const appSecret = randomBytes(16).toString('hex');
  const fake = new GraphFake({ appId: APP_ID, appSecret });
  const graphUrl = await fake.start();
  const logs: string[] = [];
  try {
    // ---- the world --------------------------------------------------------------------------------------
    const tableName = await dynamo.createTable();
    const pageIds = Array.from({ length: PAGES }, (_, i) => String(320_000_000_000_000 + i));
    fake.addUser({ pages: pageIds.map((id, i) => ({ id, name: `Cost Page ${i}` })) });
    const persons = Array.from({ length: PERSONS }, (_, i) => fake.addPerson(`Ana${i}`, `Costa${i}`));
    const conversations = pageIds.flatMap((pageId) =>
      persons.map((p) => ({ pageId, userId: fake.psid(p, pageId) })),
    );
    const keyring = LocalKeyring.ephemeral();
    await seedPages(
      new PageRepository(dynamo.doc, tableName),
      keyring,
      pageIds.map((pageId, i) => ({ pageId, token: fake.pageToken(pageId), name: `Cost Page ${i}` })),
    );
    const { events, posts } = makeTraffic({ conversations, inbound: INBOUND, seed: 5, appId: APP_ID });
    const kinds = countBy(events.map((e) => e.kind));
    const inbound = kinds.in ?? 0;

    // ---- metered collaborators ------------------------------------------------------------------------------
    const { doc, meter: dynamoMeter } = meteredDocClient(dynamo.endpoint);
    const sealer = new CountingSealer(keyring);
    const credentials = new EnvCredentials({
      FB_APP_ID: APP_ID,
      FB_APP_SECRET: appSecret,
      FB_VERIFY_TOKEN: 'v',
    });
    const config = loadConfig({ TABLE_NAME: tableName, GRAPH_API_URL: graphUrl, GRAPH_API_VERSION: 'v24.0' });
    // Claim checks (none in this workload: its events are small).
    const blobs = new MemoryBlobStore();
    // The real publisher, so its batching (≤ 10 entries, 256 KB a call) is what gets counted.
    const { client: eventBridge, meter: eventsMeter } = meteredEventBridgeClient();
    const publisher = new EventBridgePublisher(eventBridge, 'pagewire-bench-pagewire');
    const containers = Array.from({ length: CONTAINERS }, () => ({
      busy: false,
      handler: lambda(
        createEventsProcessor(processorDeps(config, { table: doc, sealer, credentials, blobs, publisher })),
      ),
    }));
    const processor = {
      invocations: 0,
      records: 0,
      receivesBilled: 0,
      deletes: 0,
      wallMs: 0,
      failedRecords: 0,
    };
    const queue = new LocalFifoQueue({
      name: 'cost-events.fifo',
      concurrency: CONTAINERS,
      visibilityTimeoutMs: 1_000,
      handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        const container = containers.find((c) => !c.busy) ?? first(containers, 'processor container');
        container.busy = true;
        const start = process.hrtime.bigint();
        try {
          const res = await container.handler(event, lambdaContext('pagewire-processor', 60_000));
          processor.invocations++;
          processor.records += event.Records.length;
          processor.receivesBilled += billedReceive(event.Records.map((r) => r.body));
          processor.failedRecords += res.batchItemFailures.length;
          if (res.batchItemFailures.length < event.Records.length) processor.deletes++;
          return res;
        } finally {
          processor.wallMs += Number(process.hrtime.bigint() - start) / 1e6;
          container.busy = false;
        }
      },
    });
    const { client: sqsClient, meter: sqsMeter } = meteredSqsClient(queue);
    const verifier = lambda(
      createVerifier({
        queue: new SqsEventQueue(sqsClient, 'https://sqs.us-east-1.amazonaws.com/1/pagewire-events.fifo'),
        credentials,
        blobs,
      }),
    );

    // ---- phase 1: Meta posts everything (the queue holds it) --------------------------------------------------
    const restore = captureOutput(logs);
    let verifierCpuMs: number;
    let processorCpuMs: number;
    let verifierLogBytes: number;
    let verifierWallMs = 0;
    const started = performance.now();
    try {
      const cpu0 = process.cpuUsage();
      await sendInOrder(posts, 16, async (post) => {
        const start = process.hrtime.bigint();
        const res = await verifier(
          httpEvent('POST', '/webhooks/facebook', {
            body: post.body,
            headers: {
              'content-type': 'application/json',
              'x-hub-signature-256': signBody(post.body, appSecret),
            },
          }),
          lambdaContext('pagewire-verifier', 10_000),
        );
        verifierWallMs += Number(process.hrtime.bigint() - start) / 1e6;
        if (res.statusCode !== 200) throw new Error(`verifier answered ${res.statusCode}`);
      });
      verifierCpuMs = cpuMs(process.cpuUsage(cpu0));
      verifierLogBytes = bytes(logs);

      // ---- phase 2: the processor drains the queue ---------------------------------------------------------------
      const cpu1 = process.cpuUsage();
      queue.start();
      await queue.idle();
      await queue.stop();
      processorCpuMs = cpuMs(process.cpuUsage(cpu1));
    } finally {
      restore();
    }
    const wallSeconds = (performance.now() - started) / 1000;
    const processorLogBytes = bytes(logs) - verifierLogBytes;
    if (queue.stats().deadLetters > 0) throw new Error('cost workload: messages reached the dead letters');

    // ---- counts ----------------------------------------------------------------------------------------------
    const dynamoCalls = Object.values(dynamoMeter.calls).reduce((a, b) => a + b, 0);
    const writeCalls = (dynamoMeter.calls.Put ?? 0) + (dynamoMeter.calls.Update ?? 0);
    const queryCalls = dynamoMeter.calls.Query ?? 0;
    const graphCalls = fake.calls.length;
    const eventsTotal = events.length;
    const secretCallsPerMonth = (1 + CONTAINERS) * ((30 * 86_400) / DEPLOYMENT.secretMaxAgeSeconds);
    const secretCalls = (secretCallsPerMonth / DEPLOYMENT.messagesPerMonth) * inbound;
    const ourLogBytes = { verifier: verifierLogBytes, processor: processorLogBytes };

    // Burst, as measured: the queue filled faster than it drained, so batches were full.
    const burst: Counts = {
      posts: posts.length,
      processorInvocations: processor.invocations,
      sqs: sqsMeter.sendBilled + processor.receivesBilled + processor.deletes,
      dynamoCalls,
      rru: dynamoMeter.rru,
      wru: dynamoMeter.wru,
      kms: sealer.unseals,
      graph: graphCalls,
      secret: secretCalls,
      redis: 0,
      putEvents: eventsMeter.putEventsCalls,
      eventEntries: eventsMeter.entries,
      eventsBilled: eventsMeter.billedEvents,
      eventBytesDelivered: eventsMeter.deliveredBytes,
      lambdaMs:
        verifierCpuMs +
        sqsMeter.sendBatchCalls * LATENCY_MS.sqsSendBatch +
        posts.length * 0.5 +
        processorCpuMs +
        dynamoCalls * LATENCY_MS.dynamo +
        sealer.unseals * LATENCY_MS.kmsDecrypt +
        graphCalls * LATENCY_MS.graphCall +
        eventsMeter.putEventsCalls * LATENCY_MS.eventBridgePutEvents +
        processor.invocations * 0.5,
      logBytes:
        ourLogBytes.verifier +
        ourLogBytes.processor +
        (posts.length + processor.invocations) * DEPLOYMENT.platformLogBytesPerInvocation,
    };
    // Steady 1 M inbound messages a month (≈ 0.8 events/s over 100 pages): every event arrives alone, so
    // each is its own batch (receive, delete, invocation, EMF line), and a page is read again for nearly
    // every event (one event per page every ~2 minutes against the 30 s page cache).
    const pageGets = dynamoMeter.getsByKind.PAGE ?? 0;
    const extraPageReads = Math.max(0, eventsTotal - pageGets);
    const processorLogPerInvocation = ourLogBytes.processor / processor.invocations;
    const steady: Counts = {
      ...burst,
      processorInvocations: eventsTotal,
      sqs: sqsMeter.sendBilled + 2 * eventsTotal,
      dynamoCalls: dynamoCalls + extraPageReads,
      rru: dynamoMeter.rru + extraPageReads,
      lambdaMs:
        burst.lambdaMs + (eventsTotal - processor.invocations) * 0.5 + extraPageReads * LATENCY_MS.dynamo,
      logBytes:
        ourLogBytes.verifier +
        processorLogPerInvocation * eventsTotal +
        (posts.length + eventsTotal) * DEPLOYMENT.platformLogBytesPerInvocation,
    };
    // The naive design: everything inside the webhook call. Per event a page lookup (GetItem, eventually
    // consistent: ½ RRU) and a lock (two Redis calls); per inbound message a KMS decrypt and a profile
    // fetch; the same writes and change log as Pagewire; the same compute; the same events published,
    // one PutEvents per webhook call (a POST's changes fit one call).
    const naive: Counts = {
      posts: posts.length,
      processorInvocations: 0,
      sqs: 0,
      dynamoCalls: dynamoCalls - (dynamoMeter.calls.Get ?? 0) + eventsTotal,
      rru: eventsTotal * 0.5 + ofChangeLog(dynamoMeter.rruBy),
      wru: dynamoMeter.wru,
      kms: inbound,
      graph: inbound,
      secret: secretCalls,
      redis: eventsTotal * 2,
      putEvents: Math.min(posts.length, eventsMeter.putEventsCalls),
      eventEntries: eventsMeter.entries,
      eventsBilled: eventsMeter.billedEvents,
      eventBytesDelivered: eventsMeter.deliveredBytes,
      lambdaMs:
        verifierCpuMs +
        processorCpuMs +
        eventsTotal * (LATENCY_MS.dynamo + 2 * LATENCY_MS.redisCall) +
        (writeCalls + queryCalls) * LATENCY_MS.dynamo +
        Math.min(posts.length, eventsMeter.putEventsCalls) * LATENCY_MS.eventBridgePutEvents +
        inbound * (LATENCY_MS.kmsDecrypt + LATENCY_MS.graphCall) +
        posts.length * 0.5,
      logBytes:
        ourLogBytes.verifier +
        ourLogBytes.processor +
        posts.length * DEPLOYMENT.platformLogBytesPerInvocation,
    };

    const perMessage = (c: Counts) => ({
      apiGatewayRequests: c.posts / inbound,
      lambdaInvocations: (c.posts + c.processorInvocations) / inbound,
      sqsRequests: c.sqs / inbound,
      dynamoCalls: c.dynamoCalls / inbound,
      dynamoReadUnits: c.rru / inbound,
      dynamoWriteUnits: c.wru / inbound,
      kmsRequests: c.kms / inbound,
      graphCalls: c.graph / inbound,
      redisCalls: c.redis / inbound,
      secretsManagerCalls: c.secret / inbound,
      eventBridgePutEventsCalls: c.putEvents / inbound,
      eventBridgeEntries: c.eventEntries / inbound,
      eventBridgeBilledEvents: c.eventsBilled / inbound,
    });
    const targets: Record<string, number> = { kmsRequests: 0.01, dynamoReadUnits: 0.1 };
    const requests = (c: Counts) => {
      const mine = perMessage(c);
      const theirs = perMessage(naive);
      return Object.fromEntries(
        Object.entries(mine).map(([k, v]): [string, Figure] => {
          const target = targets[k];
          const ref = theirs[k as keyof typeof theirs];
          return [
            k,
            {
              pagewire: sig(v, 3),
              naive: sig(ref, 3),
              ratio: ratio(v, ref),
              ...(target === undefined ? {} : { target, ok: v <= target }),
            },
          ];
        }),
      );
    };
    const cost = (c: Counts) => {
      const lines = priced(c);
      const theirs = priced(naive);
      const perMillion = (usd: number) => sig((usd / inbound) * 1e6, 4);
      const total = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
      const mine = perMillion(total(lines));
      const ref = perMillion(total(theirs));
      const own = (o: Lines) =>
        total(Object.fromEntries(Object.entries(o).filter(([k]) => !SHARED.includes(k))));
      const ownMine = perMillion(own(lines));
      const ownRef = perMillion(own(theirs));
      return {
        pagewire: mine,
        naive: ref,
        ratio: ratio(mine, ref),
        target: 0.5,
        ok: mine <= 0.5 * ref,
        lines: Object.fromEntries(
          Object.keys(lines).map((k) => [
            k,
            { pagewire: perMillion(lines[k as keyof Lines]), naive: perMillion(theirs[k as keyof Lines]) },
          ]),
        ),
        designOnly: { pagewire: ownMine, naive: ownRef, ratio: ratio(ownMine, ownRef) },
      };
    };

    // Not in the totals. X-Ray (tracing ACTIVE in lib/pagewire-function.ts): at a steady 1 M messages a
    // month the default rule (1 request/s per function, then 5 %) traces nearly every invocation.
    const secondsPerMonth = 30 * 86_400;
    const scale = DEPLOYMENT.messagesPerMonth / inbound;
    const traced = (perMonth: number) => {
      const rate = perMonth / secondsPerMonth;
      const first = 1 - Math.exp(-rate);
      return (first + DEPLOYMENT.xrayRate * (rate - first)) * secondsPerMonth;
    };
    const xraySteady =
      (traced(steady.posts * scale) + traced(steady.processorInvocations * scale)) *
      PRICES.xrayTraceRecorded.usd;
    const valkeyMinimumPerMonth = 0.1 * 730 * PRICES.elastiCacheServerlessValkeyGbHour.usd;
    const steadyCost = cost(steady);
    const burstCost = cost(burst);
    const eventsAdded = {
      ...eventsAddedBy(burst, dynamoMeter, inbound, burstCost.pagewire),
      steadyTotal: eventsAddedBy(steady, dynamoMeter, inbound, steadyCost.pagewire).total,
      naiveTotal: eventsAddedBy(naive, dynamoMeter, inbound, burstCost.naive).total,
    };

    return {
      workload: {
        pages: PAGES,
        conversations: conversations.length,
        inboundMessages: inbound,
        echoes: kinds.echo ?? 0,
        deliveries: kinds.delivery ?? 0,
        reads: kinds.read ?? 0,
        events: eventsTotal,
        posts: posts.length,
        processorContainers: CONTAINERS,
        processorInvocations: processor.invocations,
        meanBatchSize: sig(processor.records / processor.invocations, 3),
        wallSeconds: sig(wallSeconds, 3),
      },
      awsRequestsPerMessage: requests(burst),
      costPerMillion: {
        ...burstCost,
        steady: {
          ...steadyCost,
          awsRequestsPerMessage: requests(steady),
          // The naive design needs a Valkey cache: its minimum storage is a fixed monthly charge, which at
          // 1 M messages a month is this much per million messages.
          naiveWithValkeyMinimum: sig(steadyCost.naive + valkeyMinimumPerMonth, 4),
          ratioWithValkeyMinimum: ratio(steadyCost.pagewire, steadyCost.naive + valkeyMinimumPerMonth),
        },
        notIncluded: {
          xrayAtOneMillionPerMonth: sig(xraySteady, 3),
          naiveValkeyStorageMinimumPerMonth: sig(valkeyMinimumPerMonth, 3),
          fixedMonthly:
            'KMS key $1, Secrets Manager secret $0.40, CloudWatch alarms and dashboard: alike for both',
          forwardUrl:
            'with context forwardUrl: API destination invocations, $0.20 per million events (eventBridge entries × 0.2)',
        },
        eventsAdded,
      },
      assumptions: {
        latencyMs: LATENCY_MS,
        memoryMb: DEPLOYMENT.memoryMb,
        platformLogBytesPerInvocation: DEPLOYMENT.platformLogBytesPerInvocation,
        secretReads: `${1 + CONTAINERS} warm containers × one GetSecretValue per ${DEPLOYMENT.secretMaxAgeSeconds} s, at ${DEPLOYMENT.messagesPerMonth} messages a month`,
        prices: Object.fromEntries(
          Object.entries(PRICES).map(([k, p]) => [
            k,
            { usd: p.usd, per: p.per, source: p.source, asOf: p.asOf },
          ]),
        ),
      },
      measured: {
        verifierCpuMs: Math.round(verifierCpuMs),
        verifierWallMs: Math.round(verifierWallMs),
        processorCpuMs: Math.round(processorCpuMs),
        processorWallMs: Math.round(processor.wallMs),
        processorCpuMsPerEvent: sig(processorCpuMs / eventsTotal, 3),
        billedMsPerInboundMessage: sig(burst.lambdaMs / inbound, 3),
        dynamoLocalMsPerCall: sig(dynamoMeter.localMs / dynamoCalls, 3),
        ourLogBytesPerInvocation: Math.round(
          (verifierLogBytes + processorLogBytes) / (posts.length + processor.invocations),
        ),
        sqsSendBatchCalls: sqsMeter.sendBatchCalls,
        sqsMessages: sqsMeter.messages,
        conditionalFailures: dynamoMeter.conditionalFailures,
        wru: Math.round(dynamoMeter.wru),
        indexWriteUnits: Math.round(dynamoMeter.indexWru),
        rru: sig(dynamoMeter.rru, 4),
        ...Object.fromEntries(Object.entries(dynamoMeter.calls).map(([k, v]) => [`dynamo${k}`, v])),
        ...Object.fromEntries(Object.entries(dynamoMeter.getsByKind).map(([k, v]) => [`dynamoGet${k}`, v])),
        ...Object.fromEntries(Object.entries(dynamoMeter.wruBy).map(([k, v]) => [`wru ${k}`, Math.round(v)])),
        ...Object.fromEntries(Object.entries(dynamoMeter.rruBy).map(([k, v]) => [`rru ${k}`, sig(v, 4)])),
        ...Object.fromEntries(Object.entries(dynamoMeter.callsBy).map(([k, v]) => [`calls ${k}`, v])),
        kmsDecrypts: sealer.unseals,
        graphCalls,
        putEventsCalls: eventsMeter.putEventsCalls,
        eventEntries: eventsMeter.entries,
        eventsBilled: eventsMeter.billedEvents,
        meanEntryBytes: Math.round(eventsMeter.bytes / Math.max(1, eventsMeter.entries)),
        meanDeliveredEventBytes: Math.round(eventsMeter.deliveredBytes / Math.max(1, eventsMeter.entries)),
      },
    };
  } finally {
    await fake.stop();
    await dynamo.stop();
  }
}

interface Counts {
  posts: number;
  processorInvocations: number;
  /** Billed SQS requests (64 KB chunks). */
  sqs: number;
  dynamoCalls: number;
  rru: number;
  wru: number;
  kms: number;
  graph: number;
  secret: number;
  redis: number;
  /** EventBridge PutEvents calls, entries, custom events billed (64 KB chunks), bytes as delivered. */
  putEvents: number;
  eventEntries: number;
  eventsBilled: number;
  eventBytesDelivered: number;
  /** Billed Lambda milliseconds, every function. */
  lambdaMs: number;
  logBytes: number;
}

type Lines = ReturnType<typeof priced>;

/** USD for the workload, by line item. */
function priced(c: Counts) {
  return {
    apiGateway: c.posts * PRICES.apiGatewayHttpRequest.usd,
    lambdaRequests: (c.posts + c.processorInvocations) * PRICES.lambdaRequest.usd,
    lambdaDuration: (c.lambdaMs / 1000) * GB * PRICES.lambdaArmGbSecond.usd,
    sqs: c.sqs * PRICES.sqsFifoRequest.usd,
    dynamoWrites: c.wru * PRICES.dynamoWriteRequestUnit.usd,
    dynamoReads: c.rru * PRICES.dynamoReadRequestUnit.usd,
    kms: c.kms * PRICES.kmsRequest.usd,
    secretsManager: c.secret * PRICES.secretsManagerApiCall.usd,
    redis: c.redis * PRICES.elastiCacheServerlessValkeyEcpu.usd,
    cloudWatchLogs: (c.logBytes / GIB) * PRICES.cloudWatchLogsIngestedGb.usd,
    eventBridge: c.eventsBilled * PRICES.eventBridgeCustomEvent.usd,
    eventArchive: (c.eventBytesDelivered / GIB) * ARCHIVE_USD_PER_GB,
    eventLog: (c.eventBytesDelivered / GIB) * PRICES.cloudWatchLogsIngestedGb.usd,
  };
}

/** Archiving a GB: processing, plus storage for the retention (a steady stream keeps days/30 of a month's). */
const ARCHIVE_USD_PER_GB =
  PRICES.eventBridgeArchiveGb.usd + (DEPLOYMENT.eventArchiveDays / 30) * PRICES.eventBridgeArchiveGbMonth.usd;

/** The change log's share of a meter's figures by label (`Put EVENT`, `Query EVENT`, `Get CHANGE`, …). */
function ofChangeLog(by: Record<string, number>): number {
  return Object.entries(by)
    .filter(([label]) => CHANGE_LOG_KINDS.includes(label.split(' ')[1] ?? ''))
    .reduce((n, [, v]) => n + v, 0);
}

/** What the events feature adds (burst), beside Pagewire's total. */
function eventsAddedBy(c: Counts, meter: DynamoMeter, inbound: number, totalPerMillion: number): EventsAdded {
  const wru = ofChangeLog(meter.wruBy);
  const rru = ofChangeLog(meter.rruBy);
  const calls = ofChangeLog(meter.callsBy);
  const lines = priced(c);
  const perMillion = (usd: number) => sig((usd / inbound) * 1e6, 4);
  const waitsMs = c.putEvents * LATENCY_MS.eventBridgePutEvents + calls * LATENCY_MS.dynamo;
  const added = {
    eventBridge: lines.eventBridge,
    eventArchive: lines.eventArchive,
    eventLog: lines.eventLog,
    changeLogDynamo: wru * PRICES.dynamoWriteRequestUnit.usd + rru * PRICES.dynamoReadRequestUnit.usd,
    lambdaWaits: (waitsMs / 1000) * GB * PRICES.lambdaArmGbSecond.usd,
  };
  const total = Object.values(added).reduce((a, b) => a + b, 0);
  const per = (all: number, log: number) => ({
    total: sig(all / inbound, 3),
    changeLog: sig(log / inbound, 3),
    without: sig((all - log) / inbound, 3),
  });
  return {
    total: perMillion(total),
    shareOfTotal: sig(perMillion(total) / totalPerMillion, 2),
    lines: {
      eventBridge: perMillion(added.eventBridge),
      eventArchive: perMillion(added.eventArchive),
      eventLog: perMillion(added.eventLog),
      changeLogDynamo: perMillion(added.changeLogDynamo),
      lambdaWaits: perMillion(added.lambdaWaits),
    },
    dynamo: {
      calls: per(c.dynamoCalls, calls),
      readUnits: per(c.rru, rru),
      writeUnits: per(c.wru, wru),
    },
  };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function bytes(chunks: string[]): number {
  return chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
