import type { GraphError } from '#graph/graph-error';
import { count, logger } from '#runtime/observability';
import { type Page, reauth, withCheckedAt } from './page.js';
import type { PageRepository } from './page-repository.js';

/**
 * Meta refused the token (190): the page needs a human; calls that need it stop until then. Only the
 * token that was refused is condemned: a page reconnected meanwhile keeps its new one. A health check
 * notes its time in the same write. Answers whether the page was marked.
 */
export async function markReauthRequired(
  pages: PageRepository,
  page: Page,
  error: GraphError,
  checkedAt?: string,
): Promise<boolean> {
  const { pageId } = page;
  const change = checkedAt ? withCheckedAt(reauth(page, error), checkedAt) : reauth(page, error);
  if (!(await pages.apply(pageId, change))) {
    logger.info('a refused token was already replaced: page left as it is', { pageId });
    return false;
  }
  count('PagesReauthRequired');
  logger.error('page token refused: page needs reauth', { pageId, graphError: error.toJSON() });
  return true;
}
