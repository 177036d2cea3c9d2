import type { BulkAction } from '#contracts/ops-event';
import { pageCommand, pageCommandMessage } from '#contracts/page-command';
import type { EventQueue } from '#ports/ports';
import { type Deadline, NO_DEADLINE } from '#runtime/deadline';
import { logger } from '#runtime/observability';
import { type BulkReport, runForPages } from './bulk-run.js';
import type { PageRepository } from './page-repository.js';
import type { PageOperations } from './subscriptions.js';

export { BULK_ACTIONS, type BulkAction } from '#contracts/ops-event';

export interface BulkDeps {
  pages: PageRepository;
  operations: () => Promise<PageOperations>;
  /** The page-commands queue, for runs too large for one invocation. */
  commands?: EventQueue;
  concurrency: number;
  fanOutAbove: number;
}

/**
 * Resubscribe-all and the subscription health check over every connected page (every status but
 * `disconnected`), after a sweep of every page's event outbox. Small runs happen here with bounded concurrency; beyond `fanOutAbove` pages every
 * page becomes a command on the page-commands queue, so no single Lambda run has to outlast them all.
 * `deadline`: the invocation's (the admin API does not pass its own yet: none).
 */
export async function runBulkAction(
  deps: BulkDeps,
  action: BulkAction,
  deadline: Deadline = NO_DEADLINE,
): Promise<BulkReport> {
  // First the page events a failed publish left in an outbox (SPEC §8: never skipped), then the run.
  const sweep = await deps.pages.publishOutboxes(deadline);
  if (sweep.published || sweep.failedPages.length)
    logger.info('page outboxes swept', { published: sweep.published, failedPages: sweep.failedPages.length });
  // Instagram entries are subscribed through their page (SPEC §11): never by their own id.
  const pages = (await deps.pages.list()).filter(
    (p) => p.status !== 'disconnected' && p.channel !== 'instagram',
  );
  const pageIds = pages.map((p) => p.pageId);
  if (deps.commands && pageIds.length > deps.fanOutAbove) {
    const type = action === 'resubscribe-all' ? 'subscribe' : action;
    await deps.commands.send(pageIds.map((id) => pageCommandMessage(pageCommand(type, id))));
    return { total: pageIds.length, succeeded: 0, failed: [], repaired: [], queued: pageIds.length };
  }
  const ops = await deps.operations();
  // The listing already holds each page: no read per page. Every change is conditional on the token
  // the listing saw, and a subscribe that finds the page disconnected since then undoes itself at Meta.
  const listed = new Map(pages.map((p) => [p.pageId, p]));
  const run =
    action === 'resubscribe-all'
      ? (id: string) => ops.subscribe(id, deadline, listed.get(id))
      : (id: string) => ops.check(id, action === 'check-and-repair', deadline, listed.get(id));
  return runForPages(pageIds, run, { concurrency: deps.concurrency });
}
