import type { PageRecord } from '#contracts/page-record';
import type { GraphError } from '#graph/graph-error';
import type { TokenSealer } from '#ports/ports';
import { count, logger } from '#runtime/observability';
import { reauth, withCheckedAt } from './page.js';
import type { PageRepository } from './page-repository.js';

const DEFAULT_THROTTLE_MS = 60_000;

interface Cached<T> {
  value: T;
  expires: number;
  /** The page's `changes` count when the read began: a change since makes the entry stale. */
  seen: number;
}

/**
 * How often each page was changed through any PageAccess of this process (`forget`). Every instance
 * checks it, so a disconnect made by one (the page commands) reaches the others (the processor) at once
 * when they share a process: the local stack runs them all in one. On AWS each function runs in its own
 * containers and only the TTL bounds what another container still believes.
 */
const changes = new Map<string, number>();

/**
 * Pages and their tokens as a function needs them: looked up once per TTL per container, and a
 * token unsealed only when a Graph call needs it, then kept (keyed by its sealed value, so a
 * reconnected page's new token is picked up as soon as the page record is).
 */
export class PageAccess {
  private readonly pages = new Map<string, Cached<PageRecord | undefined>>();
  private readonly tokens = new Map<string, { sealed: string; token: string }>();
  private readonly throttledUntil = new Map<string, number>();

  constructor(
    private readonly repository: PageRepository,
    private readonly sealer: TokenSealer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async page(pageId: string): Promise<PageRecord | undefined> {
    const seen = changes.get(pageId) ?? 0;
    const hit = this.pages.get(pageId);
    if (hit && hit.expires > this.now() && hit.seen === seen) return hit.value;
    const value = await this.repository.get(pageId);
    // Only a connected page is kept: a page connected a moment ago must not be dropped as unknown. A read
    // that a change overtook (a disconnect while it was in flight) is answered but not kept.
    if (value && value.status !== 'disconnected' && (changes.get(pageId) ?? 0) === seen)
      this.pages.set(pageId, { value, expires: this.now() + this.ttlMs, seen });
    else this.pages.delete(pageId);
    return value;
  }

  /** The page's token, or undefined when it has none (disconnected) or needs reauth. */
  async token(page: PageRecord): Promise<string | undefined> {
    if (!page.sealedToken || page.status === 'reauth_required' || page.status === 'disconnected')
      return undefined;
    const hit = this.tokens.get(page.pageId);
    if (hit && hit.sealed === page.sealedToken) return hit.token;
    const token = await this.sealer.unseal(page.pageId, page.sealedToken);
    this.tokens.set(page.pageId, { sealed: page.sealedToken, token });
    return token;
  }

  /**
   * Meta refused the token (190): the page needs a human; calls that need it stop until then. Only
   * the token that was refused is condemned: a page reconnected meanwhile keeps its new one.
   */
  async markReauthRequired(page: PageRecord, error: GraphError, checkedAt?: string): Promise<void> {
    const { pageId } = page;
    this.forget(pageId);
    const change = checkedAt ? withCheckedAt(reauth(page, error), checkedAt) : reauth(page, error);
    const marked = await this.repository.apply(pageId, change);
    if (!marked) {
      logger.info('a refused token was already replaced: page left as it is', { pageId });
      return;
    }
    count('PagesReauthRequired');
    logger.error('page token refused: page needs reauth', { pageId, graphError: error.toJSON() });
  }

  /**
   * Meta throttled this page's calls: calls that can wait (profile fetches) hold off until the time
   * Meta announced (`estimated_time_to_regain_access`) or a minute, instead of deepening the throttle.
   */
  throttle(pageId: string, forMs = DEFAULT_THROTTLE_MS): void {
    this.throttledUntil.set(pageId, this.now() + forMs);
    count('PagesThrottled');
  }

  throttled(pageId: string): boolean {
    const until = this.throttledUntil.get(pageId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.throttledUntil.delete(pageId);
    return false;
  }

  /** The page changed (connected, disconnected, reauth): no PageAccess of this process trusts its copy. */
  forget(pageId: string): void {
    changes.set(pageId, (changes.get(pageId) ?? 0) + 1);
    this.pages.delete(pageId);
    this.tokens.delete(pageId);
  }
}
