import QuickLRU from 'quick-lru';
import type { Page } from './page.js';
import type { PageRepository } from './page-repository.js';

/** Pages a container keeps at most (quick-lru holds between this and twice this). */
const MAX_CACHED_PAGES = 10_000;

/**
 * How often each page was changed (`forget`) through the PageAccess objects of one composition (the
 * local stack's processor, admin, ops and page commands). Every PageCache of the composition checks
 * it, so a disconnect made by one (the page commands) reaches the others (the processor) at once when
 * they share a process. Two compositions share nothing: two stacks in one process, or tests, do not
 * invalidate each other's copies. On AWS each function runs in its own containers and only the TTL
 * bounds what another container still believes.
 */
export class PageChanges {
  private readonly counts = new Map<string, number>();

  count(pageId: string): number {
    return this.counts.get(pageId) ?? 0;
  }

  changed(pageId: string): void {
    this.counts.set(pageId, this.count(pageId) + 1);
  }

  /**
   * The PageChanges of the composition that reads and writes pages through `table` (its DynamoDB
   * client): createApp hands every composer the same adapters, so they all get the same one, and each
   * Lambda container builds its own. Keyed by the client, and weakly, so it lives exactly as long as
   * the composition: this is what lets the processor's composer (which builds its PageAccess from the
   * adapters alone) share the page commands' changes without a process-wide map.
   */
  static of(table: object): PageChanges {
    let changes = byTable.get(table);
    if (!changes) {
      changes = new PageChanges();
      byTable.set(table, changes);
    }
    return changes;
  }
}

const byTable = new WeakMap<object, PageChanges>();

interface Cached {
  page: Page;
  /** The page's change count when the read began: a change since makes the entry stale. */
  seen: number;
}

/** Connected pages as a function needs them: looked up once per TTL per container. */
export class PageCache {
  /** Absent when the TTL is 0: every lookup reads the table (the page commands). */
  private readonly pages?: QuickLRU<string, Cached>;

  constructor(
    private readonly repository: PageRepository,
    ttlMs: number,
    private readonly changes: PageChanges = repository.changes,
  ) {
    if (ttlMs > 0) this.pages = new QuickLRU({ maxSize: MAX_CACHED_PAGES, maxAge: ttlMs });
  }

  async page(pageId: string): Promise<Page | undefined> {
    const seen = this.changes.count(pageId);
    const hit = this.pages?.get(pageId);
    if (hit && hit.seen === seen) return hit.page;
    const page = await this.repository.get(pageId);
    // Only a connected page is kept: a page connected a moment ago must not be dropped as unknown. A read
    // that a change overtook (a disconnect while it was in flight) is answered but not kept.
    if (page && page.status !== 'disconnected' && this.changes.count(pageId) === seen)
      this.pages?.set(pageId, { page, seen });
    else this.pages?.delete(pageId);
    return page;
  }

  /** The page changed (connected, disconnected, reauth): no PageCache of the composition trusts its copy. */
  forget(pageId: string): void {
    this.changes.changed(pageId);
    this.pages?.delete(pageId);
  }
}
