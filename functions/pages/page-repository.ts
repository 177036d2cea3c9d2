import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { PageRecord } from '#contracts/page-record';
import { type PublicEvent, PublicEvent as PublicEventSchema } from '#contracts/public-event';
import type { EventPublisher } from '#ports/event-publisher';
import { type Deadline, NO_DEADLINE } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
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
import { PageChanges } from './page-cache.js';
import { statusChangedEvent } from './page-events.js';

/**
 * The page outbox: a `page.status_changed` event is stored in the page item, as a top-level attribute
 * `outbox_{eventId}` holding the event's JSON, by the same conditional write that changes the status
 * (top-level attributes, not a map: one update cannot SET a map and a path inside it, and a page's
 * first write would have to). It is removed once published; the schema drops it on reads.
 */
export const OUTBOX_PREFIX = 'outbox_';

export interface PageRepositoryOptions {
  /**
   * The page changes every PageCache over this repository checks (page-cache.ts). Default: the ones
   * of the composition the table client belongs to (`PageChanges.of(doc)`).
   */
  changes?: PageChanges;
  /**
   * Where a page's outbox goes after each write. Without one, events wait in the outbox for a
   * repository that has one (the next write, or the sweep of a bulk run).
   */
  publisher?: EventPublisher;
}

/** What a sweep of the outboxes did. */
export interface OutboxSweep {
  /** Events published (and removed from their outbox). */
  published: number;
  /** Pages whose events could not be published: they stay, for the next write or sweep. */
  failedPages: string[];
}

export interface PageList {
  pages: PageRecord[];
  /** Pass back to `listPage` for the next pages; absent on the last one. */
  cursor?: string;
}

export class PageRepository {
  private readonly publisher?: EventPublisher;
  /** What the page caches over this repository check before trusting a copy. */
  readonly changes: PageChanges;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: PageRepositoryOptions = {},
  ) {
    this.publisher = options.publisher;
    this.changes = options.changes ?? PageChanges.of(doc);
  }

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
   *
   * A change of status also holds the page at the status it was computed from, and stores its
   * `page.status_changed` event in the page's outbox in the same write: the event exists exactly when
   * the change does. Once written, the outbox (with anything an earlier failed publish left) is
   * published and emptied; a failed publish leaves it for the next write or sweep (at least once,
   * same id) and does not fail the change, which is stored. `deadline` bounds the publish.
   */
  async apply(
    pageId: string,
    change: PageChange,
    deadline: Deadline = NO_DEADLINE,
  ): Promise<Page | undefined> {
    const created = change.guard.name === 'pageIsNew';
    const updatedAt = change.set.updatedAt ?? new Date().toISOString();
    const set: Record<string, unknown> = { ...change.set, updatedAt };
    if (created) Object.assign(set, { pageId, [GSI1_PK]: PAGE_TYPE, [GSI1_SK]: pageId });
    const event = statusChangedEvent(pageId, change, updatedAt);
    if (event) set[`${OUTBOX_PREFIX}${event.id}`] = JSON.stringify(event);
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
    const guard = withStatus(conditionOf(change.guard), change);
    let stored: Record<string, unknown> | undefined;
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
      stored = Attributes;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
    if (!stored) return undefined;
    await this.publishOutbox(pageId, stored, deadline);
    return pageOf(stored);
  }

  /**
   * Publishes every page's outbox (the sweep the health check and bulk runs make first): events a
   * failed publish left behind go out with their ids. One page's failure does not stop the others.
   */
  async publishOutboxes(deadline: Deadline = NO_DEADLINE): Promise<OutboxSweep> {
    const sweep: OutboxSweep = { published: 0, failedPages: [] };
    if (!this.publisher) return sweep;
    for (const item of await queryAll(this.doc, this.byTypeQuery())) {
      const pageId = String(item.pageId);
      if (outboxOf(item).length === 0) continue;
      const published = await this.publishOutbox(pageId, item, deadline);
      if (published === undefined) sweep.failedPages.push(pageId);
      else sweep.published += published;
    }
    return sweep;
  }

  /**
   * Publishes the outbox of `item` (the page as stored) and removes what was published. Answers how
   * many events went out, or undefined when the publish failed and they stay.
   */
  private async publishOutbox(
    pageId: string,
    item: Record<string, unknown>,
    deadline: Deadline,
  ): Promise<number | undefined> {
    const events = outboxOf(item);
    if (events.length === 0 || !this.publisher) return 0;
    try {
      await this.publisher.publish(events, deadline);
    } catch (error) {
      // The change is stored and its event kept: the next write of this page or the next sweep sends it.
      count('PageEventsPublishFailed');
      logger.warn('page events left in the outbox', { pageId, events: events.length, error: error as Error });
      return undefined;
    }
    const names = Object.fromEntries(events.map((e, i) => [`#o${i}`, `${OUTBOX_PREFIX}${e.id}`]));
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pageKey(pageId),
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          // Never recreate a page that is gone; removing an entry another writer removed first is harmless.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailed(error)) throw error;
      });
    count('PageEventsPublished', events.length);
    return events.length;
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

  /**
   * The doctor's findings on a page (SPEC §9): its warnings, when they were checked, when its token was
   * introspected, and the `page.warning` events of the warnings new to it, stored in the page's outbox by
   * the same write (as `apply` does for status changes) and then published. Never creates a page, nor
   * touches a disconnected one; answers false then.
   */
  async recordWarnings(
    pageId: string,
    found: {
      warnings: string[];
      checkedAt: string;
      tokenCheckedAt?: string;
      events: PublicEvent[];
      /** `warningsCheckedAt` as the run read it: another run that recorded meanwhile wins (one event). */
      readCheckedAt?: string;
    },
    deadline: Deadline = NO_DEADLINE,
  ): Promise<boolean> {
    const set: Record<string, unknown> = { warningsCheckedAt: found.checkedAt, warnings: found.warnings };
    if (found.tokenCheckedAt) set.tokenCheckedAt = found.tokenCheckedAt;
    for (const event of found.events) set[`${OUTBOX_PREFIX}${event.id}`] = JSON.stringify(event);
    const entries = Object.entries(set);
    let stored: Record<string, unknown> | undefined;
    try {
      ({ Attributes: stored } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pageKey(pageId),
          UpdateExpression: `SET ${entries.map((_, i) => `#w${i} = :w${i}`).join(', ')}`,
          // #w0 is warningsCheckedAt.
          ConditionExpression: `attribute_exists(pk) AND #wStatus <> :wGone AND ${
            found.readCheckedAt === undefined ? 'attribute_not_exists(#w0)' : '#w0 = :wRead'
          }`,
          ExpressionAttributeNames: {
            ...Object.fromEntries(entries.map(([name], i) => [`#w${i}`, name])),
            '#wStatus': 'status',
          },
          ExpressionAttributeValues: {
            ...Object.fromEntries(entries.map(([, value], i) => [`:w${i}`, value])),
            ':wGone': 'disconnected',
            ...(found.readCheckedAt === undefined ? {} : { ':wRead': found.readCheckedAt }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ));
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
    if (stored) await this.publishOutbox(pageId, stored, deadline);
    return true;
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

/**
 * A change of status lands only on the page at the status it was computed from, so the event it stores
 * says the truth about `from` (a page created by the change is held by `pageIsNew` already).
 */
function withStatus(condition: Condition, change: PageChange): Condition {
  if (change.set.status === undefined || change.from == null) return condition;
  return {
    expression: `${condition.expression} AND #guardStatus = :guardStatus`,
    names: { ...condition.names, '#guardStatus': 'status' },
    values: { ...condition.values, ':guardStatus': change.from },
  };
}

/** The events waiting in a stored page item's outbox, oldest first. */
function outboxOf(item: Record<string, unknown>): PublicEvent[] {
  return Object.entries(item)
    .filter(([name]) => name.startsWith(OUTBOX_PREFIX))
    .map(([, json]) => PublicEventSchema.parse(JSON.parse(String(json))))
    .sort((a, b) => a.time.localeCompare(b.time));
}

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
