import * as z from 'zod/mini';
import { GraphId } from '#contracts/ids';
import { type HttpEvent, type HttpResult, httpError, json, rawBody } from '#runtime/http';
import { BREAKS, breakSandbox } from './graph-sandbox/breaks.js';
import type { GraphEmulator } from './graph-sandbox/emulator.js';

/**
 * `POST /admin/sandbox/break {"what":"app_webhook"|"page_subscription"|"token_scope"|"token_expiry"|
 * "revoke_token","pageId"?}`: the local stack in sandbox mode only, behind the admin token. Breaks Meta's
 * side (graph-sandbox/breaks.ts) so `npx pagewire doctor` has something to find; `pageId` defaults to
 * the first demo page.
 */
export const SANDBOX_BREAK_PATH = '/admin/sandbox/break';

const BreakBody = z.object({ what: z.enum(BREAKS), pageId: z.optional(GraphId) });

export function sandboxBreakRoute(fake: GraphEmulator, defaultPageId: string, event: HttpEvent): HttpResult {
  if (event.requestContext.http.method !== 'POST')
    return httpError(405, 'method_not_allowed', `${SANDBOX_BREAK_PATH} answers POST only`);
  let raw: unknown;
  try {
    raw = JSON.parse(rawBody(event).toString('utf8') || '{}');
  } catch {
    return httpError(400, 'bad_request', 'body: not JSON');
  }
  const body = BreakBody.safeParse(raw);
  if (!body.success)
    return httpError(400, 'bad_request', `body: "what" is one of ${BREAKS.join(', ')}; "pageId" a page id`);
  return json(200, breakSandbox(fake, body.data.what, body.data.pageId ?? defaultPageId));
}
