import QuickLRU from 'quick-lru';
import type { Page } from './page.js';
import type { PageRepository } from './page-repository.js';

/** Pages a container keeps at most (quick-lru holds between this and twice this). */
const MAX_CACHED_PAGES = 10_000;

/**
 * How often each page was changed through any PageCache of this process (`forget`). Every instance
 * checks it, so a disconnect made by one (the page commands) reaches the others (the processor) at once
 * when they share a process: the local stack runs them all in one. On AWS each function runs in its own
 * containers and only the TTL bounds what another container still believes.
 */
const changes = new Map<string, number>();

interface Cached {
  page: Page;
  /** The page's `changes` count when the read began: a change since makes the entry stale. */
  seen: number;
}

/** Connected pages as a function needs them: looked up once per TTL per container. */
export class PageCache {
  /** Absent when the TTL is 0: every lookup reads the table (the page commands). */
  private readonly pages?: QuickLRU<string, Cached>;

  constructor(
    private readonly repository: PageRepository,
    ttlMs: number,
  ) {
    if (ttlMs > 0) this.pages = new QuickLRU({ maxSize: MAX_CACHED_PAGES, maxAge: ttlMs });
  }

  async page(pageId: string): Promise<Page | undefined> {
    const seen = changes.get(pageId) ?? 0;
    const hit = this.pages?.get(pageId);
    if (hit && hit.seen === seen) return hit.page;
    const page = await this.repository.get(pageId);
    // Only a connected page is kept: a page connected a moment ago must not be dropped as unknown. A read
    // that a change overtook (a disconnect while it was in flight) is answered but not kept.
    if (page && page.status !== 'disconnected' && (changes.get(pageId) ?? 0) === seen)
      this.pages?.set(pageId, { page, seen });
    else this.pages?.delete(pageId);
    return page;
  }

  /** The page changed (connected, disconnected, reauth): no PageCache of this process trusts its copy. */
  forget(pageId: string): void {
    changes.set(pageId, (changes.get(pageId) ?? 0) + 1);
    this.pages?.delete(pageId);
  }
}
