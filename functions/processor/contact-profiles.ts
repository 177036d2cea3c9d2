import type { GraphClient } from '../commons/graph/graph-client.js';
import { GraphError } from '../commons/graph/graph-error.js';
import { count, logger } from '../commons/observability.js';
import type { PageAccess } from '../commons/pages/page-access.js';
import type { ContactRepository } from '../commons/store/contact-repository.js';
import type { ConversationRepository } from '../commons/store/conversation-repository.js';
import type { PageRecord, ProfileStatus } from '../commons/store/records.js';

const KNOWN_CONTACTS_MAX = 50_000;

export interface ContactProfileDeps {
  contacts: ContactRepository;
  access: PageAccess;
  graph: () => Promise<GraphClient | undefined>;
}

/**
 * Fetches a contact's profile once, when the contact first writes, with the token of the page the
 * contact wrote to (PSIDs are page-scoped). A failure never loses the message: the contact is kept
 * `pending` and fetched again later.
 */
export class ContactProfiles {
  /** Contacts whose profile is settled, so a warm container reads nothing for them. */
  private readonly known = new Set<string>();

  constructor(private readonly deps: ContactProfileDeps) {}

  /** Returns the contact's "first last" when this call fetched it, for the conversation to carry. */
  async ensure(page: PageRecord, userId: string): Promise<string | undefined> {
    const key = `${page.pageId}:${userId}`;
    if (this.known.has(key)) return undefined;
    const contact = await this.deps.contacts.get(page.pageId, userId);
    if (contact && contact.profileStatus !== 'pending') {
      this.remember(key);
      return undefined;
    }
    const [token, graph] = await Promise.all([this.deps.access.token(page), this.deps.graph()]);
    if (!token || !graph) {
      // The page needs reauth: remember the contact as pending, fetch once the page is back.
      if (!contact) await this.save(page.pageId, userId, 'pending');
      return undefined;
    }
    const { status, name } = await this.fetch(page, userId, token, graph);
    if (status !== 'pending') this.remember(key);
    return name;
  }

  /**
   * After a page is connected again: fetch the profiles that could not be fetched while its token
   * was refused, and name their conversations. Returns how many were fetched.
   */
  async refreshPending(page: PageRecord, conversations: ConversationRepository): Promise<number> {
    const [token, graph] = await Promise.all([this.deps.access.token(page), this.deps.graph()]);
    if (!token || !graph) return 0;
    let fetched = 0;
    for (const contact of await this.deps.contacts.listPending(page.pageId)) {
      const { status, name } = await this.fetch(page, contact.userId, token, graph);
      if (status === 'pending') break; // the token or Graph is in trouble again: later
      if (name) await conversations.setName(page.pageId, contact.userId, name);
      if (status === 'fetched') fetched++;
    }
    return fetched;
  }

  private async fetch(
    page: PageRecord,
    userId: string,
    token: string,
    graph: GraphClient,
  ): Promise<{ status: ProfileStatus; name?: string }> {
    try {
      const p = await graph.profile(userId, token);
      await this.save(page.pageId, userId, 'fetched', p);
      count('ProfilesFetched');
      return { status: 'fetched', name: [p.firstName, p.lastName].filter(Boolean).join(' ') || undefined };
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      if (err.errorClass === 'auth') await this.deps.access.markReauthRequired(page.pageId, err);
      else logger.warn('contact profile not fetched', { pageId: page.pageId, graphError: err.toJSON() });
      count('ProfileFetchFailures');
      // Permanent refusals (no profile, permissions) won't change by asking again.
      return {
        status: await this.save(
          page.pageId,
          userId,
          err.errorClass === 'permanent' ? 'unavailable' : 'pending',
        ),
      };
    }
  }

  private async save(
    pageId: string,
    userId: string,
    profileStatus: ProfileStatus,
    p: { firstName?: string; lastName?: string; profilePic?: string } = {},
  ): Promise<ProfileStatus> {
    await this.deps.contacts.put({
      pageId,
      userId,
      ...p,
      profileStatus,
      updatedAt: new Date().toISOString(),
    });
    return profileStatus;
  }

  private remember(key: string): void {
    if (this.known.size >= KNOWN_CONTACTS_MAX) this.known.clear();
    this.known.add(key);
  }
}
