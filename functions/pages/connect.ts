import pMap from 'p-map';
import { AdminError } from '#contracts/admin-api';
import type { PageStatus } from '#contracts/page-record';
import type { GraphClient, GraphPage } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import type { TokenSealer } from '#ports/ports';
import { type Deadline, NO_DEADLINE } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
import type { PageCommandRunner } from './commands.js';
import { instagramLinked, type LinkedAccount } from './instagram-entry.js';
import { connectRequested, NOT_CONNECTED } from './page.js';
import type { PageRepository } from './page-repository.js';

export interface ConnectDeps {
  pages: PageRepository;
  sealer: TokenSealer;
  graph: GraphClient;
  runCommand: PageCommandRunner;
}

export interface ConnectedPage {
  pageId: string;
  name: string;
  status: PageStatus;
  error?: string;
  /** `instagram` for a page's linked Instagram account, connected with it (SPEC §11). */
  channel?: 'messenger' | 'instagram';
  /** Instagram entries: their page. */
  linkedPageId?: string;
}

const CONNECT_CONCURRENCY = 25;

/**
 * `POST /admin/pages/connect`: long-lived user token → the user's pages → each chosen page token
 * sealed for its page, stored, and the page subscribed by its own id with its own token (never
 * `/me/subscribed_apps`, which would act on whichever page the token happens to belong to).
 * Connecting a page that needed reauth makes it active again.
 */
export async function connectPages(
  deps: ConnectDeps,
  userAccessToken: string,
  pageIds?: string[],
  deadline: Deadline = NO_DEADLINE,
): Promise<ConnectedPage[]> {
  const { pages: available } = await userPages(deps.graph, userAccessToken, deadline);
  return connectChosenPages(deps, available, pageIds, deadline);
}

/** The list step alone: the long-lived user token and the pages it manages (Facebook Login's picker). */
export async function userPages(
  graph: GraphClient,
  userAccessToken: string,
  deadline: Deadline = NO_DEADLINE,
): Promise<{ longLivedToken: string; pages: GraphPage[] }> {
  const longLivedToken = await asAdminError(graph.exchangeUserToken(userAccessToken, { deadline }));
  const pages = await asAdminError(graph.listPages(longLivedToken, { deadline }));
  return { longLivedToken, pages };
}

/** The connect step alone: the chosen ones of pages listed with their tokens, each sealed and subscribed. */
export async function connectChosenPages(
  deps: ConnectDeps,
  available: GraphPage[],
  pageIds?: string[],
  deadline: Deadline = NO_DEADLINE,
): Promise<ConnectedPage[]> {
  const chosen = choose(available, pageIds);
  const connected = await pMap(chosen, (p) => connectWithInstagram(deps, p, deadline).catch(failedRow(p)), {
    concurrency: CONNECT_CONCURRENCY,
  });
  return connected.flat();
}

/**
 * A page whose connect failed on our side (the store refusing a write, a command that could not be
 * queued) is that page's row, so the answer says which pages were connected and which were not, instead
 * of failing them all after some were subscribed.
 */
function failedRow(p: GraphPage) {
  return (err: unknown): ConnectedPage[] => {
    logger.error('connect failed for one page', { pageId: p.id, error: err as Error });
    const reason = err instanceof Error ? err.name : 'Error';
    return [
      { pageId: p.id, name: p.name, status: NOT_CONNECTED, error: `not connected (${reason}): try again` },
    ];
  };
}

/** The page, then its linked Instagram professional account as its own entry (SPEC §11). */
async function connectWithInstagram(
  deps: ConnectDeps,
  p: GraphPage,
  deadline: Deadline,
): Promise<ConnectedPage[]> {
  const page = await connectOne(deps, p, deadline);
  if (!p.accessToken || page.error !== undefined || page.status === NOT_CONNECTED) return [page];
  const account = await discoverInstagram(deps, p.id, p.accessToken, deadline);
  if (!account) return [page];
  // The page is connected whatever happens to its Instagram entry (the next connect adds it).
  const entry = await storeInstagramEntry(deps.pages, account, p.id, page.status).catch((err: unknown) => {
    logger.error('Instagram entry not stored; its page is connected', { pageId: p.id, error: err as Error });
    return undefined;
  });
  return entry ? [page, entry] : [page];
}

/**
 * `GET /{page-id}?fields=instagram_business_account{id,username}` with the page's token. A page without
 * one, or a refusal (the page is connected all the same), answers undefined.
 */
async function discoverInstagram(
  deps: ConnectDeps,
  pageId: string,
  pageToken: string,
  deadline: Deadline,
): Promise<LinkedAccount | undefined> {
  try {
    return await deps.graph.instagramAccount(pageId, pageToken, { deadline });
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    logger.warn('linked Instagram account not read; connect the page again to retry', {
      pageId,
      graphError: err.toJSON(),
    });
    return undefined;
  }
}

async function storeInstagramEntry(
  pages: PageRepository,
  account: LinkedAccount,
  linkedPageId: string,
  status: PageStatus,
): Promise<ConnectedPage | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await pages.get(account.id);
    const at = new Date().toISOString();
    const change = instagramLinked(existing, { account, linkedPageId, status, at });
    if (!change) {
      logger.warn('Instagram account id is taken by a Messenger page: not connected', { pageId: account.id });
      return undefined;
    }
    const stored = await pages.apply(account.id, change);
    if (stored) {
      count('InstagramAccountsConnected');
      const { pageId, name } = stored;
      return { pageId, name, status: stored.status, channel: 'instagram', linkedPageId };
    }
  }
  throw new Error(`Instagram entry ${account.id} changed under every connect attempt`);
}

function choose(available: GraphPage[], pageIds?: string[]): GraphPage[] {
  if (!pageIds) return available;
  const byId = new Map(available.map((p) => [p.id, p]));
  const missing = pageIds.filter((id) => !byId.has(id));
  if (missing.length) {
    throw new AdminError(400, 'pages_not_found', `this user does not manage page(s) ${missing.join(', ')}`);
  }
  return [...new Set(pageIds)].map((id) => byId.get(id) as GraphPage);
}

async function connectOne(deps: ConnectDeps, p: GraphPage, deadline: Deadline): Promise<ConnectedPage> {
  if (!p.accessToken) {
    const error = 'Facebook gave no page token: the user has no task on this page that allows messaging';
    return { pageId: p.id, name: p.name, status: NOT_CONNECTED, error };
  }
  let pendingSealedToken: string;
  try {
    pendingSealedToken = await deps.sealer.seal(p.id, p.accessToken);
  } catch (err) {
    logger.error('page token could not be sealed', { pageId: p.id, error: err as Error });
    return {
      pageId: p.id,
      name: p.name,
      status: NOT_CONNECTED,
      error: 'the page token could not be sealed',
    };
  }
  // The new token waits on the page; the connect command, in the page's turn, makes it the page's token.
  await storePendingToken(deps.pages, p, pendingSealedToken);
  const outcome = await deps.runCommand('connect', p.id, deadline);
  if (outcome?.ok) count('PagesConnected');
  return { pageId: p.id, name: p.name, status: outcome?.status ?? 'subscribing', error: outcome?.error };
}

/**
 * A new page is created only if it still is new (two connects of one page at once must not overwrite
 * each other's record); the one that loses the race finds the page and is stored as a connect of it.
 */
async function storePendingToken(pages: PageRepository, p: GraphPage, pendingSealedToken: string) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await pages.get(p.id);
    const at = new Date().toISOString();
    const change = connectRequested(existing, { name: p.name, pendingSealedToken, at });
    if (await pages.apply(p.id, change)) return;
  }
  throw new Error(`page ${p.id} changed under every connect attempt`);
}

/** A refused user token is the caller's problem (400), not ours. */
async function asAdminError<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof GraphError && (err.errorClass === 'auth' || err.code === 101)) {
      throw new AdminError(400, 'invalid_user_token', `Facebook refused the user token: ${err.message}`);
    }
    throw err;
  }
}
