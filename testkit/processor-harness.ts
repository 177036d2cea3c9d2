/**
 * The events processor wired to real collaborators for integration tests: dynalite (through a document
 * client that logs, and can hold, every command), the Graph API fake on loopback, the local keyring
 * behind a sealer that counts (and can refuse) unseals, and SQS events built the way the verifier queues
 * them (parseWebhook → toQueueMessage) and the event source delivers them.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { loadConfig } from '#app/config';
import { processorDeps } from '#app/processor';
import { ContactRepository } from '#contacts/contact-repository';
import type { PageRecord } from '#contracts/page-record';
import type { QueueMessage } from '#contracts/queue';
import { ConversationRepository } from '#conversations/conversation-repository';
import { createEventsProcessor, type ProcessorDeps } from '#conversations/process-events';
import { QuarantineRepository } from '#conversations/quarantine-repository';
import { GraphClient } from '#graph/graph-client';
import { parseWebhook, toQueueMessage } from '#ingest/parse-webhook';
import { lambdaContext } from '#local/lambda-context';
import { PageRepository } from '#pages/page-repository';
import type { MediaStore } from '#ports/media';
import type { TokenSealer } from '#ports/ports';
import { TokenUnsealError } from '#ports/token-errors';
import { lambda } from '#runtime/lambda';
import { type GraphCall, GraphFake } from '#testkit/graph-faults';
import { type MemoryPublisher, memoryPublisher } from '#testkit/memory-publisher';
import type { TestDynamo } from './dynamo.js';
import { only } from './pick.js';
import { type TappedCall, tappedDocClient } from './sdk-tap.js';
import { seedPages } from './seed.js';

/** The app id the fixtures' echoes carry. */
export const PROCESSOR_APP_ID = '1517776481860111';
export const EVENTS_QUEUE_ARN = 'arn:aws:sqs:local:000000000000:pagewire-events.fifo';

export type EventsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

// ---- SQS events ------------------------------------------------------------------------------------

/** The FIFO messages the verifier would queue for this webhook body; every event must be accepted. */
export function queueMessagesOf(body: string): QueueMessage[] {
  const parsed = parseWebhook(body);
  if (!parsed.ok) throw new Error(`fixture body refused: ${parsed.message}`);
  if (parsed.rejected.length) throw new Error(`fixture events refused: ${JSON.stringify(parsed.rejected)}`);
  return parsed.events.map(toQueueMessage);
}

let sequence = 0;

/** One SQS record for a FIFO message, shaped as Lambda's event source (and LocalFifoQueue) deliver it. */
export function sqsRecord(message: QueueMessage, receiveCount = 1): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: randomBytes(16).toString('base64url'),
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: '000000000000',
      ApproximateFirstReceiveTimestamp: now,
      SequenceNumber: String(++sequence).padStart(20, '0'),
      MessageGroupId: message.groupId,
      MessageDeduplicationId: message.dedupId,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body, 'utf8').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: EVENTS_QUEUE_ARN,
    awsRegion: 'local',
  };
}

/** Records for every event of these webhook bodies, in order. */
export function recordsOf(...bodies: string[]): SQSRecord[] {
  return bodies.flatMap(queueMessagesOf).map((message) => sqsRecord(message));
}

/** An SQS event as Lambda delivers it from a FIFO queue: at most 10 records. */
export function sqsEvent(records: SQSRecord[]): SQSEvent {
  if (records.length === 0 || records.length > 10) {
    throw new Error(`a FIFO batch holds 1 to 10 records, not ${records.length}`);
  }
  return { Records: records };
}

// ---- DynamoDB ----------------------------------------------------------------------------------------

/** One document command the processor sent (name, an `instanceof`-able command, its input). */
export type SentCommand = TappedCall;

export interface DynamoGate {
  /** Resolves once a matching command is waiting at the gate. */
  reached: Promise<void>;
  release(): void;
}

/** A document client on the test dynalite that logs every command, and can hold or fail matching ones. */
export function countingDocClient(dynamo: TestDynamo) {
  const sent: SentCommand[] = [];
  const gates: Array<{ match: (c: SentCommand) => boolean; open: Promise<void>; arrive: () => void }> = [];
  const faults: Array<{ match: (c: SentCommand) => boolean; left: number; name: string }> = [];
  const doc = tappedDocClient(dynamo.endpoint, async (entry, send) => {
    sent.push(entry);
    for (const gate of gates) {
      if (gate.match(entry)) {
        gate.arrive();
        await gate.open;
      }
    }
    const fault = faults.find((f) => f.left > 0 && f.match(entry));
    if (fault) {
      fault.left -= 1;
      throw Object.assign(new Error(`${fault.name} (injected by the test)`), { name: fault.name });
    }
    return send();
  });
  return {
    doc,
    sent,
    /** The next `times` commands `match` accepts fail with this error name, as DynamoDB would answer. */
    failNext(match: (c: SentCommand) => boolean, times = 1, name = 'ProvisionedThroughputExceededException') {
      faults.push({ match, left: times, name });
    },
    /** Holds every command `match` accepts until `release()`. */
    hold(match: (c: SentCommand) => boolean): DynamoGate {
      let arrive = () => {};
      let release = () => {};
      const reached = new Promise<void>((resolve) => {
        arrive = resolve;
      });
      const open = new Promise<void>((resolve) => {
        release = resolve;
      });
      const gate = { match, open, arrive };
      gates.push(gate);
      return {
        reached,
        release: () => {
          gates.splice(gates.indexOf(gate), 1);
          release();
        },
      };
    },
  };
}

/** An UpdateCommand of the conversation record of that contact. */
export function isConversationUpdate(c: SentCommand, pageId: string, userId: string): boolean {
  if (!(c.command instanceof UpdateCommand)) return false;
  const key = c.input.Key as { pk?: string; sk?: string } | undefined;
  return key?.pk === `PAGE#${pageId}` && key.sk === `CONV#${userId}`;
}

/** A GetCommand of that record kind (`PAGE`, `CONTACT#…`), optionally of one page. */
export function isGet(c: SentCommand, skPrefix: string, pageId?: string): boolean {
  if (!(c.command instanceof GetCommand)) return false;
  const key = c.input.Key as { pk?: string; sk?: string } | undefined;
  if (!key?.sk?.startsWith(skPrefix)) return false;
  return pageId === undefined || key.pk === `PAGE#${pageId}`;
}

// ---- token sealer ------------------------------------------------------------------------------------

/** Wraps a sealer: counts unseals per page, and refuses them for chosen pages (as KMS might). */
export class CountingSealer implements TokenSealer {
  /** The page of every unseal call, in order. */
  readonly unsealed: string[] = [];
  private readonly refusals = new Map<string, number>();

  constructor(private readonly inner: TokenSealer) {}

  seal(pageId: string, token: string): Promise<string> {
    return this.inner.seal(pageId, token);
  }

  async unseal(pageId: string, sealed: string): Promise<string> {
    this.unsealed.push(pageId);
    const left = this.refusals.get(pageId) ?? 0;
    if (left > 0) {
      this.refusals.set(pageId, left - 1);
      throw new TokenUnsealError(pageId, 'ThrottlingException (test)');
    }
    return this.inner.unseal(pageId, sealed);
  }

  /** The next `times` unseals for the page throw. */
  refuse(pageId: string, times = Number.POSITIVE_INFINITY): void {
    this.refusals.set(pageId, times);
  }

  unsealCount(pageId: string): number {
    return this.unsealed.filter((id) => id === pageId).length;
  }
}

// ---- the world ---------------------------------------------------------------------------------------

export interface ProcessorWorldOptions {
  pageCacheTtlMs?: number;
  /**
   * Each invocation gets so little time that the Graph client has no budget for a retry (the retry
   * policy only retries when back-off plus one more attempt fits): every Graph call is one attempt,
   * so the processor's own handling of a failed call shows.
   */
  noRetryBudget?: boolean;
  /** The media copies (SPEC §10): an unsent message's are erased from it. */
  media?: MediaStore;
}

export interface ProcessorWorld {
  tableName: string;
  fake: GraphFake;
  sealer: CountingSealer;
  /** Every DynamoDB command the processor sent. */
  sent: SentCommand[];
  hold: ReturnType<typeof countingDocClient>['hold'];
  failNext: ReturnType<typeof countingDocClient>['failNext'];
  /** The processor's collaborators (one warm container). */
  deps: ProcessorDeps;
  /** The processor's blob store: claim-checked events, oversize parts, large quarantined bodies. */
  blobs: MemoryBlobStore;
  /** The processor handler of that container. */
  handler: EventsHandler;
  pages: PageRepository;
  conversations: ConversationRepository;
  contacts: ContactRepository;
  /** The test's view of the quarantine (same table and blob store). */
  quarantine: QuarantineRepository;
  /** Stores an `active` page whose token (from the fake) is sealed by the keyring. */
  seedPage(pageId: string, changes?: Partial<PageRecord>): Promise<PageRecord>;
  /**
   * What connecting the page again does to the store: the page's admin logs in, `/me/accounts` hands out
   * the page's current token (a fresh one after a revocation), and the page is stored `active` with it.
   */
  reconnectPage(pageId: string): Promise<PageRecord>;
  /** Another container: same table, fake and sealer, empty caches. */
  coldHandler(): EventsHandler;
  run(event: SQSEvent, handler?: EventsHandler): Promise<SQSBatchResponse>;
  /** The public events the processor published (SPEC §8). */
  publisher: MemoryPublisher;
  /** Every event of the bodies in one batch. */
  deliver(...bodies: string[]): Promise<SQSBatchResponse>;
  /** The profile calls (`GET /{psid}?fields=…`) the fake received, optionally for one PSID. */
  profileCalls(psid?: string): GraphCall[];
  stop(): Promise<void>;
}

export async function createProcessorWorld(
  dynamo: TestDynamo,
  opts: ProcessorWorldOptions = {},
): Promise<ProcessorWorld> {
  const appSecret = randomBytes(16).toString('hex');
  const fake = new GraphFake({ appId: PROCESSOR_APP_ID, appSecret });
  const graphUrl = await fake.start();
  const tableName = await dynamo.createTable();
  const { doc, sent, hold, failNext } = countingDocClient(dynamo);
  const keyring = LocalKeyring.ephemeral();
  const sealer = new CountingSealer(keyring);
  const config = loadConfig({
    TABLE_NAME: tableName,
    GRAPH_API_URL: graphUrl,
    GRAPH_API_VERSION: 'v24.0',
    GRAPH_TIMEOUT_MS: opts.noRetryBudget ? '1000' : '5000',
    PAGE_CACHE_TTL_MS: String(opts.pageCacheTtlMs ?? 60_000),
  });
  const credentials = new EnvCredentials({
    FB_APP_ID: PROCESSOR_APP_ID,
    FB_APP_SECRET: appSecret,
    FB_VERIFY_TOKEN: 'verify-me',
  });
  const blobs = new MemoryBlobStore();
  const publisher = memoryPublisher();
  const deps = processorDeps(config, {
    table: doc,
    sealer,
    credentials,
    blobs,
    publisher,
    media: opts.media,
  });
  // Wrapped as every deployed entry point is (context logging, metrics, the invocation's time budget).
  const wrap = (d: ProcessorDeps): EventsHandler => lambda(createEventsProcessor(d));
  const handler = wrap(deps);
  const invocationMs = opts.noRetryBudget ? 2_500 : 30_000;
  // The test's own view of the table goes around the counting client.
  const pages = new PageRepository(dynamo.doc, tableName);
  const admins = new Map<string, string>();

  const world: ProcessorWorld = {
    tableName,
    fake,
    sealer,
    sent,
    hold,
    failNext,
    deps,
    blobs,
    publisher,
    handler,
    pages,
    conversations: new ConversationRepository(dynamo.doc, tableName, blobs),
    quarantine: new QuarantineRepository(dynamo.doc, tableName, blobs),
    contacts: new ContactRepository(dynamo.doc, tableName),
    async seedPage(pageId, changes = {}) {
      if (!admins.has(pageId)) {
        const admin = fake.addUser({
          name: `Admin of ${pageId}`,
          pages: [{ id: pageId, name: `Page ${pageId}` }],
        });
        admins.set(pageId, admin.shortLivedToken);
      }
      const seeded = await seedPages(pages, keyring, [{ pageId, token: fake.pageToken(pageId), changes }]);
      return only(seeded, 'seeded page');
    },
    async reconnectPage(pageId) {
      const graph = new GraphClient({
        baseUrl: graphUrl,
        version: 'v24.0',
        appId: PROCESSOR_APP_ID,
        appSecret,
        timeoutMs: 5_000,
      });
      const listed = await graph.listPages(await graph.exchangeUserToken(admins.get(pageId) as string));
      if (!listed.some((p) => p.id === pageId)) throw new Error(`page ${pageId} not listed`);
      return world.seedPage(pageId);
    },
    coldHandler: () => wrap(processorDeps(config, { table: doc, sealer, credentials, blobs, publisher })),
    run: (event, h = handler) => h(event, lambdaContext('pagewire-processor', invocationMs)),
    deliver: (...bodies) => world.run(sqsEvent(recordsOf(...bodies))),
    profileCalls: (psid) =>
      fake.calls.filter(
        (c) =>
          c.method === 'GET' &&
          c.query.fields === 'first_name,last_name,profile_pic' &&
          (psid === undefined || c.path === `/${psid}`),
      ),
    stop: () => fake.stop(),
  };
  return world;
}
