import { AdminError } from '#contracts/admin-api';
import {
  CONNECT_LINK_TTL_SECONDS,
  type ConnectedPageView,
  type ConnectLinkCreated,
  type ConnectLinkView,
  LOGIN_SCOPES,
} from '#contracts/connect-link';
import { isGraphId } from '#contracts/ids';
import { CONNECT_CALLBACK_PATH, CONNECT_LOGIN_PATH } from '#contracts/routes';
import type { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import { type ConnectDeps, connectChosenPages, userPages } from '#pages/connect';
import type { AppCredentialsSource, TokenSealer } from '#ports/ports';
import { type Deadline, NO_DEADLINE } from '#runtime/deadline';
import type { HttpResult } from '#runtime/http';
import { count, logger } from '#runtime/observability';
import { errorPage, pickerPage, redirect, resultPage } from './html.js';
import type { ClaimOutcome, ConnectLinkStore } from './link-store.js';
import { csrfMatches, isState, linkIdOf, linkSealContext, newSecret, sha256Hex } from './secrets.js';

export interface ConnectLoginDeps {
  links: ConnectLinkStore;
  sealer: TokenSealer;
  credentials: AppCredentialsSource;
  graph: () => Promise<GraphClient | undefined>;
  /** The page operations of `POST /admin/pages/connect`: seal, subscribe by own id, status. */
  connect: Omit<ConnectDeps, 'graph'>;
  /** Where browsers reach this deployment (PUBLIC_URL locally, the API's URL on AWS); read per request. */
  publicBaseUrl: () => string | undefined;
  /** Facebook's dialog base (FB_DIALOG_URL): `https://www.facebook.com`, or the sandbox's. */
  dialogUrl: string;
  graphApiVersion: string;
  now: () => number;
}

/** The picker's CSRF cookie (double submit, see secrets.ts): HttpOnly, SameSite=Strict, only for these paths. */
export const CSRF_COOKIE = 'pagewire_connect_csrf';

/** `POST /admin/connect-links`: a fresh state, stored only as its hash, and the link that carries it. */
export async function createLink(
  deps: ConnectLoginDeps,
  expiresInSeconds?: number,
): Promise<ConnectLinkCreated> {
  const base = publicBase(deps);
  if (!base)
    throw new AdminError(503, 'not_configured', 'the public base URL is not configured (PUBLIC_BASE_URL)');
  const state = newSecret();
  const linkId = linkIdOf(state);
  const now = deps.now();
  const expiresAt = now + (expiresInSeconds ?? CONNECT_LINK_TTL_SECONDS) * 1000;
  await deps.links.create(linkId, now, expiresAt);
  logger.info('connect link created', { linkId });
  const url = `${base}${CONNECT_LOGIN_PATH}?${new URLSearchParams({ state })}`;
  return { linkId, url, expiresAt: new Date(expiresAt).toISOString() };
}

/** `GET /admin/connect-links/{linkId}`: where the login stands, for the CLI that waits on it. */
export async function linkView(deps: ConnectLoginDeps, linkId: string): Promise<ConnectLinkView> {
  const link = await deps.links.get(linkId);
  if (!link) throw new AdminError(404, 'link_not_found', `unknown connect link ${linkId}`);
  const expired =
    Date.parse(link.expiresAt) <= deps.now() && link.status !== 'done' && link.status !== 'failed';
  return {
    linkId,
    status: link.status,
    expired,
    expiresAt: link.expiresAt,
    ...(link.result ? { result: link.result } : {}),
    ...(link.error ? { error: link.error } : {}),
  };
}

/** `GET /connect/facebook?state=…`: an unused, unexpired link goes on to Facebook's dialog. */
export async function startLogin(deps: ConnectLoginDeps, state: string | undefined): Promise<HttpResult> {
  if (!isState(state)) return invalidLink();
  const linkId = linkIdOf(state);
  const moved = await deps.links.move(linkId, ['created', 'dialog_opened'], 'dialog_opened', deps.now());
  if (moved !== 'claimed') return refused(moved);
  const [credentials, base] = [await deps.credentials.get(), publicBase(deps)];
  if (!credentials || !base) return notConfigured();
  const dialog = new URL(`${deps.dialogUrl.replace(/\/+$/, '')}/${deps.graphApiVersion}/dialog/oauth`);
  dialog.search = new URLSearchParams({
    client_id: credentials.appId,
    redirect_uri: callbackUrl(base),
    state,
    response_type: 'code',
    scope: LOGIN_SCOPES.join(','),
  }).toString();
  return redirect(dialog.toString());
}

export interface CallbackQuery {
  code?: string;
  state?: string;
  error?: string;
}

/**
 * `GET /connect/facebook/callback?code&state`: the link claimed (single use), the code exchanged, the
 * user's long-lived token sealed into the link, and the picker with every page ticked.
 */
export async function loginCallback(
  deps: ConnectLoginDeps,
  q: CallbackQuery,
  deadline: Deadline = NO_DEADLINE,
): Promise<HttpResult> {
  if (!isState(q.state)) return invalidLink();
  const linkId = linkIdOf(q.state);
  const now = deps.now();
  if (q.error !== undefined || !q.code) {
    const why = q.error === undefined ? 'Facebook sent no login code' : 'the Facebook login was cancelled';
    const moved = await deps.links.move(linkId, ['created', 'dialog_opened'], 'failed', now, { error: why });
    if (moved !== 'claimed') return refused(moved);
    logger.info('connect link failed', { linkId, reason: q.error === undefined ? 'no_code' : 'cancelled' });
    return errorPage(400, 'Login cancelled', `Pages were not connected: ${why}.`);
  }
  const claimed = await deps.links.move(linkId, ['created', 'dialog_opened'], 'code_exchanged', now);
  if (claimed !== 'claimed') return refused(claimed);
  const [graph, base] = [await deps.graph(), publicBase(deps)];
  if (!graph || !base) return failed(deps, linkId, 503, 'The Facebook app is not configured here.');

  let exchanged: Awaited<ReturnType<typeof exchangeAndSeal>>;
  try {
    exchanged = await exchangeAndSeal(deps, graph, linkId, q.code, base, deadline);
  } catch (err) {
    // The link is claimed: whatever failed, it ends `failed` (the CLI says why) rather than waiting out its expiry.
    return graphFailure(deps, linkId, err, 'Facebook refused the login');
  }
  const { pages, csrf, stored } = exchanged;
  if (stored !== 'claimed') return refused(stored);
  // Nothing to pick: the link ends now (its user token erased) and the CLI says why at once.
  if (pages.length === 0)
    return failed(deps, linkId, 400, 'Facebook listed no page that this account manages.');
  logger.info('connect link: pages listed', { linkId, pages: pages.length });
  const cookie = [
    `${CSRF_COOKIE}=${csrf}`,
    `Path=${CONNECT_LOGIN_PATH}`,
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${CONNECT_LINK_TTL_SECONDS}`,
    ...(base.startsWith('https:') ? ['Secure'] : []),
  ].join('; ');
  return pickerPage(
    CONNECT_CALLBACK_PATH,
    q.state,
    csrf,
    pages.map((p) => ({ id: p.id, name: p.name })),
    { 'set-cookie': cookie },
  );
}

/** The code for the user's pages; the long-lived user token sealed into the link with the form's CSRF hash. */
async function exchangeAndSeal(
  deps: ConnectLoginDeps,
  graph: GraphClient,
  linkId: string,
  code: string,
  base: string,
  deadline: Deadline,
) {
  const userToken = await graph.exchangeCode(code, callbackUrl(base), { deadline });
  const { longLivedToken, pages } = await userPages(graph, userToken, deadline);
  const csrf = newSecret();
  const sealed = await deps.sealer.seal(linkSealContext(linkId), longLivedToken);
  const stored = await deps.links.move(linkId, ['code_exchanged'], 'code_exchanged', deps.now(), {
    sealedUserToken: sealed,
    csrfHash: sha256Hex(csrf),
  });
  return { pages, csrf, stored };
}

export interface PickerForm {
  state?: string;
  csrf?: string;
  pageIds: string[];
}

/** The picker's POST: the ticked pages connected as `POST /admin/pages/connect` does; the link ends `done`. */
export async function submitPicker(
  deps: ConnectLoginDeps,
  form: PickerForm,
  csrfCookie: string | undefined,
  deadline: Deadline = NO_DEADLINE,
): Promise<HttpResult> {
  if (!isState(form.state)) return invalidLink();
  const linkId = linkIdOf(form.state);
  const link = await deps.links.get(linkId);
  if (!link) return invalidLink();
  // A forged or replayed form (another site, another browser) is refused without touching the link.
  if (!csrfMatches(form.csrf, csrfCookie, link.csrfHash)) {
    logger.warn('connect link: picker form refused (CSRF token missing or wrong)', { linkId });
    return errorPage(
      400,
      'Form refused',
      'This form did not come from the page Pagewire showed this browser.',
    );
  }
  if (!form.pageIds.every(isGraphId))
    return errorPage(400, 'Form refused', 'A page id in the form is not valid.');
  const claimed = await deps.links.move(linkId, ['code_exchanged'], 'connecting', deps.now());
  // Too late: the link ends, and the user token it holds goes with it.
  if (claimed === 'expired')
    await deps.links.fail(linkId, 'the link expired before the pages were picked', deps.now());
  if (claimed !== 'claimed') return refused(claimed);
  const graph = await deps.graph();
  if (!graph || !link.sealedUserToken)
    return failed(deps, linkId, 503, 'The Facebook app is not configured here.');
  let result: ConnectedPageView[];
  try {
    const token = await deps.sealer.unseal(linkSealContext(linkId), link.sealedUserToken);
    const available = await graph.listPages(token, { deadline });
    result = form.pageIds.length
      ? await connectChosenPages({ ...deps.connect, graph }, available, form.pageIds, deadline)
      : [];
  } catch (err) {
    if (err instanceof AdminError) return failed(deps, linkId, 400, err.message);
    return graphFailure(deps, linkId, err, 'Connecting the pages failed');
  }
  await deps.links.finish(linkId, result, deps.now());
  count('ConnectLinksDone');
  logger.info('connect link done', {
    linkId,
    pages: result.map((p) => ({ pageId: p.pageId, status: p.status })),
  });
  return resultPage(result);
}

function publicBase(deps: ConnectLoginDeps): string | undefined {
  return deps.publicBaseUrl()?.replace(/\/+$/, '');
}

function callbackUrl(base: string): string {
  return `${base}${CONNECT_CALLBACK_PATH}`;
}

function invalidLink(): HttpResult {
  return errorPage(
    400,
    'Link not valid',
    'This connect link is not valid: it may have been copied incompletely.',
  );
}

function notConfigured(): HttpResult {
  return errorPage(503, 'Not configured', 'The Facebook app of this Pagewire is not configured yet.');
}

function refused(outcome: Exclude<ClaimOutcome, 'claimed'>): HttpResult {
  if (outcome === 'expired')
    return errorPage(400, 'Link expired', 'This connect link has expired: links are valid for 15 minutes.');
  if (outcome === 'used')
    return errorPage(400, 'Link already used', 'This connect link has already been used.');
  return invalidLink();
}

async function failed(
  deps: ConnectLoginDeps,
  linkId: string,
  status: number,
  message: string,
): Promise<HttpResult> {
  await deps.links.fail(linkId, message, deps.now());
  logger.info('connect link failed', { linkId, status });
  return errorPage(status, 'Pages not connected', message);
}

/** Meta's messages are redacted by the Graph client; a refused code or token is the login's fault (400). */
async function graphFailure(
  deps: ConnectLoginDeps,
  linkId: string,
  err: unknown,
  what: string,
): Promise<HttpResult> {
  if (err instanceof GraphError) {
    logger.warn('connect link: Graph API refused', { linkId, graphError: err.toJSON() });
    const status = err.errorClass === 'auth' || err.errorClass === 'permanent' ? 400 : 502;
    return failed(deps, linkId, status, `${what}: ${err.message}`);
  }
  if (err instanceof AdminError) return failed(deps, linkId, 400, `${what}: ${err.message}`);
  logger.error('connect link failed', { linkId, error: err as Error });
  return failed(deps, linkId, 500, `${what}: internal error`);
}
