import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { ConversationRecord, TimelineItem } from './records.js';
import {
  BY_TIME_INDEX,
  CONVERSATION_PREFIX,
  conversationKey,
  conversationTimeKey,
  isConditionFailed,
  itemKey,
  itemTimeKey,
  pagePk,
  queryAll,
  stripKeys,
  TSK,
  timelinePk,
} from './table-schema.js';

export interface TouchInput {
  timestamp: number;
  /** The person wrote (message or postback): also raises `lastInboundAt`. */
  inbound: boolean;
  name?: string;
}

/**
 * A reaction by one person. With neither `reaction` nor `emoji` it records an unreact at `timestamp`
 * (kept so an older react arriving later stays ignored; hidden when reading).
 */
export interface ReactionValue {
  reaction?: string;
  emoji?: string;
  timestamp: number;
}

export interface ListOptions {
  /** At most this many records. */
  limit?: number;
  /** Items per DynamoDB query (default: as many as fit in 1 MB). */
  pageSize?: number;
}

export interface ItemListOptions extends ListOptions {
  /** With `limit`: the last `limit` items instead of the first ones (still answered oldest first). */
  latest?: boolean;
}

const WATERMARK_FIELDS = { delivered: 'deliveredWatermark', read: 'readWatermark' } as const;

export class ConversationRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Upserts the conversation: `lastMessageAt` (and `lastInboundAt` when inbound) become the max of the
   * stored value and `timestamp`; `name` is set when given. Idempotent, order-independent, concurrent-safe.
   */
  async touch(pageId: string, userId: string, input: TouchInput): Promise<void> {
    if (await this.touchAll(pageId, userId, input)) return;
    // Some stored value is already newer: raise each field on its own.
    await this.raise(pageId, userId, 'lastMessageAt', input.timestamp);
    if (input.inbound) await this.raise(pageId, userId, 'lastInboundAt', input.timestamp);
    if (input.name !== undefined) await this.setName(pageId, userId, input.name);
  }

  /** Sets the contact's name on an existing conversation; false when there is none. */
  async setName(pageId: string, userId: string, name: string): Promise<boolean> {
    return this.updateIfExists({
      Key: conversationKey(pageId, userId),
      UpdateExpression: 'SET #name = :name',
      ExpressionAttributeNames: { '#name': 'name' },
      ExpressionAttributeValues: { ':name': name },
    });
  }

  /**
   * Raises the delivered or read watermark (never lowers it). A delivery can overtake the echo that
   * starts a conversation, so a missing conversation is created with just the watermark; it joins the
   * conversation list (its `tsk`) when its first message touches it.
   */
  async raiseWatermark(
    pageId: string,
    userId: string,
    which: 'delivered' | 'read',
    watermark: number,
  ): Promise<void> {
    await this.update(
      {
        Key: conversationKey(pageId, userId),
        UpdateExpression: 'SET #field = :value, pageId = :pageId, userId = :userId',
        ConditionExpression: 'attribute_not_exists(#field) OR #field < :value',
        ExpressionAttributeNames: { '#field': WATERMARK_FIELDS[which] },
        ExpressionAttributeValues: { ':value': watermark, ':pageId': pageId, ':userId': userId },
      },
      true,
    );
  }

  async get(pageId: string, userId: string): Promise<ConversationRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: conversationKey(pageId, userId),
        ConsistentRead: true,
      }),
    );
    return Item ? stripKeys<ConversationRecord>(Item) : undefined;
  }

  /** The page's conversations, newest `lastMessageAt` first. */
  async list(pageId: string, opts: ListOptions = {}): Promise<ConversationRecord[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: BY_TIME_INDEX,
        KeyConditionExpression: 'pk = :pk AND begins_with(#tsk, :prefix)',
        ExpressionAttributeNames: { '#tsk': TSK },
        ExpressionAttributeValues: { ':pk': pagePk(pageId), ':prefix': CONVERSATION_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: opts.pageSize,
      },
      opts.limit,
    );
    return items.map((item) => stripKeys<ConversationRecord>(item));
  }

  /** Stores the item unless its mid is already stored (for ever, even under concurrency). */
  async putItem(item: TimelineItem): Promise<'stored' | 'duplicate'> {
    const key = itemKey(item.pageId, item.userId, item.mid);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, ...key, [TSK]: itemTimeKey(item.timestamp, item.mid) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'stored';
    } catch (error) {
      if (isConditionFailed(error)) return 'duplicate';
      throw error;
    }
  }

  async getItem(pageId: string, userId: string, mid: string): Promise<TimelineItem | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: itemKey(pageId, userId, mid), ConsistentRead: true }),
    );
    return Item ? toTimelineItem(Item) : undefined;
  }

  /** The conversation's timeline, oldest first by event timestamp (ties by mid). */
  async listItems(pageId: string, userId: string, opts: ItemListOptions = {}): Promise<TimelineItem[]> {
    const latest = opts.latest === true && opts.limit !== undefined;
    const items = await queryAll(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: BY_TIME_INDEX,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': timelinePk(pageId, userId) },
        ScanIndexForward: !latest,
        ConsistentRead: true,
        Limit: opts.pageSize,
      },
      opts.limit,
    );
    if (latest) items.reverse();
    return items.map(toTimelineItem);
  }

  /** Marks the page's own (`out`) items still `sent` as `delivered`; other and missing mids are ignored. */
  async markDelivered(pageId: string, userId: string, mids: string[]): Promise<number> {
    const results = await Promise.all(
      [...new Set(mids)].map((mid) =>
        this.updateIfExists({
          Key: itemKey(pageId, userId, mid),
          UpdateExpression: 'SET #status = :delivered',
          ConditionExpression: '#direction = :out AND #status = :sent',
          ExpressionAttributeNames: { '#status': 'status', '#direction': 'direction' },
          ExpressionAttributeValues: { ':delivered': 'delivered', ':out': 'out', ':sent': 'sent' },
        }),
      ),
    );
    return results.filter(Boolean).length;
  }

  /**
   * Sets (or with `undefined` removes) one person's reaction on an existing item; false when the item
   * does not exist. A reaction older than the stored one for that person is ignored.
   */
  async setReaction(
    pageId: string,
    userId: string,
    targetMid: string,
    reactorId: string,
    reaction: ReactionValue | undefined,
  ): Promise<boolean> {
    const Key = itemKey(pageId, userId, targetMid);
    const exists = await this.updateIfExists({
      Key,
      UpdateExpression: 'SET reactions = if_not_exists(reactions, :empty)',
      ExpressionAttributeValues: { ':empty': {} },
    });
    if (!exists) return false;
    const names = { '#reactor': reactorId };
    if (!reaction) {
      return this.updateIfExists({
        Key,
        UpdateExpression: 'REMOVE reactions.#reactor',
        ExpressionAttributeNames: names,
      });
    }
    await this.updateIfExists({
      Key,
      UpdateExpression: 'SET reactions.#reactor = :reaction',
      ConditionExpression: 'attribute_not_exists(reactions.#reactor) OR reactions.#reactor.#ts <= :ts',
      ExpressionAttributeNames: { ...names, '#ts': 'timestamp' },
      ExpressionAttributeValues: { ':reaction': reaction, ':ts': reaction.timestamp },
    });
    return true;
  }

  /** Creates or raises everything at once; false when some stored value is already as new. */
  private async touchAll(pageId: string, userId: string, input: TouchInput): Promise<boolean> {
    const sets = ['pageId = :pageId', 'userId = :userId', 'lastMessageAt = :ts', '#tsk = :tsk'];
    const conditions = ['(attribute_not_exists(lastMessageAt) OR lastMessageAt < :ts)'];
    const names: Record<string, string> = { '#tsk': TSK };
    const values: Record<string, unknown> = {
      ':pageId': pageId,
      ':userId': userId,
      ':ts': input.timestamp,
      ':tsk': conversationTimeKey(input.timestamp, userId),
    };
    if (input.inbound) {
      sets.push('lastInboundAt = :ts');
      conditions.push('(attribute_not_exists(lastInboundAt) OR lastInboundAt < :ts)');
    }
    if (input.name !== undefined) {
      sets.push('#name = :name');
      names['#name'] = 'name';
      values[':name'] = input.name;
    }
    return this.update(
      {
        Key: conversationKey(pageId, userId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      true,
    );
  }

  /** Sets `field` to `value` on an existing conversation when the stored value is lower or absent. */
  private raise(pageId: string, userId: string, field: string, value: number): Promise<boolean> {
    const key = conversationKey(pageId, userId);
    const ordered = field === 'lastMessageAt';
    return this.update(
      {
        Key: key,
        UpdateExpression: ordered ? 'SET #field = :value, #tsk = :tsk' : 'SET #field = :value',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#field) OR #field < :value)',
        ExpressionAttributeNames: { '#field': field, ...(ordered ? { '#tsk': TSK } : {}) },
        ExpressionAttributeValues: {
          ':value': value,
          ...(ordered ? { ':tsk': conversationTimeKey(value, userId) } : {}),
        },
      },
      true,
    );
  }

  /** An update guarded by the item's existence (and `ConditionExpression` if any); false if not applied. */
  private updateIfExists(input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    const guard = input.ConditionExpression ? `attribute_exists(pk) AND (${input.ConditionExpression})` : '';
    return this.update({ ...input, ConditionExpression: guard || 'attribute_exists(pk)' }, true);
  }

  /** Runs an update; with `conditional`, a failed condition answers false instead of throwing. */
  private async update(input: Omit<UpdateCommandInput, 'TableName'>, conditional = false): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ ...input, TableName: this.tableName }));
      return true;
    } catch (error) {
      if (conditional && isConditionFailed(error)) return false;
      throw error;
    }
  }
}

/** A stored item as a TimelineItem: without keys, and without recorded unreacts. */
function toTimelineItem(stored: Record<string, unknown>): TimelineItem {
  const item = stripKeys<TimelineItem>(stored);
  if (!item.reactions) return item;
  const reactions = Object.fromEntries(
    Object.entries(item.reactions).filter(
      ([, value]) => value.reaction !== undefined || value.emoji !== undefined,
    ),
  );
  if (Object.keys(reactions).length > 0) return { ...item, reactions };
  const { reactions: _removed, ...rest } = item;
  return rest;
}
