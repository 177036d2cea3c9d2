import type * as z from 'zod/mini';
import { type HttpEvent, type HttpResult, httpError } from '#runtime/http';

const MAX_ID_LENGTH = 128;

/** `{ pageId: string }` for `/admin/pages/{pageId}`: a handler gets exactly the names its path declares. */
export type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Record<Name, string> & PathParams<Rest>
  : Record<never, string>;

export type RouteHandler<P extends string = string> = (
  params: PathParams<P>,
  event: HttpEvent,
) => Promise<HttpResult>;

type AnyRouteHandler = (params: Record<string, string>, event: HttpEvent) => Promise<HttpResult>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: AnyRouteHandler;
}

/** A route table over paths like `/admin/pages/{pageId}`: no framework, the table is the API. */
export class Router {
  private readonly routes: Route[] = [];

  /** `params`: what each named path parameter must be, e.g. `{pageId}` a Facebook id; 400 otherwise. */
  constructor(private readonly params: Record<string, z.ZodMiniType<string>> = {}) {}

  on<P extends string>(method: string, path: P, handler: RouteHandler<P>): this {
    const names: string[] = [];
    const source = path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    // Sound: handle() passes an object with a value for every name in `names`, i.e. PathParams<P>.
    this.routes.push({
      method,
      pattern: new RegExp(`^${source}/?$`),
      names,
      handler: handler as AnyRouteHandler,
    });
    return this;
  }

  async handle(event: HttpEvent): Promise<HttpResult> {
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    const matches = this.routes.filter((r) => r.pattern.test(path));
    const route = matches.find((r) => r.method === method);
    if (!route) {
      return matches.length
        ? httpError(405, 'method_not_allowed', `${method} is not allowed on ${path}`)
        : httpError(404, 'not_found', `no route ${method} ${path}`);
    }
    const values = route.pattern.exec(path)?.slice(1) ?? [];
    let params: Record<string, string>;
    try {
      params = Object.fromEntries(route.names.map((n, i) => [n, decodeParam(values[i])]));
    } catch {
      return httpError(400, 'invalid_path', `${path} is not a valid path`);
    }
    // Page ids and PSIDs are short; anything longer is not one (and DynamoDB would refuse the key).
    const bad = Object.entries(params).find(([, v]) => v.length > MAX_ID_LENGTH || hasControlCharacter(v));
    if (bad) return httpError(400, 'invalid_path', `${bad[0]} is not a valid id`);
    for (const [name, value] of Object.entries(params)) {
      const rule = this.params[name]?.safeParse(value);
      // The value is not quoted: it is whatever the caller put in the URL.
      if (rule && !rule.success)
        return httpError(400, 'invalid_path', `${name}: ${rule.error.issues[0]?.message ?? 'invalid'}`);
    }
    return route.handler(params, event);
  }
}

/** Throws (a 400 in handle()) when the pattern left a parameter without a value. */
function decodeParam(value: string | undefined): string {
  if (value === undefined) throw new URIError('path parameter without a value');
  return decodeURIComponent(value);
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return true;
  return false;
}
