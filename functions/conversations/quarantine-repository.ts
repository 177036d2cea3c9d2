import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { QuarantineRecord } from '#contracts/quarantine-record';
import type { BlobStore } from '#ports/ports';
import { recordOf } from '#store/records';
import { itemBlobKey, keyPart } from '#store/storable';
import {
  BY_TIME_INDEX,
  BY_TYPE_INDEX,
  GSI1_PK,
  GSI1_SK,
  isConditionFailed,
  PK,
  paddedTime,
  QUARANTINE_PREFIX,
  QUARANTINE_TYPE,
  QUARANTINED_EVENT_PREFIX,
  queryAll,
  SK,
  TSK,
} from '#store/table';

/** What the processor knows of an event it cannot apply. */
export interface QuarantineEntry {
  pageId: string;
  userId: string;
  eventId: string;
  timestamp?: number;
  reason: string;
  detail?: string;
  receiveCount?: number;
  /** The queue message body as it came. */
  body: string;
}

/** A quarantined event as listed: without its body. */
export type QuarantineSummary = Omit<QuarantineRecord, 'body' | 'bodyBlob'>;

/** Exactly once per page and event id: a redelivered poison event finds its record and adds nothing. */
const FIRST_QUARANTINE = 'attribute_not_exists(pk)';

/** Bodies above this go to the blob store: the record stays cheap to list (the GSI copies it). */
export const INLINE_BODY_LIMIT = 32 * 1024;
/** Ids and the detail as attributes are cut here; the body keeps the whole of them. */
const ATTRIBUTE_LIMIT = 1024;

export const quarantinePk = (pageId: string) => `${QUARANTINE_PREFIX}${keyPart(pageId)}`;
export const quarantineKey = (pageId: string, eventId: string) => ({
  [PK]: quarantinePk(pageId),
  [SK]: `${QUARANTINED_EVENT_PREFIX}${keyPart(eventId)}`,
});

/** Events that cannot be applied, kept with their reason and body so nothing answered 200 is lost. */
export class QuarantineRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Needed to quarantine a large body, and to read one back. */
    private readonly blobs: BlobStore | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Records the event unless it is already recorded; a large body goes to the blob store first. */
  async add(entry: QuarantineEntry): Promise<'quarantined' | 'already'> {
    const at = this.now();
    const record: QuarantineRecord = {
      pageId: cut(entry.pageId),
      userId: cut(entry.userId),
      eventId: cut(entry.eventId),
      ...(isStorableNumber(entry.timestamp) ? { timestamp: entry.timestamp } : {}),
      reason: cut(entry.reason),
      ...(entry.detail ? { detail: cut(entry.detail) } : {}),
      quarantinedAt: at.toISOString(),
      ...(entry.receiveCount !== undefined ? { receiveCount: entry.receiveCount } : {}),
      ...(await this.keepBody(entry)),
    };
    const time = paddedTime(at.getTime());
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...record,
            ...quarantineKey(entry.pageId, entry.eventId),
            [TSK]: `${time}#${keyPart(entry.eventId)}`,
            [GSI1_PK]: QUARANTINE_TYPE,
            [GSI1_SK]: `${time}#${keyPart(entry.pageId)}#${keyPart(entry.eventId)}`,
          },
          ConditionExpression: FIRST_QUARANTINE,
        }),
      );
      return 'quarantined';
    } catch (error) {
      if (isConditionFailed(error)) return 'already';
      throw error;
    }
  }

  /** Quarantined events, newest first: of one page (consistent), or of every page (the GSI). */
  async list(opts: { pageId?: string; limit?: number } = {}): Promise<QuarantineSummary[]> {
    const items =
      opts.pageId === undefined
        ? await queryAll(
            this.doc,
            {
              TableName: this.tableName,
              IndexName: BY_TYPE_INDEX,
              KeyConditionExpression: '#type = :type',
              ExpressionAttributeNames: { '#type': GSI1_PK },
              ExpressionAttributeValues: { ':type': QUARANTINE_TYPE },
              ScanIndexForward: false,
            },
            opts.limit,
          )
        : await queryAll(
            this.doc,
            {
              TableName: this.tableName,
              IndexName: BY_TIME_INDEX,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': quarantinePk(opts.pageId) },
              ScanIndexForward: false,
              ConsistentRead: true,
            },
            opts.limit,
          );
    return items.map((item) => {
      const { body: _body, bodyBlob: _blob, ...summary } = recordOf(QuarantineRecord, item);
      return summary;
    });
  }

  /** One quarantined event with its body, read back from the blob store when it is not inline. */
  async get(pageId: string, eventId: string): Promise<QuarantineRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: quarantineKey(pageId, eventId),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const record = recordOf(QuarantineRecord, Item);
    if (record.body !== undefined || !record.bodyBlob) return record;
    const body = await this.blobs?.get(record.bodyBlob);
    return body ? { ...record, body: body.toString('utf8') } : record;
  }

  private async keepBody(
    entry: QuarantineEntry,
  ): Promise<Pick<QuarantineRecord, 'body' | 'bodyBlob' | 'bodySize'>> {
    const bytes = Buffer.from(entry.body, 'utf8');
    if (bytes.length <= INLINE_BODY_LIMIT) return { body: entry.body, bodySize: bytes.length };
    if (!this.blobs)
      throw new Error('a quarantined body exceeds the inline limit and no blob store is configured');
    const key = itemBlobKey(['quarantine', entry.pageId, entry.eventId], bytes);
    await this.blobs.put(key, bytes);
    return { bodyBlob: key, bodySize: bytes.length };
  }
}

function cut(value: string): string {
  return value.length <= ATTRIBUTE_LIMIT ? value : `${value.slice(0, ATTRIBUTE_LIMIT)}…`;
}

/** A number lib-dynamodb marshals and DynamoDB keeps (the body keeps any other as it came). */
function isStorableNumber(value: number | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}
