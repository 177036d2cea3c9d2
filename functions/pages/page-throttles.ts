import { count } from '#runtime/observability';

const DEFAULT_THROTTLE_MS = 60_000;

/**
 * Pages whose Graph calls Meta throttled: calls that can wait (profile fetches) hold off until the time
 * Meta announced (`estimated_time_to_regain_access`) or a minute, instead of deepening the throttle.
 */
export class PageThrottles {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  throttle(pageId: string, forMs = DEFAULT_THROTTLE_MS): void {
    this.until.set(pageId, this.now() + forMs);
    count('PagesThrottled');
  }

  throttled(pageId: string): boolean {
    const until = this.until.get(pageId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(pageId);
    return false;
  }
}
