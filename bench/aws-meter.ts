/**
 * Meters for the AWS calls a workload makes through the real handlers: a document client that counts
 * calls and DynamoDB capacity units (asking dynalite with `ReturnConsumedCapacity: 'TOTAL'`, adding the
 * index writes dynalite does not count), an SQS client that hands batches to the LocalFifoQueue and
 * counts billed requests, and a token sealer that counts KMS calls.
 */

import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EventQueue, TokenSealer } from '#ports/ports';
import { GSI1_PK, TSK } from '#store/table';
import { tappedDocClient } from '#testkit/sdk-tap';

export interface DynamoMeter {
  calls: Record<string, number>;
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
    rru: 0,
    wru: 0,
    indexWru: 0,
    conditionalFailures: 0,
    getsByKind: {},
    wruBy: {},
    localMs: 0,
  };
  const doc = tappedDocClient(endpoint, async ({ name: commandName, command, input }, send) => {
    const name = commandName.replace(/Command$/, '');
    meter.calls[name] = (meter.calls[name] ?? 0) + 1;
    const sk = String(((input.Key ?? input.Item) as { sk?: string } | undefined)?.sk ?? '');
    const [kind = ''] = sk.split('#');
    if (command instanceof GetCommand) meter.getsByKind[kind] = (meter.getsByKind[kind] ?? 0) + 1;
    const label = `${name} ${kind}`;
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
      if (command instanceof GetCommand || command instanceof QueryCommand) meter.rru += units;
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
