/**
 * A small SQS on loopback, for the real SQSClient (endpoint override) in tests and benchmarks. It speaks
 * what @aws-sdk/client-sqs 3.x sends: the AWS JSON 1.0 protocol (`POST /`, `content-type:
 * application/x-amz-json-1.0`, `x-amz-target: AmazonSQS.<Action>`, the queue URL in the body), and
 * answers `SendMessage` and `SendMessageBatch` as SQS does, limits included: 1–10 entries with distinct
 * ids, 1 MiB per call, the characters SQS takes, FIFO group and deduplication ids (deduplicated per
 * group for 5 minutes, as the stack's high-throughput queues do), MD5 of each body (the SDK checks it).
 * Signatures are not checked. Other actions answer UnsupportedOperation.
 *
 * Knobs: `latencyMs` (each call answers after it), `pause()`/`resume()` (calls wait, counted in
 * flight) and `failEntry` (SQS reports chosen entries as failed).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { only } from './pick.js';

export const SQS_FAKE_ACCOUNT = '000000000000';
const MAX_PAYLOAD_BYTES = 1_048_576;
const MAX_ENTRIES = 10;
const DEDUP_WINDOW_MS = 5 * 60_000;
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_ID = /^[!-~]{1,128}$/;
/** What SQS takes in a message body (W3C XML Char), U+FFFE and U+FFFF excluded. */
const BODY_CHARS = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

export interface FakeSqsMessage {
  queue: string;
  messageId: string;
  body: string;
  groupId?: string;
  dedupId?: string;
  sequenceNumber: string;
  /** Index in `calls` of the call that brought it. */
  call: number;
}

export interface FakeSqsCall {
  action: string;
  queue?: string;
  entries: number;
}

export interface FakeEntryFailure {
  Code: string;
  SenderFault: boolean;
  Message?: string;
}

export interface SqsFakeOptions {
  /** Each call answers after this many ms (default 0). */
  latencyMs?: number;
  /** Called for every entry SQS would accept: a failure reported instead, or undefined to accept. */
  failEntry?: (entry: SendEntry, call: FakeSqsCall) => FakeEntryFailure | undefined;
}

export interface SendEntry {
  Id?: string;
  MessageBody?: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

class SqsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly queryCode = `AWS.SimpleQueueService.${code}`,
  ) {
    super(message);
  }
}

export class SqsFake {
  /** Every call, in arrival order. */
  readonly calls: FakeSqsCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly queues = new Map<string, FakeSqsMessage[]>();
  private readonly dedup = new Map<string, { at: number; message: FakeSqsMessage }>();
  private sequence = 0n;
  private server?: Server;
  private base = '';
  private paused?: { promise: Promise<void>; release: () => void };
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(private readonly opts: SqsFakeOptions = {}) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    this.resume();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return this.base;
  }

  /** Creates the queue (a name ending in `.fifo` is FIFO) and answers its URL. */
  createQueue(name: string): string {
    if (!this.queues.has(name)) this.queues.set(name, []);
    return `${this.base}/${SQS_FAKE_ACCOUNT}/${name}`;
  }

  /** The messages a queue holds, in the order SQS accepted them (duplicates dropped). */
  messages(name: string): FakeSqsMessage[] {
    return [...(this.queues.get(name) ?? [])];
  }

  /** Calls wait until `resume()`, counted in flight. */
  pause(): void {
    if (this.paused) return;
    let release = () => {};
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.paused = { promise, release };
  }

  resume(): void {
    this.paused?.release();
    this.paused = undefined;
  }

  /** Resolves once at least `count` calls are in flight. */
  waitForInFlight(count: number): Promise<void> {
    if (this.inFlight >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.enter();
    try {
      if (this.paused) await this.paused.promise;
      if (this.opts.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.opts.latencyMs));
      const answer = this.answer(req, Buffer.concat(chunks).toString('utf8'));
      send(res, 200, answer);
    } catch (error) {
      const e =
        error instanceof SqsError ? error : new SqsError('InternalError', String(error), 'InternalError');
      send(
        res,
        e.code === 'InternalError' ? 500 : 400,
        { __type: `com.amazonaws.sqs#${e.code}`, message: e.message },
        {
          'x-amzn-query-error': `${e.queryCode};${e.code === 'InternalError' ? 'Receiver' : 'Sender'}`,
        },
      );
    } finally {
      this.inFlight--;
    }
  }

  private enter(): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    for (const waiter of [...this.waiters]) {
      if (this.inFlight >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  private answer(req: IncomingMessage, text: string): unknown {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (
      req.method !== 'POST' ||
      !String(req.headers['content-type']).startsWith('application/x-amz-json-1.0')
    ) {
      throw new SqsError('InvalidAction', 'expected POST with application/x-amz-json-1.0', 'InvalidAction');
    }
    const action = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
    let input: { QueueUrl?: string } & Record<string, unknown>;
    try {
      input = JSON.parse(text);
    } catch {
      throw new SqsError('InvalidParameterValue', 'body is not JSON');
    }
    if (action === 'SendMessage') {
      const call: FakeSqsCall = { action, queue: this.queueName(input.QueueUrl), entries: 1 };
      this.calls.push(call);
      const result = this.sendBatch(call, [{ ...(input as SendEntry), Id: 'single' }]);
      if (result.Failed.length) {
        const [f] = result.Failed;
        if (f) throw new SqsError(f.Code, f.Message ?? f.Code);
      }
      const { Id: _id, ...ok } = only(result.Successful, 'sent entry');
      return ok;
    }
    if (action === 'SendMessageBatch') {
      const entries = (input.Entries ?? []) as SendEntry[];
      const call: FakeSqsCall = { action, queue: this.queueName(input.QueueUrl), entries: entries.length };
      this.calls.push(call);
      return this.sendBatch(call, entries);
    }
    this.calls.push({ action, entries: 0 });
    throw new SqsError('UnsupportedOperation', `the fake does not implement ${action || target}`);
  }

  private queueName(url: unknown): string {
    const name = typeof url === 'string' ? url.split('/').at(-1) : undefined;
    if (!name || !this.queues.has(name)) {
      throw new SqsError(
        'QueueDoesNotExist',
        'The specified queue does not exist.',
        'AWS.SimpleQueueService.NonExistentQueue',
      );
    }
    return name;
  }

  private sendBatch(call: FakeSqsCall, entries: SendEntry[]) {
    if (entries.length === 0) throw new SqsError('EmptyBatchRequest', 'no entries');
    if (entries.length > MAX_ENTRIES)
      throw new SqsError('TooManyEntriesInBatchRequest', `${entries.length} entries`);
    const ids = entries.map((e) => String(e.Id));
    if (new Set(ids).size !== ids.length) throw new SqsError('BatchEntryIdsNotDistinct', 'ids repeat');
    if (!ids.every((id) => ENTRY_ID.test(id))) throw new SqsError('InvalidBatchEntryId', 'bad entry id');
    const bytes = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? '', 'utf8'), 0);
    if (bytes > MAX_PAYLOAD_BYTES) throw new SqsError('BatchRequestTooLong', `${bytes} bytes`);
    const queue = call.queue as string;
    const fifo = queue.endsWith('.fifo');
    const Successful: Array<{
      Id: string;
      MessageId: string;
      MD5OfMessageBody: string;
      SequenceNumber?: string;
    }> = [];
    const Failed: Array<FakeEntryFailure & { Id: string }> = [];
    for (const entry of entries) {
      const Id = String(entry.Id);
      const failure = invalid(entry, fifo) ?? this.opts.failEntry?.(entry, call);
      if (failure) {
        Failed.push({ Id, ...failure });
        continue;
      }
      const message = this.store(queue, entry, fifo, this.calls.indexOf(call));
      Successful.push({
        Id,
        MessageId: message.messageId,
        MD5OfMessageBody: createHash('md5')
          .update(entry.MessageBody ?? '', 'utf8')
          .digest('hex'),
        ...(fifo ? { SequenceNumber: message.sequenceNumber } : {}),
      });
    }
    return { Successful, Failed };
  }

  /** Appends the message, or answers the one it duplicates (same group and dedup id within 5 minutes). */
  private store(queue: string, entry: SendEntry, fifo: boolean, call: number): FakeSqsMessage {
    const key = fifo ? `${queue}\n${entry.MessageGroupId}\n${entry.MessageDeduplicationId}` : undefined;
    const now = Date.now();
    const seen = key ? this.dedup.get(key) : undefined;
    if (seen && now - seen.at < DEDUP_WINDOW_MS) return seen.message;
    this.sequence += 1n;
    const message: FakeSqsMessage = {
      queue,
      messageId: randomUUID(),
      body: entry.MessageBody ?? '',
      groupId: entry.MessageGroupId,
      dedupId: entry.MessageDeduplicationId,
      sequenceNumber: String(this.sequence).padStart(20, '0'),
      call,
    };
    this.queues.get(queue)?.push(message);
    if (key) this.dedup.set(key, { at: now, message });
    return message;
  }
}

/** Why SQS refuses an entry, if it does. */
function invalid(entry: SendEntry, fifo: boolean): FakeEntryFailure | undefined {
  const body = entry.MessageBody;
  if (typeof body !== 'string' || body === '') {
    return { Code: 'MissingParameter', SenderFault: true, Message: 'MessageBody is required' };
  }
  if (!BODY_CHARS.test(body)) {
    return { Code: 'InvalidMessageContents', SenderFault: true, Message: 'Invalid characters in the body' };
  }
  if (Buffer.byteLength(body, 'utf8') > MAX_PAYLOAD_BYTES) {
    return { Code: 'InvalidParameterValue', SenderFault: true, Message: 'Message too long' };
  }
  if (!fifo) return undefined;
  if (!FIFO_ID.test(entry.MessageGroupId ?? '')) {
    return { Code: 'MissingParameter', SenderFault: true, Message: 'MessageGroupId is missing or invalid' };
  }
  if (!FIFO_ID.test(entry.MessageDeduplicationId ?? '')) {
    return { Code: 'InvalidParameterValue', SenderFault: true, Message: 'MessageDeduplicationId is invalid' };
  }
  return undefined;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(text);
}

/** The real SQS client of the SDK, pointed at the fake (no credentials needed, none sent anywhere else). */
export function fakeSqsClient(fake: SqsFake, config: SQSClientConfig = {}): SQSClient {
  return new SQSClient({
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' },
    ...config,
  });
}
