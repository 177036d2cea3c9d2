/**
 * Liveness (SPEC §9): when a page last received a webhook event, and whether it used to get events
 * daily, kept without a write per message.
 *
 * The processor calls `seen` after each stored event. Per container, a page is written at most once per
 * `windowMs` (default 5 min) and once more when the UTC day changes, so 100 events in a minute cost one
 * UpdateItem. The write is one conditional UpdateItem that
 *   - sets `lastEventAt` only when it raises it (a redelivered or late older event never lowers it),
 *   - sets the day's slot `eventDay{d % 7} = d` (d: epoch day number, UTC), under the same condition, so a
 *     slot only ever moves forward by whole weeks and the seven slots say which of the last seven days
 *     had events,
 *   - never creates a page record, nor touches a disconnected one.
 * A failed write is counted and logged, never thrown: liveness must not fail or delay storing messages.
 *
 * The `quiet` rule: a page "used to get events daily" when at least QUIET_MIN_ACTIVE_DAYS of the seven
 * days ending with the day of its last event had events (a page quiet on weekends still qualifies); it
 * is quiet when that last event is more than 24 h old while Meta still lists its subscription (the
 * caller says so).
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PageRecord } from '#contracts/page-record';
import { count, logger } from '#runtime/observability';
import { isConditionFailed, pageKey } from '#store/table';

export const LIVENESS_WINDOW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
/** Days with events, of the seven ending with the last one, for a page to count as "used to get events daily". */
export const QUIET_MIN_ACTIVE_DAYS = 5;
/** No event for this long makes a daily page quiet. */
export const QUIET_AFTER_MS = DAY_MS;

export interface PageLivenessOptions {
  windowMs?: number;
  now?: () => number;
}

export class PageLiveness {
  /** pageId → when this container last wrote it (ms), and the UTC day of that write. */
  private readonly written = new Map<string, { at: number; day: number }>();
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: PageLivenessOptions = {},
  ) {
    this.windowMs = options.windowMs ?? LIVENESS_WINDOW_MS;
    this.now = options.now ?? Date.now;
  }

  /** A webhook event of `pageId` with Meta's timestamp `eventMs` was stored. Never throws. */
  async seen(pageId: string, eventMs: number): Promise<void> {
    const now = this.now();
    // Meta's time, but never in the future (a skewed clock must not pin lastEventAt ahead).
    const at = Number.isFinite(eventMs) && eventMs > 0 ? Math.min(eventMs, now) : now;
    const day = dayOf(at);
    const last = this.written.get(pageId);
    if (last && now - last.at < this.windowMs && last.day >= day) return;
    this.written.set(pageId, { at: now, day });
    try {
      await this.write(pageId, at, day);
    } catch (error) {
      if (isConditionFailed(error)) return; // newer already stored, or the page is gone/disconnected
      count('PageLivenessWriteFailed');
      logger.warn('page liveness not recorded', { pageId, error: error as Error });
    }
  }

  private async write(pageId: string, at: number, day: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: pageKey(pageId),
        UpdateExpression: 'SET #last = :at, #slot = :day',
        ConditionExpression:
          'attribute_exists(pk) AND #status <> :disconnected AND (attribute_not_exists(#last) OR #last < :at)',
        ExpressionAttributeNames: {
          '#last': 'lastEventAt',
          '#slot': `eventDay${day % 7}`,
          '#status': 'status',
        },
        ExpressionAttributeValues: {
          ':at': new Date(at).toISOString(),
          ':day': day,
          ':disconnected': 'disconnected',
        },
      }),
    );
  }
}

/** The epoch day number (UTC) of a time in ms. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** Of the seven days ending with the day of the page's last event, how many had events. */
export function activeDays(page: PageRecord): number {
  if (!page.lastEventAt) return 0;
  const last = dayOf(Date.parse(page.lastEventAt));
  const slots = [
    page.eventDay0,
    page.eventDay1,
    page.eventDay2,
    page.eventDay3,
    page.eventDay4,
    page.eventDay5,
    page.eventDay6,
  ];
  return slots.filter((d) => d !== undefined && d > last - 7 && d <= last).length;
}

/**
 * Quiet (SPEC §9): used to get events daily, none for 24 h. `subscribed`: Meta lists the page's
 * subscription (a page Meta dropped is not quiet: its subscription check says why it is silent).
 */
export function isQuiet(page: PageRecord, nowMs: number, subscribed: boolean): boolean {
  if (!subscribed || !page.lastEventAt) return false;
  if (nowMs - Date.parse(page.lastEventAt) <= QUIET_AFTER_MS) return false;
  return activeDays(page) >= QUIET_MIN_ACTIVE_DAYS;
}
