import type { PageRecord } from '#contracts/page-record';
import type { GraphError } from '#graph/graph-error';
import type { TokenSealer } from '#ports/ports';
import { PageCache } from './page-cache.js';
import type { PageRepository } from './page-repository.js';
import { PageThrottles } from './page-throttles.js';
import { PageTokens } from './page-tokens.js';
import { markReauthRequired } from './reauth.js';

/**
 * What a function needs of pages, in one object for the callers that take one (processor, contact
 * profiles, sending, page operations): the page cache, the token cache, the throttles, and the reauth
 * transition. Each part stands on its own (`cache`, `tokens`, `throttles`).
 */
export class PageAccess {
  readonly cache: PageCache;
  readonly tokens: PageTokens;
  readonly throttles: PageThrottles;

  constructor(
    private readonly repository: PageRepository,
    sealer: TokenSealer,
    ttlMs: number,
    now: () => number = Date.now,
  ) {
    this.cache = new PageCache(repository, ttlMs);
    this.tokens = new PageTokens(sealer);
    this.throttles = new PageThrottles(now);
  }

  page(pageId: string): Promise<PageRecord | undefined> {
    return this.cache.page(pageId);
  }

  /**
   * The page's token, or undefined when it has none (disconnected) or needs reauth. An Instagram entry
   * has no token of its own: its calls use its linked page's (SPEC §11).
   */
  async token(page: PageRecord): Promise<string | undefined> {
    if (page.channel !== 'instagram') return this.tokens.token(page);
    const linked = await this.tokenPage(page);
    return linked ? this.tokens.token(linked) : undefined;
  }

  /**
   * The page whose token calls for `page` use: the page itself, or an Instagram entry's linked page
   * (undefined when the entry is disconnected or its page is gone).
   */
  async tokenPage(page: PageRecord): Promise<PageRecord | undefined> {
    if (page.channel !== 'instagram') return page;
    if (page.status === 'disconnected' || !page.linkedPageId) return undefined;
    const linked = await this.page(page.linkedPageId);
    return linked && linked.channel !== 'instagram' ? linked : undefined;
  }

  /**
   * Meta refused the token (190): see `markReauthRequired` (reauth.ts); this copy is forgotten first.
   * For an Instagram entry it is its linked page's token that was refused.
   */
  async markReauthRequired(page: PageRecord, error: GraphError, checkedAt?: string): Promise<void> {
    const owner = (await this.tokenPage(page)) ?? page;
    this.forget(owner.pageId);
    await markReauthRequired(this.repository, owner, error, checkedAt);
  }

  throttle(pageId: string, forMs?: number): void {
    this.throttles.throttle(pageId, forMs);
  }

  throttled(pageId: string): boolean {
    return this.throttles.throttled(pageId);
  }

  /** The page changed (connected, disconnected, reauth): no PageAccess of the composition trusts its copy. */
  forget(pageId: string): void {
    this.cache.forget(pageId);
    this.tokens.forget(pageId);
  }
}
