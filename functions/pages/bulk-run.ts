import { logger } from '#runtime/observability';
import type { PageOutcome } from './subscriptions.js';

/** SPEC §4's report of a run over many pages. */
export interface BulkReport {
  total: number;
  succeeded: number;
  failed: Array<{ pageId: string; error: string }>;
  repaired: string[];
  /** Pages handed to the page-commands queue instead of being run here (large runs). */
  queued?: number;
}

export interface BulkOptions {
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs one operation over many pages with bounded concurrency; one page's failure, even a thrown
 * error, never stops the others.
 */
export async function runForPages(
  pageIds: string[],
  operation: (pageId: string) => Promise<PageOutcome>,
  { concurrency, onProgress }: BulkOptions,
): Promise<BulkReport> {
  const report: BulkReport = { total: pageIds.length, succeeded: 0, failed: [], repaired: [] };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < pageIds.length) {
      const pageId = pageIds[next++];
      const outcome = await operation(pageId).catch((err: Error): PageOutcome => {
        logger.error('page operation failed', { pageId, error: err });
        return { pageId, ok: false, error: err.message };
      });
      if (outcome.ok) report.succeeded++;
      else report.failed.push({ pageId, error: outcome.error ?? 'failed' });
      if (outcome.repaired) report.repaired.push(pageId);
      onProgress?.(++done, pageIds.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, pageIds.length)) }, worker));
  report.failed.sort((a, b) => a.pageId.localeCompare(b.pageId));
  report.repaired.sort();
  return report;
}
