import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConversationRecord, ListedConversation, type TimelineItem } from '#contracts/conversation-records';
import type { BlobStore } from '#ports/ports';
import { decodeItem, encodeItem, fitItem, restoreParts } from '#store/item-codec';
import { recordOf } from '#store/records';
import { assertKeySizes, assertMarshallable } from '#store/storable';
import {
  BY_TIME_INDEX,
  CONVERSATION_PREFIX,
  conversationKey,
  isConditionFailed,
  itemKey,
  itemTimeKey,
  pagePk,
  queryAll,
  TSK,
  timelinePk,
} from '#store/table';

export interface TouchInput {
  timestamp: number;
  /** The person wrote (message or postback): also raises `lastInboundAt`. */
  inbound: boolean;
  name?: string;
}

/** What a touch learnt of the conversation, from the write itself (no read). */
export interface TouchResult {
  /**
   * The conversation's name after the touch: the one given, else the stored one. Absent when it has
   * none, or (rarely: an older event whose every field was already newer) when the write read nothing.
   */
  name?: string;
  /**
   * This touch gave the conversation its first `lastInboundAt`: the contact writes for the first time.
   * Contact records are only made after an inbound touch, so this contact has none yet.
   */
  firstInbound: boolean;
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

/** An item checked, encoded and fitted (item-codec.ts), ready for its conditional put. */
export interface PreparedItem {
  readonly item: TimelineItem;
  readonly record: Record<string, unknown>;
}

const WATERMARK_FIELDS = { delivered: 'deliveredWatermark', read: 'readWatermark' } as const;

export class ConversationRepository {
  /**
   * `blobs` holds the parts of oversize items: needed to store one (processor, admin sends) and to
   * read one back whole (admin); without it such parts read as unavailable.
   */
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly blobs?: BlobStore,
  ) {}

  /**
   * Upserts the conversation: `lastMessageAt` (and `lastInboundAt` when inbound) become the max of the
   * stored value and `timestamp`; `name` is set when given. Idempotent, order-independent, concurrent-safe.
   * Answers what the write saw of the stored record (`ReturnValues`, no extra read).
   */
  async touch(pageId: string, userId: string, input: TouchInput): Promise<TouchResult> {
    const old = await this.touchAll(pageId, userId, input);
    if (old) return touched(input, old, old);
    // Some stored value is already newer: raise each field on its own.
    const message = await this.raise(pageId, userId, 'lastMessageAt', input.timestamp);
    const inbound = input.inbound
      ? await this.raise(pageId, userId, 'lastInboundAt', input.timestamp)
      : undefined;
    if (input.name !== undefined) await this.setName(pageId, userId, input.name);
    // A raise that did not apply read nothing (then a stored lastInboundAt is at least `timestamp`).
    return touched(input, inbound ?? message, inbound);
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
   * conversation list once its first message touches it (gives it `lastMessageAt`).
   */
  async raiseWatermark(
    pageId: string,
    userId: string,
    which: 'delivered' | 'read',
    watermark: number,
  ): Promise<'raised' | 'same' | 'older'> {
    const field = WATERMARK_FIELDS[which];
    // `<=`: a redelivery applies again and says `same`, so its public event is found and sent again.
    const old = await this.updateReturningOld({
      Key: conversationKey(pageId, userId),
      UpdateExpression: 'SET #field = :value, pageId = :pageId, userId = :userId',
      ConditionExpression: 'attribute_not_exists(#field) OR #field <= :value',
      ExpressionAttributeNames: { '#field': field },
      ExpressionAttributeValues: { ':value': watermark, ':pageId': pageId, ':userId': userId },
    });
    if (!old) return 'older';
    return old[field] === watermark ? 'same' : 'raised';
  }

  async get(pageId: string, userId: string): Promise<ConversationRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: conversationKey(pageId, userId),
        ConsistentRead: true,
      }),
    );
    return Item ? recordOf(ConversationRecord, Item) : undefined;
  }

  /**
   * The page's conversations, newest `lastMessageAt` first (ties by user id); a record a watermark
   * started, with no message yet, is not listed.
   *
   * Conversation records have no `byTime` (LSI) entry on purpose: every message would move it (two more
   * write units per message) and every watermark or name update would rewrite its copy (the index
   * projects everything). The listing pays instead: it reads all of the page's conversation records
   * (~200 bytes each: ~20 per consistent read unit, 1 MB per query page) and sorts them in memory, so it
   * costs what the page has, not `limit`. Fine for an admin listing up to tens of thousands of
   * conversations per page (10,000: ~500 read units, three query pages); beyond that it needs its own
   * index, e.g. a sparse GSI on a key that moves at most once a day.
   */
  async list(pageId: string, opts: ListOptions = {}): Promise<ListedConversation[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: 'attribute_exists(lastMessageAt)',
      ExpressionAttributeValues: { ':pk': pagePk(pageId), ':prefix': CONVERSATION_PREFIX },
      ConsistentRead: true,
      Limit: opts.pageSize,
    });
    const conversations = items.map((item) => recordOf(ListedConversation, item));
    conversations.sort(
      (a, b) => b.lastMessageAt - a.lastMessageAt || (a.userId < b.userId ? 1 : a.userId > b.userId ? -1 : 0),
    );
    return opts.limit === undefined ? conversations : conversations.slice(0, opts.limit);
  }

  /**
   * Everything that can fail the same way every time, before anything is written: keys within
   * DynamoDB's sizes (the item's and its conversation's), values the marshalling takes; then the item
   * encoded (free-form parts as JSON text) and its largest parts moved to the blob store when oversize.
   * Throws a PoisonError for an item that cannot be stored.
   */
  async prepareItem(item: TimelineItem): Promise<PreparedItem> {
    const keys = {
      ...itemKey(item.pageId, item.userId, item.mid),
      [TSK]: itemTimeKey(item.timestamp, item.mid),
    };
    assertKeySizes(keys);
    assertKeySizes(conversationKey(item.pageId, item.userId));
    const encoded = { ...encodeItem(item), ...keys };
    assertMarshallable(encoded);
    return { item, record: await fitItem(encoded, item, this.blobs) };
  }

  /** Stores the item unless its mid is already stored (for ever, even under concurrency). */
  async putItem(item: TimelineItem): Promise<'stored' | 'duplicate'> {
    return this.putPrepared(await this.prepareItem(item));
  }

  async putPrepared(prepared: PreparedItem): Promise<'stored' | 'duplicate'> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: prepared.record,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'stored';
    } catch (error) {
      if (isConditionFailed(error)) return 'duplicate';
      throw error;
    }
  }

  /**
   * Puts a message in the place of the placeholder an edit left for it (SPEC §11); `false` when there is
   * no placeholder there any more (another delivery of the message came first).
   */
  async replacePlaceholder(prepared: PreparedItem): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: prepared.record,
          ConditionExpression: 'placeholder = :true AND attribute_not_exists(deleted)',
          ExpressionAttributeValues: { ':true': true },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async getItem(pageId: string, userId: string, mid: string): Promise<TimelineItem | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: itemKey(pageId, userId, mid), ConsistentRead: true }),
    );
    return Item ? this.toTimelineItem(Item) : undefined;
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
    return Promise.all(items.map((item) => this.toTimelineItem(item)));
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
   * Sets (or with `undefined` removes) one person's reaction on an existing item: `missing` when the
   * item does not exist, `stale` when a newer reaction of that person is stored (ignored).
   */
  async setReaction(
    pageId: string,
    userId: string,
    targetMid: string,
    reactorId: string,
    reaction: ReactionValue | undefined,
  ): Promise<'applied' | 'stale' | 'missing'> {
    const Key = itemKey(pageId, userId, targetMid);
    const exists = await this.updateIfExists({
      Key,
      UpdateExpression: 'SET reactions = if_not_exists(reactions, :empty)',
      ExpressionAttributeValues: { ':empty': {} },
    });
    if (!exists) return 'missing';
    const names = { '#reactor': reactorId };
    if (!reaction) {
      const removed = await this.updateIfExists({
        Key,
        UpdateExpression: 'REMOVE reactions.#reactor',
        ExpressionAttributeNames: names,
      });
      return removed ? 'applied' : 'missing';
    }
    const applied = await this.updateIfExists({
      Key,
      UpdateExpression: 'SET reactions.#reactor = :reaction',
      ConditionExpression: 'attribute_not_exists(reactions.#reactor) OR reactions.#reactor.#ts <= :ts',
      ExpressionAttributeNames: { ...names, '#ts': 'timestamp' },
      ExpressionAttributeValues: { ':reaction': reaction, ':ts': reaction.timestamp },
    });
    return applied ? 'applied' : 'stale';
  }

  /**
   * Creates or raises everything at once; answers the record as it was before (`{}` when new), or
   * undefined when some stored value is already as new.
   */
  private touchAll(
    pageId: string,
    userId: string,
    input: TouchInput,
  ): Promise<Record<string, unknown> | undefined> {
    const sets = ['pageId = :pageId', 'userId = :userId', 'lastMessageAt = :ts'];
    const conditions = ['(attribute_not_exists(lastMessageAt) OR lastMessageAt < :ts)'];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pageId': pageId, ':userId': userId, ':ts': input.timestamp };
    if (input.inbound) {
      sets.push('lastInboundAt = :ts');
      conditions.push('(attribute_not_exists(lastInboundAt) OR lastInboundAt < :ts)');
    }
    if (input.name !== undefined) {
      sets.push('#name = :name');
      names['#name'] = 'name';
      values[':name'] = input.name;
    }
    return this.updateReturningOld({
      Key: conversationKey(pageId, userId),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: conditions.join(' AND '),
      ...(input.name !== undefined ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
    });
  }

  /**
   * Sets `field` to `value` on an existing conversation when the stored value is lower or absent;
   * answers the record as it was before, or undefined when not applied.
   */
  private raise(
    pageId: string,
    userId: string,
    field: string,
    value: number,
  ): Promise<Record<string, unknown> | undefined> {
    return this.updateReturningOld({
      Key: conversationKey(pageId, userId),
      UpdateExpression: 'SET #field = :value',
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#field) OR #field < :value)',
      ExpressionAttributeNames: { '#field': field },
      ExpressionAttributeValues: { ':value': value },
    });
  }

  /** An update guarded by the item's existence (and `ConditionExpression` if any); false if not applied. */
  private updateIfExists(input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    const guard = input.ConditionExpression ? `attribute_exists(pk) AND (${input.ConditionExpression})` : '';
    return this.update({ ...input, ConditionExpression: guard || 'attribute_exists(pk)' }, true);
  }

  /** A stored item as a TimelineItem: its moved parts back, free-form parts decoded, parsed. */
  private async toTimelineItem(stored: Record<string, unknown>): Promise<TimelineItem> {
    return withoutUnreacts(decodeItem(await restoreParts(stored, this.blobs)));
  }

  /** Runs an update; with `conditional`, a failed condition answers false instead of throwing. */
  private async update(input: Omit<UpdateCommandInput, 'TableName'>, conditional = false): Promise<boolean> {
    assertMarshallable(input.ExpressionAttributeValues);
    try {
      await this.doc.send(new UpdateCommand({ ...input, TableName: this.tableName }));
      return true;
    } catch (error) {
      if (conditional && isConditionFailed(error)) return false;
      throw error;
    }
  }

  /**
   * A conditional update answering the item as it was before (`{}` when there was none; ALL_OLD costs
   * nothing more), or undefined when the condition failed.
   */
  private async updateReturningOld(
    input: Omit<UpdateCommandInput, 'TableName' | 'ReturnValues'>,
  ): Promise<Record<string, unknown> | undefined> {
    assertMarshallable(input.ExpressionAttributeValues);
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({ ...input, TableName: this.tableName, ReturnValues: 'ALL_OLD' }),
      );
      return Attributes ?? {};
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }

  /**
   * Applies a Messenger edit to a stored message: its text replaced and `edits` set to `numEdit`, only
   * when no later edit is stored (an older edit arriving late does not win). A redelivery applies the
   * same edit again (`same`). `missing`: no such message; `stale`: a later edit (or the unsend) won.
   */
  async applyEdit(
    pageId: string,
    userId: string,
    mid: string,
    edit: { text?: string; numEdit: number; at: number },
  ): Promise<'applied' | 'same' | 'stale' | 'missing'> {
    const text = edit.text === undefined ? 'REMOVE #text' : '';
    const old = await this.updateReturningOld({
      Key: itemKey(pageId, userId, mid),
      UpdateExpression: `SET edits = :n, editedAt = :at${edit.text === undefined ? '' : ', #text = :text'} ${text}`,
      ConditionExpression:
        'attribute_exists(pk) AND attribute_not_exists(deleted) AND (attribute_not_exists(edits) OR edits <= :n)',
      ExpressionAttributeNames: { '#text': 'text' },
      ExpressionAttributeValues: {
        ':n': edit.numEdit,
        ':at': edit.at,
        ...(edit.text === undefined ? {} : { ':text': edit.text }),
      },
    });
    if (old) return old.edits === edit.numEdit ? 'same' : 'applied';
    return (await this.getItem(pageId, userId, mid)) ? 'stale' : 'missing';
  }

  /**
   * Marks a stored message unsent and erases what it said: text, quick reply, details (a story reply's
   * URL), moved parts, and every attachment's URL and payload (its type stays). Answers the item as it
   * was before (`undefined`: no such message), and whether it was deleted already.
   */
  async markDeleted(
    pageId: string,
    userId: string,
    mid: string,
  ): Promise<{ before: TimelineItem; already: boolean } | undefined> {
    const before = await this.getItem(pageId, userId, mid);
    if (!before) return undefined;
    if (before.deleted) return { before, already: true };
    const erased = (before.attachments ?? []).map((a) => ({ type: a.type }));
    await this.update({
      Key: itemKey(pageId, userId, mid),
      UpdateExpression:
        'SET deleted = :true, attachments = :erased REMOVE #text, quickReplyPayload, detailJson, overflow, title, payload',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#text': 'text' },
      ExpressionAttributeValues: { ':true': true, ':erased': erased },
    });
    return { before, already: false };
  }
}

/**
 * What a touch learnt from the record as its writes found it: `seen` (any applied write's old record),
 * `inboundOld` (the old record of the write that set `lastInboundAt`, when that one applied).
 */
function touched(
  input: TouchInput,
  seen: Record<string, unknown> | undefined,
  inboundOld: Record<string, unknown> | undefined,
): TouchResult {
  const stored = typeof seen?.name === 'string' ? seen.name : undefined;
  const firstInbound = input.inbound && inboundOld !== undefined && inboundOld.lastInboundAt === undefined;
  return { name: input.name ?? stored, firstInbound };
}

/** Recorded unreacts are kept in the store only to order reactions; they are not shown. */
function withoutUnreacts(item: TimelineItem): TimelineItem {
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
