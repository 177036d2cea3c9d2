import { logger } from '#runtime/observability';
import { type BulkReport, type PageOutcome, reportOf } from './outcome.js';

export type { BulkReport } from './outcome.js';

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
  const outcomes: PageOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < pageIds.length) {
      const pageId = pageIds[next++];
      const outcome = await operation(pageId).catch((err: Error): PageOutcome => {
        logger.error('page operation failed', { pageId, error: err });
        return { pageId, result: 'error', reason: err.message };
      });
      outcomes.push(outcome);
      onProgress?.(outcomes.length, pageIds.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, pageIds.length)) }, worker));
  return reportOf(outcomes);
}
