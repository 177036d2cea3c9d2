import type { ProfileStatus } from '#contracts/contact-record';
import { isGraphId } from '#contracts/ids';
import type { PageRecord } from '#contracts/page-record';
import type { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import type { PageAccess } from '#pages/page-access';
import type { Deadline } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
import type { ContactRepository } from './contact-repository.js';

const KNOWN_CONTACTS_MAX = 50_000;
const TRANSIENT_PAUSE_MS = 15_000;

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
  /** Contacts whose profile is settled, with their name, so a warm container reads nothing for them. */
  private readonly settled = new Map<string, string | undefined>();

  constructor(private readonly deps: ContactProfileDeps) {}

  /**
   * What this container already knows of the contact: `settled` once its profile is fetched (or known
   * to be unavailable), with its name, so the conversation write can carry it and no read is needed.
   */
  known(pageId: string, userId: string): { settled: boolean; name?: string } {
    const key = `${pageId}:${userId}`;
    return this.settled.has(key) ? { settled: true, name: this.settled.get(key) } : { settled: false };
  }

  /**
   * Remembers a contact whose conversation already carries its name: a name is only ever written once
   * the profile is fetched, so nothing is left to read or fetch for it.
   */
  settle(pageId: string, userId: string, name: string): void {
    this.remember(`${pageId}:${userId}`, name);
  }

  /**
   * Fetches the profile once per contact, and answers the contact's "first last" when there is one.
   * A redelivery gets the name again, so a conversation write that failed after the fetch is repaired.
   * With `newContact` (the contact's first inbound touch: no contact record can exist yet) the contact
   * record is not read.
   */
  async ensure(
    page: PageRecord,
    userId: string,
    opts: { newContact?: boolean; deadline: Deadline },
  ): Promise<string | undefined> {
    const key = `${page.pageId}:${userId}`;
    if (this.settled.has(key)) return this.settled.get(key);
    if (!isGraphId(userId)) {
      // A signed event whose sender is no PSID (a `ref:` user ref, or worse): its message is stored,
      // but there is no profile to ask Graph for, and the id must never reach a Graph path.
      count('ProfilesNotFetchable');
      logger.warn('sender is not a Facebook id: no profile fetched', { pageId: page.pageId });
      return this.remember(key, undefined);
    }
    const contact = opts.newContact ? undefined : await this.deps.contacts.get(page.pageId, userId);
    if (contact && contact.profileStatus !== 'pending') return this.remember(key, fullName(contact));
    if (this.deps.access.throttled(page.pageId)) {
      if (!contact) await this.save(page.pageId, userId, 'pending');
      return undefined;
    }
    const [token, graph] = await Promise.all([this.tokenOrNothing(page), this.deps.graph()]);
    if (!token || !graph) {
      // The page needs reauth: remember the contact as pending, fetch once the page is back.
      if (!contact) await this.save(page.pageId, userId, 'pending');
      return undefined;
    }
    const { status, name } = await this.fetch(page, userId, token, graph, opts.deadline);
    return status === 'pending' ? undefined : this.remember(key, name);
  }

  /** A token that cannot be unsealed (KMS trouble) must not cost the message: the profile waits. */
  private async tokenOrNothing(page: PageRecord): Promise<string | undefined> {
    try {
      return await this.deps.access.token(page);
    } catch (err) {
      logger.error('page token could not be unsealed; profile fetch postponed', {
        pageId: page.pageId,
        error: err as Error,
      });
      return undefined;
    }
  }

  /**
   * After a page is connected again: fetch the profiles that could not be fetched while its token
   * was refused, and name their conversations. Returns how many were fetched.
   */
  async refreshPending(
    page: PageRecord,
    conversations: ConversationNames,
    deadline: Deadline,
  ): Promise<number> {
    const [token, graph] = await Promise.all([this.deps.access.token(page), this.deps.graph()]);
    if (!token || !graph) return 0;
    let fetched = 0;
    for (const contact of await this.deps.contacts.listPending(page.pageId)) {
      const { status, name } = await this.fetch(page, contact.userId, token, graph, deadline);
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
    deadline: Deadline,
  ): Promise<{ status: ProfileStatus; name?: string }> {
    try {
      // One attempt: the message is already stored, and a pending profile is fetched on a later message.
      const p =
        page.channel === 'instagram'
          ? await instagramProfile(graph, userId, token, deadline)
          : await graph.profile(userId, token, { once: true, deadline });
      await this.save(page.pageId, userId, 'fetched', p);
      count('ProfilesFetched');
      return { status: 'fetched', name: fullName(p) };
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      if (err.errorClass === 'auth') await this.deps.access.markReauthRequired(page, err);
      if (err.errorClass === 'throttle') this.deps.access.throttle(page.pageId, err.retryAfterMs);
      // An outage gets a short pause too: every new contact of the page would otherwise wait on it again.
      if (err.errorClass === 'transient') this.deps.access.throttle(page.pageId, TRANSIENT_PAUSE_MS);
      if (err.errorClass !== 'auth')
        logger.warn('contact profile not fetched', { pageId: page.pageId, graphError: err.toJSON() });
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

  private remember(key: string, name: string | undefined): string | undefined {
    if (this.settled.size >= KNOWN_CONTACTS_MAX) this.settled.clear();
    this.settled.set(key, name);
    return name;
  }
}

/**
 * An Instagram contact's profile (SPEC §11: `GET /{igsid}?fields=name,username,profile_pic`, the linked
 * page's token): its name, or its username when it shows none, kept as the contact's first name.
 */
async function instagramProfile(graph: GraphClient, igsid: string, token: string, deadline: Deadline) {
  const p = await graph.instagramProfile(igsid, token, { once: true, deadline });
  return { firstName: p.name || p.username, profilePic: p.profilePic };
}

function fullName(p: { firstName?: string; lastName?: string }): string | undefined {
  return [p.firstName, p.lastName].filter(Boolean).join(' ') || undefined;
}

/** Where a fetched name goes: the conversations feature (kept narrow, so contacts do not depend on it). */
export interface ConversationNames {
  setName(pageId: string, userId: string, name: string): Promise<boolean>;
}
