import pMap from 'p-map';
import { logger } from '#runtime/observability';
import { type BulkReport, type PageOutcome, reportOf } from './outcome.js';

export type { BulkReport } from './outcome.js';

export interface BulkOptions {
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs one operation over many pages with bounded concurrency; one page's failure, even a thrown
 * error, never stops the others (each is caught as that page's outcome, so p-map never stops early).
 */
export async function runForPages(
  pageIds: string[],
  operation: (pageId: string) => Promise<PageOutcome>,
  { concurrency, onProgress }: BulkOptions,
): Promise<BulkReport> {
  let done = 0;
  const outcomes = await pMap(
    pageIds,
    async (pageId) => {
      const outcome = await operation(pageId).catch((err: Error): PageOutcome => {
        logger.error('page operation failed', { pageId, error: err });
        return { pageId, result: 'error', reason: err.message };
      });
      onProgress?.(++done, pageIds.length);
      return outcome;
    },
    { concurrency: Math.max(1, Math.floor(concurrency)) },
  );
  return reportOf(outcomes);
}
