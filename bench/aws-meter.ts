/**
 * Meters for the AWS calls a workload makes through the real handlers: a document client that counts
 * calls and DynamoDB capacity units (asking dynalite with `ReturnConsumedCapacity: 'TOTAL'`, adding the
 * index writes dynalite does not count), an SQS client that hands batches to the LocalFifoQueue and
 * counts billed requests, an EventBridge client that accepts every entry and counts PutEvents calls,
 * entries and billed events, and a token sealer that counts KMS calls.
 */

import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { entrySize } from '#adapters/aws/eventbridge-publisher';
import type { EventQueue, TokenSealer } from '#ports/ports';
import { GSI1_PK, TSK } from '#store/table';
import { tappedDocClient } from '#testkit/sdk-tap';

export interface DynamoMeter {
  calls: Record<string, number>;
  /** Calls by operation and record kind: `Put EVENT`, `Query EVENT`, `Get PAGE`, … */
  callsBy: Record<string, number>;
  /** Read request units (strongly consistent ≤ 4 KB = 1). */
  rru: number;
  /** Write request units: the table plus every index write (LSI byTime, GSI byType). */
  wru: number;
  /** WRUs of which: index writes. */
  indexWru: number;
  conditionalFailures: number;
  /** GetItem calls by record kind (the sort key's prefix: PAGE, CONTACT, CONV, ITEM). */
  getsByKind: Record<string, number>;
  /** Write units by operation: `Put ITEM`, `Update CONV`, … (index writes included). */
  wruBy: Record<string, number>;
  /** Read units by operation: `Get PAGE`, `Query EVENT` (a query by the sort key prefix it asks for), … */
  rruBy: Record<string, number>;
  /** Sum of local call latencies (ms). */
  localMs: number;
}

const SIXTY_FOUR_KB = 64 * 1024;

/** A document client on the DynamoDB at `endpoint` that meters every call; repositories use it unchanged. */
export function meteredDocClient(endpoint: string): {
  doc: DynamoDBDocumentClient;
  meter: DynamoMeter;
} {
  const meter: DynamoMeter = {
    calls: {},
    callsBy: {},
    rru: 0,
    wru: 0,
    indexWru: 0,
    conditionalFailures: 0,
    getsByKind: {},
    wruBy: {},
    rruBy: {},
    localMs: 0,
  };
  const doc = tappedDocClient(endpoint, async ({ name: commandName, command, input }, send) => {
    const name = commandName.replace(/Command$/, '');
    meter.calls[name] = (meter.calls[name] ?? 0) + 1;
    const sk = String(((input.Key ?? input.Item) as { sk?: string } | undefined)?.sk ?? querySk(input));
    const [kind = ''] = sk.split('#');
    if (command instanceof GetCommand) meter.getsByKind[kind] = (meter.getsByKind[kind] ?? 0) + 1;
    const label = `${name} ${kind}`;
    meter.callsBy[label] = (meter.callsBy[label] ?? 0) + 1;
    input.ReturnConsumedCapacity = 'TOTAL';
    const isWrite = command instanceof PutCommand || command instanceof UpdateCommand;
    // The old item tells which index entries a write replaced; the caller never sees it (unless it asked
    // for it itself).
    const addedOld = isWrite && input.ReturnValues === undefined;
    const oldKnown = addedOld || (isWrite && input.ReturnValues === 'ALL_OLD');
    if (addedOld) input.ReturnValues = 'ALL_OLD';
    const start = process.hrtime.bigint();
    try {
      const out = await send();
      const units = Number(
        (out.ConsumedCapacity as { CapacityUnits?: number } | undefined)?.CapacityUnits ?? 0,
      );
      if (command instanceof GetCommand || command instanceof QueryCommand) {
        meter.rru += units;
        meter.rruBy[label] = (meter.rruBy[label] ?? 0) + units;
      }
      if (isWrite) {
        const old = (oldKnown ? out.Attributes : undefined) as Record<string, unknown> | undefined;
        const indexWrites = indexWritesOf(command, input, old, oldKnown);
        meter.wru += units + indexWrites * units;
        meter.indexWru += indexWrites * units;
        meter.wruBy[label] = (meter.wruBy[label] ?? 0) + units + indexWrites * units;
      }
      if (addedOld) {
        delete out.Attributes;
        delete input.ReturnValues;
      }
      delete out.ConsumedCapacity;
      return out;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') {
        // A failed condition still costs the write (at least one unit); no index is touched.
        meter.conditionalFailures++;
        meter.wru += 1;
        meter.wruBy[`${label} (condition failed)`] = (meter.wruBy[`${label} (condition failed)`] ?? 0) + 1;
      }
      throw err;
    } finally {
      meter.localMs += Number(process.hrtime.bigint() - start) / 1e6;
    }
  });
  return { doc, meter };
}

/** A query's sort key condition value (`EVENT#` for `begins_with(sk, :prefix)`), '' when it has none. */
function querySk(input: Record<string, unknown>): string {
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  const sk = Object.entries(values).find(([k, v]) => k !== ':pk' && typeof v === 'string');
  return String(sk?.[1] ?? '');
}

/** How many index entries a write put or removed (each costs as many units as the item). */
function indexWritesOf(
  command: unknown,
  input: Record<string, unknown>,
  old: Record<string, unknown> | undefined,
  oldKnown: boolean,
): number {
  let writes = 0;
  for (const attr of [TSK, GSI1_PK]) {
    const before = old?.[attr];
    let after: unknown;
    if (command instanceof PutCommand) {
      after = (input.Item as Record<string, unknown>)[attr];
    } else {
      const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
      const expression = String(input.UpdateExpression ?? '');
      const alias = Object.entries(names).find(([, v]) => v === attr)?.[0];
      const sets = new RegExp(`(?:^|[\\s,])(${alias ?? attr})\\s*=\\s*(:[\\w]+)`).exec(expression);
      const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
      after = sets?.[2] ? values[sets[2]] : before;
      // Without the old item (the caller asked for its own ReturnValues), assume an index entry is updated.
      if (!oldKnown && sets) return writes + 1;
    }
    if (before === undefined && after === undefined) continue;
    writes += before !== undefined && after !== undefined && before !== after ? 2 : 1;
  }
  return writes;
}

export interface SqsMeter {
  sendBatchCalls: number;
  /** SendMessageBatch requests as billed: one per 64 KB chunk of each batch's payload. */
  sendBilled: number;
  messages: number;
  bytes: number;
}

/**
 * An SQSClient for the real SqsEventQueue (so its batching is what gets counted) that hands each batch
 * to a local queue and answers that every entry was taken.
 */
export function meteredSqsClient(target: EventQueue): { client: SQSClient; meter: SqsMeter } {
  const meter: SqsMeter = { sendBatchCalls: 0, sendBilled: 0, messages: 0, bytes: 0 };
  const client = {
    async send(command: SendMessageBatchCommand) {
      const entries = command.input.Entries ?? [];
      const bytes = entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody ?? ''), 0);
      meter.sendBatchCalls++;
      meter.sendBilled += Math.max(1, Math.ceil(bytes / SIXTY_FOUR_KB));
      meter.messages += entries.length;
      meter.bytes += bytes;
      await target.send(
        entries.map((e) => ({
          groupId: e.MessageGroupId ?? '',
          dedupId: e.MessageDeduplicationId ?? '',
          body: e.MessageBody ?? '',
        })),
      );
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    },
  } as unknown as SQSClient;
  return { client, meter };
}

export interface EventBridgeMeter {
  putEventsCalls: number;
  entries: number;
  /** Custom events as billed: each entry is charged per 64 KB chunk (entrySize, as the publisher counts it). */
  billedEvents: number;
  /** The entries' sizes as entrySize counts them. */
  bytes: number;
  /** The events as the bus delivers them (envelope and detail): what the archive and the log rule store. */
  deliveredBytes: number;
}

/** The envelope EventBridge wraps around `detail` on delivery; ids, account and time at their real lengths. */
function envelopeBytes(detailType: string, source: string): number {
  const envelope = {
    version: '0',
    id: '00000000-0000-0000-0000-000000000000',
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: null,
  };
  return Buffer.byteLength(JSON.stringify(envelope)) - 'null'.length;
}

/**
 * An EventBridgeClient for the real EventBridgePublisher (so its batching, ≤ 10 entries and 256 KB a
 * call, is what gets counted) that accepts every entry as EventBridge would answer it.
 */
export function meteredEventBridgeClient(): { client: EventBridgeClient; meter: EventBridgeMeter } {
  const meter: EventBridgeMeter = {
    putEventsCalls: 0,
    entries: 0,
    billedEvents: 0,
    bytes: 0,
    deliveredBytes: 0,
  };
  const client = {
    async send(command: PutEventsCommand) {
      const entries = command.input.Entries ?? [];
      meter.putEventsCalls++;
      meter.entries += entries.length;
      for (const entry of entries) {
        const size = entrySize(entry);
        meter.bytes += size;
        meter.deliveredBytes +=
          envelopeBytes(entry.DetailType ?? '', entry.Source ?? '') + Buffer.byteLength(entry.Detail ?? '');
        meter.billedEvents += Math.max(1, Math.ceil(size / SIXTY_FOUR_KB));
      }
      return {
        FailedEntryCount: 0,
        Entries: entries.map(() => ({ EventId: `bench-${meter.entries}` })),
      };
    },
  } as unknown as EventBridgeClient;
  return { client, meter };
}

/** Receives and deletes as Lambda's event source mapping makes them: one of each per batch. */
export function billedReceive(bodies: string[]): number {
  const bytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
  return Math.max(1, Math.ceil(bytes / SIXTY_FOUR_KB));
}

/** Counts unseals (each one a KMS Decrypt on AWS) and seals (Encrypt). */
export class CountingSealer implements TokenSealer {
  unseals = 0;
  seals = 0;

  constructor(private readonly inner: TokenSealer) {}

  seal(pageId: string, token: string): Promise<string> {
    this.seals++;
    return this.inner.seal(pageId, token);
  }

  unseal(pageId: string, sealed: string): Promise<string> {
    this.unseals++;
    return this.inner.unseal(pageId, sealed);
  }
}
