import type { PageStatus } from '#contracts/page-record';

/** Why an operation did not act on a page at all. */
export type SkipReason =
  | 'unknown_page'
  | 'disconnected'
  | 'needs_reauth'
  | 'superseded'
  | 'no_pending_token'
  /** An Instagram entry (SPEC §11): Meta delivers its events through its page's subscription. */
  | 'subscribed_through_page';

/**
 * What one operation on one page came to. `done`: it did what was asked (a disconnect may carry a
 * warning about Meta's side); `repaired`: a check found the subscription missing and subscribed it
 * again; `missing`: a check found it missing and left it; `refused`: Meta refused for good; `retry`:
 * throttled or an outage, worth trying later (a queued command is redelivered); `skipped`: nothing
 * was done; `error`: the operation threw (bulk runs catch it per page).
 */
export type PageOutcome = { pageId: string } & (
  | { result: 'done'; status: PageStatus; warning?: string }
  | { result: 'repaired'; status: PageStatus }
  | { result: 'missing' | 'refused' | 'retry'; status: PageStatus; reason: string }
  | { result: 'skipped'; reason: SkipReason; status?: PageStatus; detail?: string }
  | { result: 'error'; reason: string }
);

/** An outcome as SPEC §4 answers one page, and as a page command is recorded on its page. */
export interface OutcomeSummary {
  pageId: string;
  ok: boolean;
  status?: PageStatus;
  /** Why it failed; on success a warning. */
  error?: string;
}

const SKIPPED: Record<SkipReason, (detail?: string) => string> = {
  unknown_page: () => 'unknown page',
  disconnected: () => 'page is disconnected',
  needs_reauth: (detail) =>
    `page needs reauth (connect it again with a fresh user token)${detail ? `: ${detail}` : ''}`,
  superseded: () => 'the page was disconnected or reconnected meanwhile',
  no_pending_token: () => 'no new token to connect with',
  subscribed_through_page: () =>
    'an Instagram account is subscribed through its linked page: subscribe or check that page',
};

export function summaryOf(outcome: PageOutcome): OutcomeSummary {
  const { pageId } = outcome;
  switch (outcome.result) {
    case 'done':
      return { pageId, ok: true, status: outcome.status, error: outcome.warning };
    case 'repaired':
      return { pageId, ok: true, status: outcome.status };
    case 'missing':
    case 'refused':
    case 'retry':
      return { pageId, ok: false, status: outcome.status, error: outcome.reason };
    case 'skipped':
      return { pageId, ok: false, status: outcome.status, error: SKIPPED[outcome.reason](outcome.detail) };
    case 'error':
      return { pageId, ok: false, error: outcome.reason };
  }
}

/** SPEC §4's report of a run over many pages. */
export interface BulkReport {
  total: number;
  succeeded: number;
  failed: Array<{ pageId: string; error: string }>;
  repaired: string[];
  /** Pages handed to the page-commands queue instead of being run here (large runs). */
  queued?: number;
}

/** SPEC §4's report of the outcomes of a run: failures and repairs in pageId order. */
export function reportOf(outcomes: readonly PageOutcome[]): BulkReport {
  const report: BulkReport = { total: outcomes.length, succeeded: 0, failed: [], repaired: [] };
  for (const outcome of outcomes) {
    const summary = summaryOf(outcome);
    if (summary.ok) report.succeeded++;
    else report.failed.push({ pageId: outcome.pageId, error: summary.error ?? 'failed' });
    if (outcome.result === 'repaired') report.repaired.push(outcome.pageId);
  }
  report.failed.sort((a, b) => a.pageId.localeCompare(b.pageId));
  report.repaired.sort();
  return report;
}
