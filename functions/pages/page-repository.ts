import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { PageRecord } from '#contracts/page-record';
import {
  BY_TYPE_INDEX,
  GSI1_PK,
  GSI1_SK,
  isConditionFailed,
  PAGE_TYPE,
  pageKey,
  queryAll,
} from '#store/table';
import type { Guard, Page, PageChange } from './page.js';

export interface PageList {
  pages: PageRecord[];
  /** Pass back to `listPage` for the next pages; absent on the last one. */
  cursor?: string;
}

export class PageRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(pageId: string): Promise<PageRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: pageKey(pageId), ConsistentRead: true }),
    );
    return Item ? pageOf(Item) : undefined;
  }

  async put(page: PageRecord): Promise<void> {
    const item = { ...page, ...pageKey(page.pageId), [GSI1_PK]: PAGE_TYPE, [GSI1_SK]: page.pageId };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  /**
   * Writes one transition (pages/page.ts) under its guard and answers the page as stored; `undefined`
   * when the guard failed (the page changed since it was read, or is not there, or already is).
   * `updatedAt` is set to now unless the change sets it. The only write of a page besides seeding.
   */
  async apply(pageId: string, change: PageChange): Promise<Page | undefined> {
    const created = change.guard.name === 'pageIsNew';
    const set: Record<string, unknown> = { updatedAt: new Date().toISOString(), ...change.set };
    if (created) Object.assign(set, { pageId, [GSI1_PK]: PAGE_TYPE, [GSI1_SK]: pageId });
    const removed = new Set<string>(change.remove);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const setParts = Object.entries(set)
      .filter(([name, value]) => value !== undefined && !removed.has(name))
      .map(([name, value], i) => {
        names[`#s${i}`] = name;
        values[`:s${i}`] = value;
        return `#s${i} = :s${i}`;
      });
    const removeParts = [...removed].map((name, i) => {
      names[`#r${i}`] = name;
      return `#r${i}`;
    });
    const guard = conditionOf(change.guard);
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pageKey(pageId),
          UpdateExpression: `SET ${setParts.join(', ')}${removeParts.length ? ` REMOVE ${removeParts.join(', ')}` : ''}`,
          ConditionExpression: guard.expression,
          ExpressionAttributeNames: { ...names, ...guard.names },
          ExpressionAttributeValues: { ...values, ...guard.values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? pageOf(Attributes) : undefined;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }

  /** Every page, in pageId order. */
  async list(): Promise<PageRecord[]> {
    const items = await queryAll(this.doc, this.byTypeQuery());
    return items.map(pageOf);
  }

  /** One page of pages (at most `limit`), from where `cursor` left off. */
  async listPage(cursor?: string, limit = 100): Promise<PageList> {
    const { Items, LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({ ...this.byTypeQuery(), Limit: limit, ExclusiveStartKey: decodeCursor(cursor) }),
    );
    return {
      pages: (Items ?? []).map(pageOf),
      cursor: LastEvaluatedKey ? encodeCursor(LastEvaluatedKey) : undefined,
    };
  }

  private byTypeQuery() {
    return {
      TableName: this.tableName,
      IndexName: BY_TYPE_INDEX,
      KeyConditionExpression: '#type = :type',
      ExpressionAttributeNames: { '#type': GSI1_PK },
      ExpressionAttributeValues: { ':type': PAGE_TYPE },
    };
  }
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key && typeof key === 'object' && key[GSI1_PK] === PAGE_TYPE) return key;
  } catch {
    // fall through
  }
  throw new RangeError('invalid page cursor');
}

interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/**
 * The guards of page changes, each stated once (in the style of Powertools idempotency's
 * `idempotencyKeyDoesNotExist`). A decision made on one token must not land on a page that was
 * disconnected or reconnected meanwhile; a pending token may have been replaced by a newer connect.
 */
const pageIsNew: Condition = { expression: 'attribute_not_exists(pk)' };
const pageExists: Condition = { expression: 'attribute_exists(pk)' };
const holdsToken = (token: string | undefined): Condition =>
  token === undefined
    ? {
        expression: 'attribute_exists(pk) AND attribute_not_exists(#guardToken)',
        names: { '#guardToken': 'sealedToken' },
      }
    : {
        expression: 'attribute_exists(pk) AND #guardToken = :guardToken',
        names: { '#guardToken': 'sealedToken' },
        values: { ':guardToken': token },
      };
const awaitsToken = (token: string): Condition => ({
  expression: 'attribute_exists(pk) AND #guardPending = :guardPending',
  names: { '#guardPending': 'pendingSealedToken' },
  values: { ':guardPending': token },
});

function conditionOf(guard: Guard): Condition {
  switch (guard.name) {
    case 'pageIsNew':
      return pageIsNew;
    case 'pageExists':
      return pageExists;
    case 'holdsToken':
      return holdsToken(guard.token);
    case 'awaitsToken':
      return awaitsToken(guard.token);
  }
}

/** A stored page item as a Page: the schema drops key and index attributes and refuses a non-page. */
function pageOf(item: Record<string, unknown>): Page {
  const parsed = PageRecord.safeParse(item);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new Error(`stored page ${String(item.pageId)} is not a page record (${where})`);
}
