/**
 * The warnings `GET /admin/pages` lists for a page (SPEC §9): what the doctor's last run stored on the
 * page (the app-level `app_subscription_missing` included: it applies to every page), with `quiet`
 * computed now from the page's liveness, while its stored status says Meta lists its subscription.
 */
import type { PageRecord } from '#contracts/page-record';
import { isQuiet } from '#pages/page-liveness';

export const QUIET = 'quiet';

export function listedWarnings(page: PageRecord, nowMs: number): string[] {
  const stored = (page.warnings ?? []).filter((w) => w !== QUIET);
  return isQuiet(page, nowMs, page.status === 'active') ? [...stored, QUIET] : stored;
}

/** A page view without the liveness day slots (`eventDay0`…`eventDay6`: bookkeeping, not news). */
export function withoutDaySlots<T extends object>(view: T): T {
  return Object.fromEntries(Object.entries(view).filter(([k]) => !/^eventDay\d$/.test(k))) as T;
}
