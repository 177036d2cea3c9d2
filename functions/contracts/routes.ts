/**
 * Every HTTP path Pagewire serves, defined once: the API Gateway routes (lib/), the local gateway,
 * the verifier, the admin router and the CLI all read them from here.
 */

/** Meta's webhook: `GET` for the subscription handshake, `POST` for signed events. */
export const WEBHOOK_PATH = '/webhooks/facebook';
/** Public liveness answer, served by the verifier. */
export const HEALTH_PATH = '/health';
/** Everything under it is the admin API (IAM on AWS, a bearer token locally). */
export const ADMIN_PREFIX = '/admin';

/** Facebook Login (SPEC §12), public: the link opens here and redirects to Facebook's dialog. */
export const CONNECT_LOGIN_PATH = '/connect/facebook';
/** Facebook Login's redirect_uri (GET, with code and state); the page picker posts back to it. */
export const CONNECT_CALLBACK_PATH = '/connect/facebook/callback';

/** True for a public Facebook Login path. */
export function isConnectLoginPath(path: string): boolean {
  return path === CONNECT_LOGIN_PATH || path === CONNECT_CALLBACK_PATH;
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** One admin route: method and path template (`{name}` is one path segment). */
export interface AdminRoute {
  method: HttpMethod;
  path: string;
}

const route = (method: HttpMethod, path: string): AdminRoute => ({ method, path: `${ADMIN_PREFIX}${path}` });

/** The admin API (SPEC §4). */
export const adminRoutes = {
  connectPages: route('POST', '/pages/connect'),
  listPages: route('GET', '/pages'),
  subscribePage: route('POST', '/pages/{pageId}/subscribe'),
  disconnectPage: route('DELETE', '/pages/{pageId}'),
  checkSubscriptions: route('POST', '/subscriptions/check'),
  resubscribeAll: route('POST', '/subscriptions/resubscribe-all'),
  listDeadLetters: route('GET', '/dead-letters'),
  redriveDeadLetters: route('POST', '/dead-letters/redrive'),
  listConversations: route('GET', '/pages/{pageId}/conversations'),
  listMessages: route('GET', '/pages/{pageId}/conversations/{userId}/messages'),
  sendMessage: route('POST', '/pages/{pageId}/conversations/{userId}/messages'),
  listQuarantine: route('GET', '/quarantine'),
  getQuarantined: route('GET', '/quarantine/{pageId}/{eventId}'),
  doctor: route('GET', '/doctor'),
  repairDoctor: route('POST', '/doctor/repair'),
  // Facebook Login connect links (SPEC §12).
  createConnectLink: route('POST', '/connect-links'),
  getConnectLink: route('GET', '/connect-links/{linkId}'),
} as const satisfies Record<string, AdminRoute>;

/** True for a path the admin API serves. */
export function isAdminPath(path: string): boolean {
  return path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`);
}

/**
 * A route's path with its parameters filled in (each URI-encoded, so an id cannot add a segment) and
 * an optional query (undefined values left out). Throws when a parameter is missing.
 */
export function pathOf(
  route: AdminRoute,
  params: Record<string, string> = {},
  query: Record<string, string | number | undefined> = {},
): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.path}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
  const qs = search.toString();
  return qs ? `${path}?${qs}` : path;
}
