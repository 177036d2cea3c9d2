import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { PageRecord } from '#contracts/page-record';
import {
  BY_TYPE_INDEX,
  GSI1_PK,
  GSI1_SK,
  isConditionFailed,
  PAGE_TYPE,
  pageKey,
  queryAll,
  stripKeys,
} from '#store/table';

export type PageChanges = Partial<Omit<PageRecord, 'pageId'>>;
export type RemovablePageField = 'sealedToken' | 'pendingSealedToken' | 'lastCheckedAt' | 'lastError';

export interface PageUpdateOptions {
  /** Erase the sealed token (wins over a `sealedToken` in the changes). */
  removeToken?: boolean;
  /** Other optional fields to erase. */
  remove?: RemovablePageField[];
  /**
   * Apply only while the page still holds this sealed token: a change decided on what one token did
   * must not land on a page that was disconnected or reconnected meanwhile.
   */
  ifSealedToken?: string;
  /** Apply only while this token is still the one waiting (a newer connect may have replaced it). */
  ifPendingSealedToken?: string;
}

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
    return Item ? stripKeys<PageRecord>(Item) : undefined;
  }

  async put(page: PageRecord): Promise<void> {
    const item = { ...page, ...pageKey(page.pageId), [GSI1_PK]: PAGE_TYPE, [GSI1_SK]: page.pageId };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  /**
   * Applies `changes` to an existing page and answers the page as stored; `undefined` when there is no
   * such page (never creates one) or it no longer holds `ifSealedToken`. `updatedAt` is set to now
   * unless given.
   */
  async update(
    pageId: string,
    changes: PageChanges,
    opts: PageUpdateOptions = {},
  ): Promise<PageRecord | undefined> {
    const removed = new Set<string>(opts.remove ?? []);
    if (opts.removeToken) removed.add('sealedToken');
    const sets = Object.entries({ updatedAt: new Date().toISOString(), ...changes }).filter(
      ([name, value]) => value !== undefined && name !== 'pageId' && !removed.has(name),
    );
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const setParts = sets.map(([name, value], i) => {
      names[`#s${i}`] = name;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    const removeParts = [...removed].map((name, i) => {
      names[`#r${i}`] = name;
      return `#r${i}`;
    });
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pageKey(pageId),
          UpdateExpression: `SET ${setParts.join(', ')}${removeParts.length ? ` REMOVE ${removeParts.join(', ')}` : ''}`,
          ...condition(opts, names, values),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? stripKeys<PageRecord>(Attributes) : undefined;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }

  /** Every page, in pageId order. */
  async list(): Promise<PageRecord[]> {
    const items = await queryAll(this.doc, this.byTypeQuery());
    return items.map((item) => stripKeys<PageRecord>(item));
  }

  /** One page of pages (at most `limit`), from where `cursor` left off. */
  async listPage(cursor?: string, limit = 100): Promise<PageList> {
    const { Items, LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({ ...this.byTypeQuery(), Limit: limit, ExclusiveStartKey: decodeCursor(cursor) }),
    );
    return {
      pages: (Items ?? []).map((item) => stripKeys<PageRecord>(item)),
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

/** `attribute_exists(pk)`, plus the token conditions the caller asked for. */
function condition(opts: PageUpdateOptions, names: Record<string, string>, values: Record<string, unknown>) {
  const parts = ['attribute_exists(pk)'];
  const n = { ...names };
  const v = { ...values };
  if (opts.ifSealedToken) {
    parts.push('#token = :token');
    n['#token'] = 'sealedToken';
    v[':token'] = opts.ifSealedToken;
  }
  if (opts.ifPendingSealedToken) {
    parts.push('#pending = :pending');
    n['#pending'] = 'pendingSealedToken';
    v[':pending'] = opts.ifPendingSealedToken;
  }
  return {
    ConditionExpression: parts.join(' AND '),
    ExpressionAttributeNames: n,
    ExpressionAttributeValues: v,
  };
}
