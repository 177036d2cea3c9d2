import type { PageRecord } from '#contracts/page-record';
import { eventId, type PublicPageEvent } from '#contracts/public-event';
import type { PageChange } from './page.js';

export type PageStatusChanged = Extract<PublicPageEvent, { type: 'page.status_changed' }>;
export type PageWarning = Extract<PublicPageEvent, { type: 'page.warning' }>;

/** `data.from` of the event of a page's first status (there was no page before). */
export const NO_STATUS = 'none';

/**
 * The `page.status_changed` event (SPEC §8) of `change` landing at `updatedAt`, or undefined when the
 * change leaves the status as it was. Its id names the change (page, from, to, when), so the event
 * stored in the outbox, its retries and a sweep's publish all carry the same id. `reason`: the error the
 * change records (Meta's message or our own words, never a token).
 */
export function statusChangedEvent(
  pageId: string,
  change: PageChange,
  updatedAt: string,
): PageStatusChanged | undefined {
  const to = change.set.status;
  if (to === undefined) return undefined;
  if (change.from === undefined) throw new Error(`a change of page ${pageId} to ${to} does not say its from`);
  if (change.from === to) return undefined;
  const from = change.from ?? NO_STATUS;
  const reason = change.remove.includes('lastError') ? undefined : change.set.lastError;
  const type = 'page.status_changed';
  return {
    id: eventId({ pageId, changeKey: `status:${from}>${to}@${updatedAt}`, type }),
    type,
    time: new Date(updatedAt).toISOString(),
    version: 1,
    pageId,
    // An Instagram entry's changes carry its channel (SPEC §11: its transitions set it).
    channel: change.set.channel === 'instagram' ? 'instagram' : 'messenger',
    data: { from, to, ...(reason === undefined ? {} : { reason }) },
  };
}

/**
 * The `page.warning` event (SPEC §9) of a warning first seen on a page by the doctor's run of `runAt`.
 * Its id names page, warning and that run, so the event kept in the outbox, its retries and a sweep's
 * publish carry the same id; the warning seen again by later runs makes no new event.
 */
export function warningEvent(
  page: Pick<PageRecord, 'pageId' | 'channel'>,
  warning: { warning: string; detail: string; fix?: string },
  runAt: string,
): PageWarning {
  const { pageId } = page;
  const type = 'page.warning';
  return {
    id: eventId({ pageId, changeKey: `warning:${warning.warning}@${runAt}`, type }),
    type,
    time: new Date(runAt).toISOString(),
    version: 1,
    pageId,
    channel: page.channel ?? 'messenger',
    data: { ...warning },
  };
}
