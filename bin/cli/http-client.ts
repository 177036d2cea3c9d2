import * as z from 'zod/mini';
import { ApiErrorBody } from '#contracts/admin-answers';
import { type ProgressOptions, withProgress } from './progress.js';
import type { Signer } from './sigv4.js';
import type { Target } from './target.js';

/** A failure that is not a usage mistake: printed as `error: <code>: <message>`, exit 1. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Answer {
  status: number;
  ok: boolean;
  /** The body as received. */
  text: string;
  /** The body parsed as JSON; `undefined` when it is not JSON. */
  body: unknown;
}

export interface ClientOptions {
  /** Signs every request (AWS); without it the target's admin token goes as a bearer token. */
  signer?: Signer;
  progress?: ProgressOptions;
  userAgent?: string;
}

/** The admin API over HTTP: one request per call, JSON in and out. */
export class AdminClient {
  constructor(
    private readonly target: Target,
    private readonly opts: ClientOptions = {},
  ) {}

  /** Whether requests carry credentials at all (a bearer token or a SigV4 signature). */
  get authenticated(): boolean {
    return this.opts.signer !== undefined || this.target.adminToken !== undefined;
  }

  async request(method: string, path: string, body?: unknown): Promise<Answer> {
    const url = new URL(this.target.url);
    const [route, query] = path.split('?', 2);
    // A base with a path (an API Gateway stage, a proxy prefix) keeps it in front of the route.
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${route}`;
    if (query !== undefined) url.search = query;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> =
      payload === undefined ? {} : { 'content-type': 'application/json' };
    if (this.opts.signer) {
      const signed = await this.opts.signer({ method, url, headers, body: payload }).catch((err: Error) => {
        throw new CliError('aws_credentials', `cannot sign the request: ${err.message}`);
      });
      // fetch derives Host from the URL, exactly the value that was signed.
      const { host: _host, ...rest } = signed;
      Object.assign(headers, rest);
    } else if (this.target.adminToken) {
      headers.authorization = `Bearer ${this.target.adminToken}`;
    }
    headers.accept = 'application/json';
    if (this.opts.userAgent) headers['user-agent'] = this.opts.userAgent;
    const sent = fetch(url, { method, headers, body: payload }).then(async (res) => ({
      status: res.status,
      ok: res.ok,
      text: await res.text(),
    }));
    let res: { status: number; ok: boolean; text: string };
    try {
      res = await withProgress(`${method} ${path}`, sent, this.opts.progress);
    } catch (err) {
      throw new CliError('unreachable', `cannot reach ${url.origin}: ${reason(err)}${this.hint()}`);
    }
    return { ...res, body: parseJson(res.text) };
  }

  private hint(): string {
    return this.target.source === 'default' || this.target.source === 'sandbox'
      ? ' (is the local stack running? `npm start`, or pass --url)'
      : '';
  }
}

/** `error: <code>: <message>` for an answer that is not a success, whatever its shape. */
export function errorOf(answer: Answer): { code: string; message: string } {
  const api = ApiErrorBody.safeParse(answer.body);
  if (api.success) return api.data.error;
  // API Gateway's own refusals (IAM, throttling) answer `{"message": "…"}`.
  const gateway = GatewayMessage.safeParse(answer.body);
  if (gateway.success) return { code: `http_${answer.status}`, message: gateway.data.message };
  const text = answer.text.trim().slice(0, 200);
  return { code: `http_${answer.status}`, message: text || 'no body' };
}

const GatewayMessage = z.object({ message: z.string() });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function reason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
