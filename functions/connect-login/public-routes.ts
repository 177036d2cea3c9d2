import type { Context } from 'aws-lambda';
import { CONNECT_CALLBACK_PATH, CONNECT_LOGIN_PATH } from '#contracts/routes';
import type { Deadline } from '#runtime/deadline';
import { type HttpEvent, type HttpResult, header, rawBody } from '#runtime/http';
import { logger } from '#runtime/observability';
import {
  type ConnectLoginDeps,
  CSRF_COOKIE,
  loginCallback,
  startLogin,
  submitPicker,
} from './connect-login.js';
import { errorPage } from './html.js';

/** A picker form is a state, a token and page ids: far below this. */
const FORM_MAX_BYTES = 64 * 1024;

/**
 * The public Facebook Login routes (SPEC §12), HTML in and out: `GET /connect/facebook`,
 * `GET /connect/facebook/callback` (Facebook's redirect) and `POST /connect/facebook/callback` (the
 * picker). No admin auth: the state in the link is the credential, single use and short-lived.
 */
export function createConnectLoginRoutes(deps: ConnectLoginDeps) {
  return async (event: HttpEvent, _context: Context, deadline: Deadline): Promise<HttpResult> => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    const query = new URLSearchParams(event.rawQueryString ?? '');
    try {
      if (path === CONNECT_LOGIN_PATH && method === 'GET') return await startLogin(deps, one(query, 'state'));
      if (path === CONNECT_CALLBACK_PATH && method === 'GET') {
        const q = { code: one(query, 'code'), state: one(query, 'state'), error: one(query, 'error') };
        return await loginCallback(deps, q, deadline);
      }
      if (path === CONNECT_CALLBACK_PATH && method === 'POST') {
        const body = rawBody(event);
        if (body.length > FORM_MAX_BYTES) return errorPage(413, 'Form too large', 'The form is too large.');
        const form = new URLSearchParams(body.toString('utf8'));
        const picker = { state: one(form, 'state'), csrf: one(form, 'csrf'), pageIds: form.getAll('pageId') };
        return await submitPicker(deps, picker, cookieOf(header(event, 'cookie'), event.cookies), deadline);
      }
    } catch (err) {
      logger.error('connect login request failed', { path, error: err as Error });
      return errorPage(
        500,
        'Something went wrong',
        'Pagewire could not finish this step. Nothing more was connected.',
      );
    }
    if (path === CONNECT_LOGIN_PATH || path === CONNECT_CALLBACK_PATH)
      return { ...errorPage(405, 'Method not allowed', `${method} is not allowed here.`) };
    return errorPage(404, 'Not found', 'There is no page here.');
  };
}

/** A parameter given once; repeated means tampered, and reads as missing. */
function one(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  return all.length === 1 ? all[0] : undefined;
}

/**
 * The CSRF cookie, from the `cookie` header (the local gateway) or API Gateway v2's `cookies` array.
 * Given twice (a cookie injected for a parent path) it reads as missing.
 */
function cookieOf(cookieHeader: string | undefined, cookies: string[] | undefined): string | undefined {
  const pairs = [...(cookies ?? []), ...(cookieHeader ?? '').split(';')]
    .map((c) => c.trim())
    .filter((c) => c.startsWith(`${CSRF_COOKIE}=`))
    .map((c) => c.slice(CSRF_COOKIE.length + 1));
  const unique = [...new Set(pairs)];
  return unique.length === 1 ? unique[0] : undefined;
}
