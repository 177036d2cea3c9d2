import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import QuickLRU from 'quick-lru';
import { type ConversationEventType, eventId, PublicConversationEvent } from '#contracts/public-event';
import { keyPart } from '#store/storable';
import { isConditionFailed, timelinePk } from '#store/table';

/**
 * The change log: one public event per stored change of a conversation (SPEC §8), numbered by `seq`.
 *
 * | record | pk                       | sk                       | holds               |
 * |--------|--------------------------|--------------------------|---------------------|
 * | event  | `CONV#{pageId}#{userId}` | `EVENT#{15-digit seq}`   | `key`, `event` JSON |
 * | change | `CONV#{pageId}#{userId}` | `CHANGE#{keyPart(key)}`  | `seq`               |
 *
 * Neither has a `tsk`, so the timeline (LSI byTime) never lists them.
 *
 * Why seqs stay unique and gapless without transactions (dynalite has none, and they cost double): a
 * seq is claimed by a conditional put of its event record, so two changes never share one, and a lost
 * race claims again. The processor records a conversation's changes in FIFO order; an admin send
 * records its message too (its echo later finds the same event). The change record, written after the
 * claim, finds a change again on a late duplicate. A claim left without its change record (a crash
 * between the two puts) is found again by the look-back over the last few events and completed.
 */
export interface Change {
  pageId: string;
  userId: string;
  /** The change's identity: the same stored change always has the same key (e.g. `message:{mid}`). */
  key: string;
  type: ConversationEventType;
  /** When the change happened (the webhook event's timestamp), epoch ms. */
  at: number;
  channel?: PublicConversationEvent['channel'];
  data: Record<string, unknown>;
}

/** EventBridge takes 256 KB per entry: larger data is replaced by a pointer the admin API resolves. */
export const MAX_DATA_BYTES = 200 * 1024;
const EVENT_PREFIX = 'EVENT#';
const CHANGE_PREFIX = 'CHANGE#';
const CLAIM_ATTEMPTS = 5;
/** Events read back per claim: a few hundred bytes each, so four still fit in one read unit. */
const LOOK_BACK = 4;
/** Conversations whose last seq this container remembers (a few dozen bytes each). */
const REMEMBERED_CONVERSATIONS = 10_000;

export class ChangeLog {
  /**
   * The last seq this container claimed, per conversation: the next new change claims the one after it
   * without reading the log first. Never higher than the truth (only our own claims set it); when
   * another writer went on meanwhile the claim fails and the log is read as without it.
   */
  private readonly lastSeq = new QuickLRU<string, number>({ maxSize: REMEMBERED_CONVERSATIONS });

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The change's public event, recorded once: a redelivery answers the event recorded the first time
   * (same id, seq and time). `known`: the change was applied before (a duplicate), so it may be
   * recorded already; a change applied for the first time now cannot be, and skips that read.
   */
  async record(change: Change, { known }: { known: boolean }): Promise<PublicConversationEvent> {
    if (known) {
      const recorded = await this.recorded(change);
      if (recorded) return recorded;
    }
    const conversation = timelinePk(change.pageId, change.userId);
    // A change applied for the first time now has no claim of an earlier delivery to find: with the
    // conversation's last seq remembered, it claims the next one at once (no read).
    const remembered = known ? undefined : this.lastSeq.get(conversation);
    if (remembered !== undefined) {
      const event = await this.claimed(change, remembered + 1);
      if (event) return event;
    }
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
      const recent = await this.recent(change.pageId, change.userId);
      const mine = recent.find((r) => r.key === change.key);
      if (mine) {
        // A delivery that claimed the seq and stopped before its change record: complete it. Looking
        // back a few changes (as cheap as one: one 4 KB read unit) also finds it when the conversation
        // went on meanwhile (that record went to the dead letters, a duplicate brings it back).
        await this.putChange(change, mine.event.seq);
        return mine.event;
      }
      const event = await this.claimed(change, (recent[0]?.event.seq ?? 0) + 1);
      if (event) return event;
    }
    throw new Error(`change log of conversation ${change.pageId}: seq contended ${CLAIM_ATTEMPTS} times`);
  }

  /** The conversation's events after `afterSeq`, oldest first. */
  async list(pageId: string, userId: string, afterSeq = 0, limit = 100): Promise<PublicConversationEvent[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': timelinePk(pageId, userId),
          ':from': seqKey(afterSeq + 1),
          ':to': `${EVENT_PREFIX}~`,
        },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return Items.map((item) => parseEvent(item.event));
  }

  /** The change's event if it is recorded (completely: seq claimed and change record written). */
  async recorded(change: Change): Promise<PublicConversationEvent | undefined> {
    return this.find(change.pageId, change.userId, change.key);
  }

  /**
   * Replaces the `data` of these changes' recorded events (an unsent message's text must not outlive it
   * in the log). Id, seq, type and time stay: a redelivery republishes the same event, now without it.
   */
  async redact(pageId: string, userId: string, keys: readonly string[], data: Record<string, unknown>) {
    for (const key of keys) {
      const event = await this.find(pageId, userId, key);
      if (!event) continue;
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: timelinePk(pageId, userId), sk: seqKey(event.seq) },
          UpdateExpression: 'SET #event = :event',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#event': 'event' },
          ExpressionAttributeValues: { ':event': JSON.stringify({ ...event, data }) },
        }),
      );
    }
  }

  private async find(pageId: string, userId: string, key: string) {
    const pk = timelinePk(pageId, userId);
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: changeKeyOf(pk, key), ConsistentRead: true }),
    );
    if (typeof Item?.seq !== 'number') return undefined;
    const { Item: stored } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk: seqKey(Item.seq) }, ConsistentRead: true }),
    );
    return stored ? parseEvent(stored.event) : undefined;
  }

  /** The conversation's last few events, newest first, with their change keys. */
  private async recent(pageId: string, userId: string) {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': timelinePk(pageId, userId), ':prefix': EVENT_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: LOOK_BACK,
      }),
    );
    return Items.map((item) => ({ key: String(item.key), event: parseEvent(item.event) }));
  }

  /** The change's event with this seq once claimed and indexed; undefined when another change has the seq. */
  private async claimed(change: Change, seq: number): Promise<PublicConversationEvent | undefined> {
    const event = eventOf(change, seq);
    if (!(await this.claim(change, event))) return undefined;
    await this.putChange(change, seq);
    this.lastSeq.set(timelinePk(change.pageId, change.userId), seq);
    return event;
  }

  /** Takes the event's seq unless another change has it; false then. */
  private async claim(change: Change, event: PublicConversationEvent): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: timelinePk(change.pageId, change.userId),
            sk: seqKey(event.seq),
            key: change.key,
            event: JSON.stringify(event),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  private putChange(change: Change, seq: number) {
    return this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...this.changeKey(change), seq } }),
    );
  }

  private changeKey(change: Change) {
    return changeKeyOf(timelinePk(change.pageId, change.userId), change.key);
  }
}

function eventOf(change: Change, seq: number): PublicConversationEvent {
  return {
    id: eventId({ pageId: change.pageId, userId: change.userId, changeKey: change.key, type: change.type }),
    type: change.type,
    time: new Date(change.at).toISOString(),
    version: 1,
    pageId: change.pageId,
    channel: change.channel ?? 'messenger',
    userId: change.userId,
    seq,
    data: fitData(change),
  };
}

/** Data too large for one EventBridge entry becomes a pointer: what changed, and that it was cut. */
function fitData(change: Change): Record<string, unknown> {
  // As JSON, as it will be read back: the first publish and a redelivery's must be the same object.
  const json = JSON.stringify(change.data);
  if (Buffer.byteLength(json, 'utf8') <= MAX_DATA_BYTES) return JSON.parse(json);
  const { mid } = change.data;
  return { ...(typeof mid === 'string' ? { mid } : {}), truncated: true };
}

function changeKeyOf(pk: string, key: string) {
  return { pk, sk: `${CHANGE_PREFIX}${keyPart(key)}` };
}

function seqKey(seq: number): string {
  return `${EVENT_PREFIX}${String(seq).padStart(15, '0')}`;
}

function parseEvent(text: unknown): PublicConversationEvent {
  return PublicConversationEvent.parse(JSON.parse(String(text)));
}
