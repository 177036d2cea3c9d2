import type { GraphError } from '#graph/graph-error';
import { count, logger } from '#runtime/observability';
import { type Page, reauth, withCheckedAt } from './page.js';
import type { PageRepository } from './page-repository.js';

/**
 * Meta refused the token (190): the page needs a human; calls that need it stop until then. Only the
 * token that was refused is condemned: a page reconnected meanwhile keeps its new one. A health check
 * notes its time in the same write. Answers whether the page was marked.
 *
 * `page` may be a cached copy whose status is behind (the processor's): the change holds the status it
 * was computed from, so when that guard fails the page is read again and, still on the refused token,
 * marked from its status as stored (its `page.status_changed` event then says the true `from`).
 */
export async function markReauthRequired(
  pages: PageRepository,
  page: Page,
  error: GraphError,
  checkedAt?: string,
): Promise<boolean> {
  const { pageId } = page;
  let current: Page | undefined = page;
  for (let attempt = 0; attempt < 3; attempt++) {
    const change = checkedAt ? withCheckedAt(reauth(current, error), checkedAt) : reauth(current, error);
    if (await pages.apply(pageId, change)) {
      count('PagesReauthRequired');
      logger.error('page token refused: page needs reauth', { pageId, graphError: error.toJSON() });
      return true;
    }
    current = await pages.get(pageId);
    if (!current || current.sealedToken !== page.sealedToken) break;
  }
  logger.info('a refused token was already replaced: page left as it is', { pageId });
  return false;
}
