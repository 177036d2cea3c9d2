/**
 * The single Pagewire table: key layout, its definition (CDK, and local/dynalite.ts creates it locally)
 * and key helpers.
 *
 * | record        | pk                       | sk                 | index attributes                             |
 * |---------------|--------------------------|--------------------|----------------------------------------------|
 * | page          | `PAGE#{pageId}`          | `PAGE`             | gsi1pk `PAGE`, gsi1sk `{pageId}`             |
 * | contact       | `PAGE#{pageId}`          | `CONTACT#{userId}` | tsk `PENDING#{userId}` while pending         |
 * | conversation  | `PAGE#{pageId}`          | `CONV#{userId}`    | none                                         |
 * | timeline item | `CONV#{pageId}#{userId}` | `ITEM#{mid}`       | tsk `{15-digit timestamp}#{mid}`             |
 * | quarantine    | `QUARANTINE#{pageId}`    | `EVENT#{eventId}`  | tsk `{15-digit time}#{eventId}`, gsi1pk      |
 * |               |                          |                    | `QUARANTINE`, gsi1sk `{time}#{pageId}#{eventId}` |
 * | connect link  | `LINK#{linkId}`          | `LINK`             | none; `ttl` (epoch s) deletes it             |
 *
 * A quarantine record is an event that cannot be applied (quarantine-repository.ts); its ids in keys are
 * `keyPart`s (storable.ts): themselves, or a digest when long or malformed; its time is when it was
 * quarantined.
 *
 * GSI `byType` (sparse) lists pages, and quarantined events newest first. LSI `byTime` orders timeline
 * items oldest first (with consistent reads), finds contacts whose profile is pending and lists a page's
 * quarantined events. Conversations stay out of it: their `lastMessageAt` moves with every message, and
 * an index entry moved costs two more write units each time; the admin listing reads a page's
 * conversations from the table and sorts them itself.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  paginateQuery,
  type QueryCommandInput,
  type TranslateConfig,
} from '@aws-sdk/lib-dynamodb';

export const PK = 'pk';
export const SK = 'sk';
export const GSI1_PK = 'gsi1pk';
export const GSI1_SK = 'gsi1sk';
export const TSK = 'tsk';
export const BY_TYPE_INDEX = 'byType';
export const BY_TIME_INDEX = 'byTime';
export const KEY_ATTRIBUTES = [PK, SK, GSI1_PK, GSI1_SK, TSK] as const;

export const PAGE_SK = 'PAGE';
export const PAGE_TYPE = 'PAGE';
export const CONTACT_PREFIX = 'CONTACT#';
export const CONVERSATION_PREFIX = 'CONV#';
export const ITEM_PREFIX = 'ITEM#';
export const PENDING_PREFIX = 'PENDING#';
export const QUARANTINE_TYPE = 'QUARANTINE';
export const QUARANTINE_PREFIX = 'QUARANTINE#';
export const QUARANTINED_EVENT_PREFIX = 'EVENT#';

/** The marshalling the repositories expect from their DynamoDBDocumentClient. */
export const documentClientConfig: TranslateConfig = { marshallOptions: { removeUndefinedValues: true } };

export const pagePk = (pageId: string) => `PAGE#${pageId}`;
export const pageKey = (pageId: string) => ({ [PK]: pagePk(pageId), [SK]: PAGE_SK });
export const contactKey = (pageId: string, userId: string) => ({
  [PK]: pagePk(pageId),
  [SK]: `${CONTACT_PREFIX}${userId}`,
});
export const conversationKey = (pageId: string, userId: string) => ({
  [PK]: pagePk(pageId),
  [SK]: `${CONVERSATION_PREFIX}${userId}`,
});
/** A Facebook Login connect link (connect-login/link-store.ts); linkId is a SHA-256 of its state. */
export const linkKey = (linkId: string) => ({ [PK]: `LINK#${linkId}`, [SK]: 'LINK' });
export const timelinePk = (pageId: string, userId: string) => `CONV#${pageId}#${userId}`;
export const itemKey = (pageId: string, userId: string, mid: string) => ({
  [PK]: timelinePk(pageId, userId),
  [SK]: `${ITEM_PREFIX}${mid}`,
});

/** A millisecond timestamp as 15 digits, so that string order is numeric order. */
export function paddedTime(timestamp: number): string {
  return String(Math.max(0, Math.floor(timestamp))).padStart(15, '0');
}

export const itemTimeKey = (timestamp: number, mid: string) => `${paddedTime(timestamp)}#${mid}`;
export const pendingContactKey = (userId: string) => `${PENDING_PREFIX}${userId}`;

export function tableDefinition(tableName: string): CreateTableCommandInput {
  const string = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [string(PK), string(SK), string(GSI1_PK), string(GSI1_SK), string(TSK)],
    KeySchema: [
      { AttributeName: PK, KeyType: 'HASH' },
      { AttributeName: SK, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: BY_TYPE_INDEX,
        KeySchema: [
          { AttributeName: GSI1_PK, KeyType: 'HASH' },
          { AttributeName: GSI1_SK, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: BY_TIME_INDEX,
        KeySchema: [
          { AttributeName: PK, KeyType: 'HASH' },
          { AttributeName: TSK, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

export function isConditionFailed(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** Runs a query to its end, following LastEvaluatedKey; stops early once `limit` items are read. */
export async function queryAll(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit = Number.POSITIVE_INFINITY,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateQuery({ client: doc }, input)) {
    items.push(...(page.Items ?? []));
    if (items.length >= limit) break;
  }
  return items.slice(0, limit);
}
