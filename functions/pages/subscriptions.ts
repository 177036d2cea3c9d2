import { DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';
import type { PageRecord } from '#contracts/page-record';
import type { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import { type Deadline, NO_DEADLINE } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
import type { PageOutcome } from './outcome.js';
import {
  checked,
  deferred,
  disconnected,
  type Page,
  type PageChange,
  reauth,
  refused,
  statusAfter,
  subscribed,
  tokenPromoted,
  withCheckedAt,
} from './page.js';
import type { PageAccess } from './page-access.js';
import type { PageRepository } from './page-repository.js';

export type { PageOutcome } from './outcome.js';

export interface PageOperationsDeps {
  pages: PageRepository;
  access: PageAccess;
  graph: GraphClient;
  appId: string;
  fields?: readonly string[];
  /** Called when a page is known subscribed with a working token (fetch the profiles that waited). */
  onHealthy?: (page: PageRecord, deadline: Deadline) => Promise<void>;
}

/**
 * What can be done to one page's subscription, always by the page's own id with its own token. Each
 * operation settles the page's status and never throws for a Graph refusal: bulk runs report it.
 * `deadline` is the invocation's: no Graph attempt or retry starts that could not end before it.
 */
export class PageOperations {
  private readonly fields: readonly string[];

  constructor(private readonly deps: PageOperationsDeps) {
    this.fields = deps.fields ?? DEFAULT_SUBSCRIBED_FIELDS;
  }

  /**
   * `listed`: the page as a listing or the caller just read (or wrote) it, sparing a read (bulk runs,
   * connect); changes stay conditional on its token.
   */
  async subscribe(pageId: string, deadline: Deadline, listed?: PageRecord): Promise<PageOutcome> {
    const found = await this.usable(pageId, listed);
    if ('outcome' in found) return found.outcome;
    const { page, token } = found;
    try {
      await this.deps.graph.subscribeApp(pageId, token, this.fields, { deadline });
    } catch (err) {
      return this.refused(page, err, { onSubscribe: true, deadline });
    }
    this.deps.access.forget(pageId);
    const change = subscribed(page, this.fields);
    const active = await this.deps.pages.apply(pageId, change, deadline);
    if (!active) {
      // Disconnected or reconnected while Meta answered: the newer command decides the page's state,
      // and a page disconnected meanwhile must not stay subscribed at Meta.
      const now = await this.deps.pages.get(pageId);
      if (now?.status === 'disconnected')
        await this.deps.graph.unsubscribeApp(pageId, token, { deadline }).catch(() => undefined);
      return { pageId, result: 'skipped', reason: 'superseded' };
    }
    // Back from trouble: fetch what waited for its token (the hourly check catches the rest).
    if (page.status !== 'active') await this.deps.onHealthy?.(active, deadline);
    return { pageId, result: 'done', status: statusAfter(page, change) };
  }

  /**
   * The second half of a connect, run in the page's turn: the token the connect left waiting becomes
   * the page's token, then the page is subscribed with it.
   */
  async connect(pageId: string, deadline: Deadline): Promise<PageOutcome> {
    const page = await this.deps.pages.get(pageId);
    if (!page?.pendingSealedToken) {
      // A redelivered connect whose token was already promoted: finish its subscribe.
      if (page?.status === 'subscribing' && page.sealedToken) return this.subscribe(pageId, deadline, page);
      return { pageId, result: 'skipped', reason: 'no_pending_token' };
    }
    // Only the token this command read: a newer connect's token stays pending for its own command.
    const promoted = await this.deps.pages.apply(
      pageId,
      tokenPromoted({ ...page, pendingSealedToken: page.pendingSealedToken }),
      deadline,
    );
    this.deps.access.forget(pageId);
    // The page as just stored is the one to subscribe: no second read before the Graph call.
    return promoted ? this.subscribe(pageId, deadline, promoted) : this.connect(pageId, deadline);
  }

  /**
   * Unsubscribes the app from the page, then forgets its token; its linked Instagram entry is
   * disconnected with it (SPEC §11). Other pages are not touched. An Instagram entry alone is only
   * cut off on our side: it has no subscription of its own to remove.
   */
  async disconnect(pageId: string, deadline: Deadline): Promise<PageOutcome> {
    const page = await this.deps.pages.get(pageId);
    if (!page) return { pageId, result: 'skipped', reason: 'unknown_page' };
    if (page.status === 'disconnected') {
      // Again after a run that stopped between the page and its Instagram entry: the entry goes too.
      await this.cutOffLinked(pageId, deadline);
      return { pageId, result: 'done', status: page.status };
    }
    if (page.channel === 'instagram') {
      await this.cutOff(page, undefined, deadline);
      return { pageId, result: 'done', status: 'disconnected' };
    }
    const token = await this.deps.access.token(page);
    let warning: string | undefined;
    if (token) {
      try {
        await this.deps.graph.unsubscribeApp(pageId, token, { deadline });
      } catch (err) {
        if (!(err instanceof GraphError) || err.errorClass === 'throttle' || err.errorClass === 'transient')
          throw err;
        // A refused token cannot unsubscribe; the page is cut off on our side all the same.
        warning = `could not unsubscribe at Meta: ${err.message}`;
      }
    } else {
      warning = 'the page token is refused: the app may still be subscribed at Meta';
    }
    await this.cutOff(page, warning, deadline);
    this.deps.access.forget(pageId);
    await this.cutOffLinked(pageId, deadline);
    count('PagesDisconnected');
    return { pageId, result: 'done', status: 'disconnected', warning };
  }

  private async cutOffLinked(pageId: string, deadline: Deadline): Promise<void> {
    for (const entry of await this.linkedInstagram(pageId)) await this.cutOff(entry, undefined, deadline);
  }

  /**
   * Stores the disconnect whatever the page's status became while Meta answered (a disconnect always
   * wins): the change holds the status it was computed from, so a page changed meanwhile is read again.
   */
  private async cutOff(page: Page, warning: string | undefined, deadline: Deadline): Promise<void> {
    let current: Page | undefined = page;
    for (let attempt = 0; attempt < 5 && current && current.status !== 'disconnected'; attempt++) {
      const change = disconnected(current, warning);
      // An Instagram entry's change says its channel, so its page.status_changed does (page-events.ts).
      if (current.channel === 'instagram') change.set.channel = 'instagram';
      if (await this.deps.pages.apply(page.pageId, change, deadline)) return;
      current = await this.deps.pages.get(page.pageId);
    }
    if (current && current.status !== 'disconnected')
      throw new Error(`page ${page.pageId} changed under every disconnect attempt`);
  }

  /** Compares Meta's view of the subscription with ours; with `repair`, subscribes again what is missing. */
  async check(
    pageId: string,
    repair: boolean,
    deadline: Deadline,
    listed?: PageRecord,
  ): Promise<PageOutcome> {
    const found = await this.usable(pageId, listed);
    if ('outcome' in found) return found.outcome;
    const { page, token } = found;
    let apps: Array<{ id: string; fields: string[] }>;
    const checkedAt = new Date().toISOString();
    try {
      apps = await this.deps.graph.subscribedApps(pageId, token, { deadline });
    } catch (err) {
      return this.refused(page, err, { checkedAt, deadline });
    }
    count('SubscriptionsChecked');
    const ours = apps.find((a) => a.id === this.deps.appId);
    const absent = this.fields.filter((f) => !ours?.fields.includes(f));
    if (ours && absent.length === 0) {
      // Meta shows it subscribed: a page left `subscription_failed` or `subscribing` is active after all.
      const change = checked(page, { found: 'healthy', fields: ours.fields }, checkedAt);
      await this.deps.pages.apply(pageId, change, deadline);
      // Profiles that waited on an outage are fetched here too, not only when the contact writes again.
      await this.deps.onHealthy?.(page, deadline);
      return { pageId, result: 'done', status: statusAfter(page, change) };
    }
    count('SubscriptionsMissing');
    const problem = ours
      ? `subscribed without ${absent.join(', ')}`
      : 'the app is not subscribed to this page';
    logger.warn('page subscription missing', { pageId, problem });
    const fields = ours?.fields ?? [];
    if (!repair) {
      const change = checked(page, { found: 'missing', fields, problem }, checkedAt);
      await this.deps.pages.apply(pageId, change, deadline);
      return { pageId, result: 'missing', status: statusAfter(page, change), reason: problem };
    }
    await this.deps.pages.apply(pageId, checked(page, { found: 'repairing', fields }, checkedAt), deadline);
    const again = await this.subscribe(pageId, deadline);
    count(again.result === 'done' ? 'SubscriptionsRepaired' : 'SubscriptionRepairsFailed');
    return again.result === 'done' ? { pageId, result: 'repaired', status: again.status } : again;
  }

  /** The connected Instagram entries linked to the page (SPEC §11): a listing, as disconnects are rare. */
  private async linkedInstagram(pageId: string): Promise<Page[]> {
    const pages = await this.deps.pages.list();
    return pages.filter(
      (p) => p.channel === 'instagram' && p.linkedPageId === pageId && p.status !== 'disconnected',
    );
  }

  /** The page and its token, or why the operation cannot run. */
  private async usable(
    pageId: string,
    listed?: PageRecord,
  ): Promise<{ page: PageRecord; token: string } | { outcome: PageOutcome }> {
    const page = listed ?? (await this.deps.pages.get(pageId));
    if (!page) return { outcome: { pageId, result: 'skipped', reason: 'unknown_page' } };
    const { status } = page;
    // Never subscribed by its own id: Meta delivers an Instagram account's events through its page's
    // subscription (SPEC §11), and the linked page's token would act on the wrong object.
    if (page.channel === 'instagram')
      return { outcome: { pageId, result: 'skipped', reason: 'subscribed_through_page', status } };
    if (status === 'disconnected')
      return { outcome: { pageId, result: 'skipped', reason: 'disconnected', status } };
    const token = await this.deps.access.token(page);
    if (!token)
      return {
        outcome: { pageId, result: 'skipped', reason: 'needs_reauth', status, detail: page.lastError },
      };
    return { page, token };
  }

  /**
   * A Graph refusal settles the page's status; throttling and outages leave it as it was. Always one
   * write, conditional on the token the refused call used; a failed check notes its time in it too.
   */
  private async refused(
    page: Page,
    err: unknown,
    opts: { onSubscribe?: boolean; checkedAt?: string; deadline?: Deadline } = {},
  ): Promise<PageOutcome> {
    if (!(err instanceof GraphError)) throw err;
    const { pageId } = page;
    const deadline = opts.deadline ?? NO_DEADLINE;
    const at = (change: PageChange) => (opts.checkedAt ? withCheckedAt(change, opts.checkedAt) : change);
    if (err.errorClass === 'auth') {
      await this.deps.access.markReauthRequired(page, err, opts.checkedAt);
      return { pageId, result: 'refused', status: statusAfter(page, reauth(page, err)), reason: err.message };
    }
    if (err.errorClass === 'throttle' || err.errorClass === 'transient') {
      await this.deps.pages.apply(pageId, at(deferred(page, err)), deadline);
      return { pageId, result: 'retry', status: page.status, reason: err.message };
    }
    // Only on the page as it was when refused: a page disconnected or reconnected meanwhile keeps its state.
    const change = refused(page, err, opts.onSubscribe === true);
    await this.deps.pages.apply(pageId, at(change), deadline);
    logger.warn('page operation refused by Meta', { pageId, graphError: err.toJSON() });
    return { pageId, result: 'refused', status: statusAfter(page, change), reason: err.message };
  }
}
