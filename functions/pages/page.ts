/**
 * A page's lifecycle, modelled once. Every change to a page record is one of the transitions below: a
 * pure function of the page as it was read (and what happened) that answers a `PageChange`, which
 * `PageRepository.apply` writes in one conditional update. `status` is assigned here and nowhere else.
 *
 *   ∅ ──connectRequested──▶ subscribing ──subscribed──▶ active ◀──checked(healthy)── subscription_failed
 *   any ──tokenPromoted──▶ subscribing          any ──reauth──▶ reauth_required
 *   subscribing ──refused(on subscribe)──▶ subscription_failed ◀──checked(missing)── active
 *   any ──disconnected──▶ disconnected (token erased; a pending token stays, as before)
 */
import type { LastCommand, PageRecord, PageStatus } from '#contracts/page-record';

export type Page = PageRecord;
export type { PageStatus };

/**
 * When a change may land (the conditions are stated once, in page-repository.ts): the page must not
 * exist yet, must exist, must still hold the sealed token the decision was made on, or must still
 * have the pending token a connect left.
 */
export type Guard =
  | { name: 'pageIsNew' }
  | { name: 'pageExists' }
  | { name: 'holdsToken'; token: string | undefined }
  | { name: 'awaitsToken'; token: string };

export type PageFields = Omit<Page, 'pageId'>;
export type RemovableField = 'sealedToken' | 'pendingSealedToken' | 'lastCheckedAt' | 'lastError';

export interface PageChange {
  set: Partial<PageFields>;
  remove: RemovableField[];
  guard: Guard;
  /**
   * The status of the page the change was computed from (`null`: there was no page). Required when the
   * change sets `status`: the write then also holds the page at that status (so the `from` of the
   * `page.status_changed` event it stores is true) and, when the status differs, stores the event.
   */
  from?: PageStatus | null;
}

const pageIsNew: Guard = { name: 'pageIsNew' };
const pageExists: Guard = { name: 'pageExists' };
const holdsToken = (page: Page): Guard => ({ name: 'holdsToken', token: page.sealedToken });

/** A Graph refusal as a transition needs it: only Meta's message is kept (never a token). */
export interface Refusal {
  message: string;
}

/**
 * A connect stored a freshly sealed token. A new page starts `subscribing` with it pending; an existing
 * page keeps its status (and token) until the connect command, in the page's turn, promotes it.
 * A disconnected page connected again counts as connected from now.
 */
export function connectRequested(
  existing: Page | undefined,
  input: { name: string; pendingSealedToken: string; at: string },
): PageChange {
  const { name, pendingSealedToken, at } = input;
  if (!existing) {
    const set: Partial<PageFields> = {
      name,
      pendingSealedToken,
      status: 'subscribing',
      subscribedFields: [],
      connectedAt: at,
      updatedAt: at,
    };
    return { set, remove: [], guard: pageIsNew, from: null };
  }
  const again = existing.status === 'disconnected' ? { connectedAt: at } : {};
  return { set: { name, pendingSealedToken, ...again }, remove: [], guard: pageExists };
}

/** The connect command's turn: the token it left waiting becomes the page's token. */
export function tokenPromoted(page: Page & { pendingSealedToken: string }): PageChange {
  return {
    set: { status: 'subscribing', sealedToken: page.pendingSealedToken },
    remove: ['pendingSealedToken', 'lastError'],
    guard: { name: 'awaitsToken', token: page.pendingSealedToken },
    from: page.status,
  };
}

/** Meta accepted the subscription made with the page's token. */
export function subscribed(page: Page, fields: readonly string[]): PageChange {
  return {
    set: { status: 'active', subscribedFields: [...fields] },
    remove: ['lastError'],
    guard: holdsToken(page),
    from: page.status,
  };
}

/** What a health check found at Meta. `repairing`: missing, and about to be subscribed again. */
export type CheckResult =
  | { found: 'healthy'; fields: string[] }
  | { found: 'missing'; fields: string[]; problem: string }
  | { found: 'repairing'; fields: string[] };

export function checked(page: Page, result: CheckResult, at: string): PageChange {
  const seen = { lastCheckedAt: at, subscribedFields: result.fields };
  switch (result.found) {
    case 'healthy':
      // Meta shows it subscribed: a page left `subscription_failed` or `subscribing` is active after all.
      return {
        set: { ...seen, status: 'active' },
        remove: page.status === 'active' ? [] : ['lastError'],
        guard: holdsToken(page),
        from: page.status,
      };
    case 'missing':
      return {
        set: { ...seen, status: 'subscription_failed', lastError: result.problem },
        remove: [],
        guard: holdsToken(page),
        from: page.status,
      };
    case 'repairing':
      return { set: seen, remove: [], guard: holdsToken(page) };
  }
}

/**
 * Meta refused for good (not the token, not a throttle). A refused subscribe leaves the page
 * `subscription_failed`; a refused check keeps its status.
 */
export function refused(page: Page, error: Refusal, onSubscribe: boolean): PageChange {
  const change: PageChange = { set: { lastError: error.message }, remove: [], guard: holdsToken(page) };
  if (!onSubscribe) return change;
  return { ...change, set: { status: 'subscription_failed', ...change.set }, from: page.status };
}

/** Throttled or an outage: worth trying later; the status stays, the error is noted. */
export function deferred(page: Page, error: Refusal): PageChange {
  return { set: { lastError: error.message }, remove: [], guard: holdsToken(page) };
}

/**
 * Meta refused the token (190): the page needs a human. Only the token that was refused is condemned:
 * a page reconnected meanwhile keeps its new one.
 */
export function reauth(page: Page, error: Refusal): PageChange {
  return {
    set: { status: 'reauth_required', lastError: error.message },
    remove: [],
    guard: holdsToken(page),
    from: page.status,
  };
}

/** The page is cut off: its token erased, its fields emptied; `warning` says what Meta may still hold. */
export function disconnected(page: Page, warning?: string): PageChange {
  return {
    set: { status: 'disconnected', subscribedFields: [], ...(warning ? { lastError: warning } : {}) },
    remove: warning ? ['sealedToken'] : ['sealedToken', 'lastError'],
    guard: pageExists,
    from: page.status,
  };
}

/** A page command finished: recorded on the page, where the admin route that sent it waits. */
export function commandRecorded(command: LastCommand): PageChange {
  return { set: { lastCommand: command }, remove: [], guard: pageExists };
}

/** `change` plus the time a health check was made: a failed check is one write, not two. */
export function withCheckedAt(change: PageChange, at: string): PageChange {
  return { ...change, set: { lastCheckedAt: at, ...change.set } };
}

/**
 * What a connect that never reached the page reports (Meta gave no page token, or it could not be
 * sealed): nothing is stored, and the page is as good as a failed subscription.
 */
export const NOT_CONNECTED: PageStatus = 'subscription_failed';

/** The status a page has once `change` landed on it. */
export function statusAfter(page: Page, change: PageChange): PageStatus {
  return change.set.status ?? page.status;
}
