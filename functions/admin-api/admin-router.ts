import {
  HttpVerbs,
  isHttpMethod,
  NotFoundError,
  ParameterValidationError,
  Router,
} from '@aws-lambda-powertools/event-handler/http';
import type { RequestContext } from '@aws-lambda-powertools/event-handler/types';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { AdminError } from '#contracts/admin-api';
import { ADMIN_PATH_ID_MAX } from '#contracts/limits';
import type { AdminRoute } from '#contracts/routes';
import { GraphError } from '#graph/graph-error';
import { type HttpEvent, type HttpResult, httpError } from '#runtime/http';
import { logger } from '#runtime/observability';

export type AdminHandler = (params: Record<string, string>, reqCtx: RequestContext) => Promise<Response>;

/**
 * Powertools' HTTP router with SPEC §4's answers: every error is `{"error":{"code","message"}}`, a path
 * with a route under another method is 405 (the router itself says 404), a bad %-escape or a path
 * parameter that is no id is 400 `invalid_path` (the router says 500).
 */
export class AdminRouter extends Router {
  /** `params`: what each named path parameter must be, e.g. `{pageId}` a Facebook id; 400 otherwise. */
  constructor(params: Record<string, z.ZodMiniType<string>>) {
    super({ logger });
    this.use(async ({ reqCtx, next }) => {
      checkParams(reqCtx.params, params);
      await next();
    });
    this.errorHandler(Error, async (err, reqCtx) => this.errorAnswer(err, reqCtx.req));
  }

  /** Registers a route of `#contracts/routes` (`{name}` templates; the router's own syntax is `:name`). */
  on(route: AdminRoute, handler: AdminHandler): this {
    const path = route.path.replace(/\{(\w+)\}/g, ':$1') as `/${string}`;
    this.route((reqCtx) => handler(reqCtx.params, reqCtx), { method: route.method, path });
    return this;
  }

  async handle(event: HttpEvent, context: Context): Promise<HttpResult> {
    const method = event.requestContext.http.method.toUpperCase();
    // The router answers a method it does not know (`FOO`) with an empty 405 of its own.
    if (!isHttpMethod(method))
      return httpError(405, 'method_not_allowed', `${method} is not allowed on ${event.rawPath}`);
    return this.resolve(routable(event, method), context);
  }

  private errorAnswer(err: Error, req: Request): Response {
    const path = new URL(req.url).pathname;
    if (err instanceof NotFoundError) {
      return this.allowsAnyMethod(path)
        ? errorJson(405, 'method_not_allowed', `${req.method} is not allowed on ${path}`)
        : errorJson(404, 'not_found', `no route ${req.method} ${path}`);
    }
    if (err instanceof AdminError) return errorJson(err.status, err.code, err.message);
    // A bad %-escape (URIError from decoding the parameter) or a blank parameter.
    if (err instanceof URIError || err instanceof ParameterValidationError)
      return errorJson(400, 'invalid_path', `${path} is not a valid path`);
    if (err instanceof GraphError) {
      logger.warn('Graph API call failed', { graphError: err.toJSON() });
      const status = err.errorClass === 'throttle' ? 429 : 502;
      return errorJson(status, `graph_${err.errorClass}`, `Graph API: ${err.message}`);
    }
    logger.error('admin request failed', { error: err });
    return errorJson(500, 'internal', 'internal error');
  }

  /** True when some route serves this path under any method (then a miss is 405, not 404). */
  private allowsAnyMethod(path: string): boolean {
    const trimmed = (path.length > 1 ? path.replace(/\/+$/, '') : path) as `/${string}`;
    return Object.values(HttpVerbs).some((m) => {
      try {
        return this.routeRegistry.resolve(m, trimmed) !== null;
      } catch {
        return true; // matched, but its parameters do not decode: the path is served
      }
    });
  }
}

/** SPEC §4's JSON answer. */
export function json(status: number, value: unknown): Response {
  return Response.json(value, { status });
}

function errorJson(status: number, code: string, message: string): Response {
  return json(status, { error: { code, message } });
}

/** The request body, JSON, checked against a zod/mini schema: 400 `invalid_json` / `invalid_body`. */
export async function parseBody<T>(req: Request, schema: z.ZodMiniType<T>): Promise<T> {
  let value: unknown;
  try {
    value = JSON.parse((await req.text()) || 'null');
  } catch {
    throw new AdminError(400, 'invalid_json', 'the body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new AdminError(400, 'invalid_body', `${where}${issue?.message ?? 'invalid body'}`);
  }
  return parsed.data;
}

/** A query parameter (the first, when repeated). */
export function queryOf(reqCtx: RequestContext, name: string): string | undefined {
  return new URL(reqCtx.req.url).searchParams.get(name) ?? undefined;
}

function checkParams(params: Record<string, string>, rules: Record<string, z.ZodMiniType<string>>): void {
  for (const [name, value] of Object.entries(params)) {
    if (value.length > ADMIN_PATH_ID_MAX || hasControlCharacter(value))
      throw new AdminError(400, 'invalid_path', `${name} is not a valid id`);
  }
  for (const [name, value] of Object.entries(params)) {
    const rule = rules[name]?.safeParse(value);
    // The value is not quoted: it is whatever the caller put in the URL.
    if (rule && !rule.success)
      throw new AdminError(400, 'invalid_path', `${name}: ${rule.error.issues[0]?.message ?? 'invalid'}`);
  }
  // A `.` or `..` segment (escaped by routable()) is no id, even where no rule names the parameter.
  const dots = Object.entries(params).find(([, v]) => DOT_SEGMENT.test(v));
  if (dots) throw new AdminError(400, 'invalid_path', `${dots[0]} is not a valid id`);
}

/** What a `.` or `..` path segment reads as once routable() escaped it. */
const DOT_SEGMENT = /^(%2E){1,2}$/;

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return true;
  return false;
}

/**
 * The event as the router should see it. The router builds a WHATWG `Request`, whose URL parser would
 * fold `.`/`..` segments (`%2e%2e` too) into the path, drop tabs and newlines and turn `\` into `/`:
 * `/admin/pages/%2e%2e/conversations` would become `/admin/conversations`. So each segment is
 * re-escaped (its decoded value unchanged), and a dot segment is escaped twice: `{pageId}` `..` then
 * reads `%2E%2E`, which no id rule takes either. A segment that does not decode is left for the router
 * (400 `invalid_path`). `Request` also refuses a body on GET and HEAD, where no route reads one.
 */
function routable(event: HttpEvent, method: string): HttpEvent {
  const rawPath = event.rawPath.split('/').map(escapeSegment).join('/');
  const body = method === 'GET' || method === 'HEAD' ? undefined : event.body;
  return { ...event, rawPath, body, isBase64Encoded: body === undefined ? false : event.isBase64Encoded };
}

function escapeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return segment;
  }
  if (decoded === '.' || decoded === '..') return decoded.replaceAll('.', '%252E');
  return encodeURIComponent(decoded);
}
