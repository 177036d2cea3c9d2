/**
 * A page's linked Instagram professional account, kept as its own page entry (SPEC §11): `pageId` is
 * the account id, `channel` `instagram`, `linkedPageId` the page whose token its calls use, `name` its
 * username. It has no token and no subscription of its own: Meta delivers its webhooks through the
 * page's app subscription, so its status follows the page's (set at connect, shown as the page's).
 */
import type { PageStatus } from '#contracts/page-record';
import type { Page, PageChange, PageFields } from './page.js';

export interface LinkedAccount {
  /** The Instagram account id. */
  id: string;
  username?: string;
}

/**
 * The entry as a connect of its page leaves it: created, or updated (relinked, renamed, its status the
 * page's). Undefined when the id is taken by a Messenger page (ids never collide at Meta: a record that
 * says otherwise is not overwritten).
 */
export function instagramLinked(
  existing: Page | undefined,
  input: { account: LinkedAccount; linkedPageId: string; status: PageStatus; at: string },
): PageChange | undefined {
  const { account, linkedPageId, status, at } = input;
  const name = account.username ?? account.id;
  const set: Partial<PageFields> = { name, channel: 'instagram', linkedPageId, status };
  if (!existing) {
    return {
      set: { ...set, subscribedFields: [], connectedAt: at, updatedAt: at },
      remove: [],
      guard: { name: 'pageIsNew' },
      from: null,
    };
  }
  if (existing.channel !== 'instagram') return undefined;
  const again = existing.status === 'disconnected' ? { connectedAt: at } : {};
  return {
    set: { ...set, ...again },
    remove: ['lastError'],
    guard: { name: 'pageExists' },
    from: existing.status,
  };
}

/** What `GET /admin/pages` shows as an Instagram entry's status: its page's, unless it is disconnected. */
export function shownStatus(entry: Page, linked: Page | undefined): PageStatus {
  if (entry.channel !== 'instagram' || entry.status === 'disconnected' || !linked) return entry.status;
  return linked.status;
}
