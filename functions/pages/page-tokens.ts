import QuickLRU from 'quick-lru';
import type { TokenSealer } from '#ports/ports';
import type { Page } from './page.js';

/** Unsealed tokens a container keeps at most (quick-lru holds between this and twice this). */
const MAX_CACHED_TOKENS = 10_000;

/**
 * Page tokens, unsealed only when a Graph call needs one, then kept keyed by its sealed value: a
 * reconnected page's new token is picked up as soon as the page record is.
 */
export class PageTokens {
  private readonly tokens = new QuickLRU<string, { sealed: string; token: string }>({
    maxSize: MAX_CACHED_TOKENS,
  });

  constructor(private readonly sealer: TokenSealer) {}

  /** The page's token, or undefined when it has none (disconnected) or needs reauth. */
  async token(page: Page): Promise<string | undefined> {
    if (!page.sealedToken || page.status === 'reauth_required' || page.status === 'disconnected')
      return undefined;
    const hit = this.tokens.get(page.pageId);
    if (hit && hit.sealed === page.sealedToken) return hit.token;
    const token = await this.sealer.unseal(page.pageId, page.sealedToken);
    this.tokens.set(page.pageId, { sealed: page.sealedToken, token });
    return token;
  }

  forget(pageId: string): void {
    this.tokens.delete(pageId);
  }
}
