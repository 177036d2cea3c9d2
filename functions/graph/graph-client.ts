import { createHmac } from 'node:crypto';
import type * as z from 'zod/mini';
import {
  AccountsAnswer,
  AppSubscriptionsAnswer,
  DebugTokenAnswer,
  GraphErrorBody,
  ProfileAnswer,
  SendAnswer,
  SubscribedAppsAnswer,
  SuccessAnswer,
  TokenAnswer,
} from '#contracts/graph';
import { isGraphId } from '#contracts/ids';
import { InstagramAccountAnswer, InstagramProfileAnswer } from '#contracts/instagram';
import { type Deadline, NO_DEADLINE } from '#runtime/deadline';
import { GraphError, GraphNotAttemptedError, regainAccessMs } from './graph-error.js';
import { type RetryClock, type RetryPolicy, withRetry } from './retry-policy.js';
import { usagePercent } from './usage.js';

const MIN_ATTEMPT_MS = 500;

export interface GraphClientOptions {
  baseUrl: string;
  version: string;
  appId: string;
  appSecret: string;
  /** Per attempt: every Graph call is aborted after this many ms. */
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Overrides of the retry policy (retry-policy.ts); `false` makes every call a single attempt. */
  retry?: Partial<RetryPolicy> | false;
  /** Sleep and jitter for the retries (tests fake them). */
  clock?: Partial<RetryClock>;
}

export interface GraphPage {
  id: string;
  name: string;
  /** Absent when the user has no task on the page that grants a token. */
  accessToken?: string;
}

export interface Profile {
  firstName?: string;
  lastName?: string;
  profilePic?: string;
}

/** The app's webhook for one object (`page`), as `GET /{app-id}/subscriptions` lists it. */
export interface AppSubscription {
  object: string;
  callbackUrl?: string;
  active: boolean;
  fields: string[];
}

/** What `/debug_token` says of a token; times in epoch seconds (`expiresAt` 0 = never). */
export interface TokenInfo {
  isValid: boolean;
  scopes: string[];
  expiresAt?: number;
  dataAccessExpiresAt?: number;
  /** Meta's reason when the token is not valid. */
  error?: string;
}

export interface SendOptions {
  messagingType: 'RESPONSE' | 'UPDATE' | 'MESSAGE_TAG';
  tag?: string;
}

type Params = Record<string, string>;

interface CallOptions {
  /** A template naming the call in errors and logs, e.g. `GET /{psid}`. */
  operation: string;
  token?: string;
  query?: Params;
  form?: Params;
  json?: unknown;
  /** False when running the call twice has an effect (a send): see `withRetry`'s `idempotent`. */
  idempotent?: boolean;
  /** Codes that mean "refused for good" on this call although they are transient elsewhere. */
  permanentCodes?: number[];
  /** One attempt only, whatever the client's retry policy. */
  once?: boolean;
  deadline: Deadline;
}

/** What a caller may add to one Graph call. */
export interface GraphCallOptions {
  /** The invocation's deadline (NO_DEADLINE outside one): no attempt or retry starts that could not end before it. */
  deadline: Deadline;
}

/**
 * Callers outside an invocation (tools, the admin API's send until it passes its deadline) may leave
 * the options out; every invocation in pages/ and contacts/ passes its own deadline.
 */
const UNBOUNDED: GraphCallOptions = Object.freeze({ deadline: NO_DEADLINE });

/** `appsecret_proof`: HMAC-SHA256 of the token keyed by the app secret, hex. */
export function appSecretProof(token: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(token).digest('hex');
}

/**
 * The Graph API over native fetch. Every call that carries a token carries its `appsecret_proof`;
 * every call has a timeout; every failure becomes a classified GraphError with Meta's message; every
 * call is retried by the one policy of retry-policy.ts (throttles and transient failures only, within
 * the invocation's budget).
 */
export class GraphClient {
  private readonly fetch: typeof fetch;
  private readonly root: string;
  /** The rate-limit usage (percent) Meta's last answer reported (graph/usage.ts). */
  private lastUsage?: number;

  constructor(private readonly opts: GraphClientOptions) {
    this.fetch = opts.fetch ?? fetch;
    this.root = `${opts.baseUrl.replace(/\/+$/, '')}/${opts.version}`;
  }

  async exchangeUserToken(
    shortLivedToken: string,
    { deadline }: GraphCallOptions = UNBOUNDED,
  ): Promise<string> {
    const answer = await this.call(TokenAnswer, 'GET', '/oauth/access_token', {
      operation: 'GET /oauth/access_token',
      query: {
        grant_type: 'fb_exchange_token',
        client_id: this.opts.appId,
        client_secret: this.opts.appSecret,
        fb_exchange_token: shortLivedToken,
      },
      // Meta answers a wrong app secret here with code 1 ("Error validating client secret").
      permanentCodes: [1],
      deadline,
    });
    return answer.access_token;
  }

  /** Every page the user manages, following `paging.next` (only ever back to our own Graph base). */
  async listPages(userToken: string, { deadline }: GraphCallOptions = UNBOUNDED): Promise<GraphPage[]> {
    const pages: GraphPage[] = [];
    let query: Params | undefined = { fields: 'id,name,access_token' };
    const seen = new Set<string>();
    // A paging link that comes back to a cursor already read would loop for ever: stop there.
    while (query && !seen.has(JSON.stringify(query))) {
      seen.add(JSON.stringify(query));
      const answer: z.output<typeof AccountsAnswer> = await this.call(AccountsAnswer, 'GET', '/me/accounts', {
        operation: 'GET /me/accounts',
        token: userToken,
        query,
        deadline,
      });
      for (const p of answer.data ?? []) pages.push({ id: p.id, name: p.name, accessToken: p.access_token });
      query = answer.paging?.next ? this.nextPageQuery(answer.paging.next) : undefined;
    }
    return pages;
  }

  async subscribeApp(
    pageId: string,
    pageToken: string,
    fields: readonly string[],
    { deadline }: GraphCallOptions = UNBOUNDED,
  ): Promise<void> {
    const operation = 'POST /{page-id}/subscribed_apps';
    await this.call(SuccessAnswer, 'POST', `/${pathId(pageId, operation)}/subscribed_apps`, {
      operation,
      token: pageToken,
      form: { subscribed_fields: fields.join(',') },
      deadline,
    });
  }

  async subscribedApps(
    pageId: string,
    pageToken: string,
    { deadline }: GraphCallOptions = UNBOUNDED,
  ): Promise<Array<{ id: string; fields: string[] }>> {
    const operation = 'GET /{page-id}/subscribed_apps';
    const answer = await this.call(
      SubscribedAppsAnswer,
      'GET',
      `/${pathId(pageId, operation)}/subscribed_apps`,
      { operation, token: pageToken, deadline },
    );
    return (answer.data ?? []).map((a) => ({ id: a.id, fields: a.subscribed_fields ?? [] }));
  }

  async unsubscribeApp(
    pageId: string,
    pageToken: string,
    { deadline }: GraphCallOptions = UNBOUNDED,
  ): Promise<void> {
    const operation = 'DELETE /{page-id}/subscribed_apps';
    await this.call(SuccessAnswer, 'DELETE', `/${pathId(pageId, operation)}/subscribed_apps`, {
      operation,
      token: pageToken,
      deadline,
    });
  }

  /** The app's webhooks (`GET /{app-id}/subscriptions`), read with the app token. */
  async appSubscriptions({ deadline }: GraphCallOptions = UNBOUNDED): Promise<AppSubscription[]> {
    const operation = 'GET /{app-id}/subscriptions';
    const answer = await this.call(
      AppSubscriptionsAnswer,
      'GET',
      `/${pathId(this.opts.appId, operation)}/subscriptions`,
      {
        operation,
        token: this.appToken(),
        deadline,
      },
    );
    return (answer.data ?? []).map((s) => ({
      object: s.object,
      callbackUrl: s.callback_url,
      active: s.active === true,
      fields: (s.fields ?? []).map((f) => f.name),
    }));
  }

  /**
   * Subscribes the app's `page` (or `instagram`) webhook (`POST /{app-id}/subscriptions`, app token).
   * Meta calls the callback's handshake with `verifyToken` before it accepts; named apart from
   * `subscribeApp`, which subscribes the app to one page.
   */
  async subscribeAppWebhook(
    {
      object = 'page',
      callbackUrl,
      verifyToken,
      fields,
    }: {
      object?: 'page' | 'instagram';
      callbackUrl: string;
      verifyToken: string;
      fields: readonly string[];
    },
    { deadline }: GraphCallOptions = UNBOUNDED,
  ): Promise<void> {
    const operation = 'POST /{app-id}/subscriptions';
    await this.call(SuccessAnswer, 'POST', `/${pathId(this.opts.appId, operation)}/subscriptions`, {
      operation,
      token: this.appToken(),
      form: {
        object,
        callback_url: callbackUrl,
        verify_token: verifyToken,
        fields: fields.join(','),
      },
      deadline,
    });
  }

  /** Introspects a page token (`GET /debug_token`, app token): validity, scopes, data-access expiry. */
  async debugToken(pageToken: string, { deadline }: GraphCallOptions = UNBOUNDED): Promise<TokenInfo> {
    const { data } = await this.call(DebugTokenAnswer, 'GET', '/debug_token', {
      operation: 'GET /debug_token',
      token: this.appToken(),
      query: { input_token: pageToken },
      deadline,
    });
    return {
      isValid: data.is_valid,
      scopes: data.scopes ?? [],
      expiresAt: data.expires_at,
      dataAccessExpiresAt: data.data_access_expires_at,
      // Meta's words may quote the token it looked at: redacted like every Graph message.
      error:
        data.error?.message && redact(data.error.message, [pageToken, this.appToken(), this.opts.appSecret]),
    };
  }

  /** `{app-id}|{app-secret}`: it holds the secret, so it is redacted like any token (see `attempt`). */
  private appToken(): string {
    return `${this.opts.appId}|${this.opts.appSecret}`;
  }

  /** `once`: a single attempt, for callers that would rather try again later than wait now. */
  async profile(
    psid: string,
    pageToken: string,
    { once = false, deadline }: GraphCallOptions & { once?: boolean } = UNBOUNDED,
  ): Promise<Profile> {
    const operation = 'GET /{psid}';
    const p = await this.call(ProfileAnswer, 'GET', `/${pathId(psid, operation)}`, {
      operation,
      token: pageToken,
      query: { fields: 'first_name,last_name,profile_pic' },
      once,
      deadline,
    });
    return { firstName: p.first_name, lastName: p.last_name, profilePic: p.profile_pic };
  }

  async sendText(
    pageId: string,
    pageToken: string,
    psid: string,
    text: string,
    send: SendOptions,
    { deadline }: GraphCallOptions = UNBOUNDED,
  ): Promise<{ messageId: string }> {
    const operation = 'POST /{page-id}/messages';
    // The recipient travels in the body, but an id that is not a PSID is no one to send to either.
    pathId(psid, operation);
    const answer = await this.call(SendAnswer, 'POST', `/${pathId(pageId, operation)}/messages`, {
      operation,
      token: pageToken,
      // Not idempotent: a timeout or network error (status 0) may come after Meta took the message, and
      // sending again would deliver it twice. Only answers Meta gave (429, throttle codes, 1, 2, 5xx)
      // are retried; a status 0 escapes to the caller (the queue decides, knowing the risk).
      idempotent: false,
      deadline,
      json: { recipient: { id: psid }, messaging_type: send.messagingType, tag: send.tag, message: { text } },
    });
    return { messageId: answer.message_id };
  }

  /**
   * Facebook Login's code for a user token (`GET /oauth/access_token?client_id&redirect_uri&client_secret&code`).
   * The code is single use and `redirectUri` must be the dialog's exactly: one attempt, never retried.
   */
  async exchangeCode(
    code: string,
    redirectUri: string,
    { deadline }: GraphCallOptions = UNBOUNDED,
  ): Promise<string> {
    const answer = await this.call(TokenAnswer, 'GET', '/oauth/access_token', {
      operation: 'GET /oauth/access_token (code)',
      query: {
        client_id: this.opts.appId,
        redirect_uri: redirectUri,
        client_secret: this.opts.appSecret,
        code,
      },
      permanentCodes: [1],
      once: true,
      deadline,
    });
    return answer.access_token;
  }

  private nextPageQuery(next: string): Params {
    let url: URL;
    try {
      url = new URL(next);
    } catch {
      // The TypeError would quote the link, and the link holds the user token.
      throw new GraphError({
        operation: 'GET /me/accounts',
        status: 0,
        message: 'paging.next is not a URL',
        errorClass: 'permanent',
      });
    }
    const ours = new URL(this.root);
    // Never send a token to a host we did not choose, whatever a paging link says.
    if (url.origin !== ours.origin)
      throw new GraphError({
        operation: 'GET /me/accounts',
        status: 0,
        message: 'paging.next leaves the Graph API',
        errorClass: 'permanent',
      });
    const query = Object.fromEntries(url.searchParams);
    delete query.access_token;
    delete query.appsecret_proof;
    return query;
  }

  /** One Graph call, retried by the policy; each attempt has its own timeout. */
  private call<S extends z.ZodMiniType>(
    answer: S,
    method: string,
    path: string,
    o: CallOptions,
  ): Promise<z.output<S>> {
    const retry = this.opts.retry === false || o.once ? { maxAttempts: 1 } : this.opts.retry;
    return withRetry(
      () => this.attempt(answer, method, path, o),
      {
        ...retry,
        attemptTimeoutMs: this.opts.timeoutMs,
        idempotent: o.idempotent ?? true,
        deadline: o.deadline,
      },
      this.opts.clock,
    );
  }

  private async attempt<S extends z.ZodMiniType>(
    answer: S,
    method: string,
    path: string,
    o: CallOptions,
  ): Promise<z.output<S>> {
    const url = new URL(`${this.root}${path}`);
    const params: Params = { ...o.query };
    if (o.token) {
      params.access_token = o.token;
      params.appsecret_proof = appSecretProof(o.token, this.opts.appSecret);
    }
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    // An attempt never outlives the invocation: its timeout is cut to the time left, and none starts
    // without a useful slice of it (the message then goes back to the queue).
    const budget = o.deadline.remainingMs();
    if (budget < MIN_ATTEMPT_MS) throw new GraphNotAttemptedError(o.operation);
    const timeoutMs = Math.min(this.opts.timeoutMs, budget);
    const init: RequestInit = { method, signal: AbortSignal.timeout(timeoutMs), headers: {} };
    if (o.form) {
      init.body = new URLSearchParams(o.form).toString();
      init.headers = { 'content-type': 'application/x-www-form-urlencoded' };
    } else if (o.json !== undefined) {
      init.body = JSON.stringify(o.json);
      init.headers = { 'content-type': 'application/json' };
    }
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(url, init);
      this.lastUsage = usagePercent(res.headers) ?? this.lastUsage;
      // The body is read under the same timeout: a stall after the headers is a timeout, not an answer.
      text = await res.text();
    } catch (err) {
      // fetch's own errors can quote the URL, which holds the token: keep only what failed.
      const timedOut = init.signal?.aborted || (err as Error)?.name === 'TimeoutError';
      throw new GraphError({
        operation: o.operation,
        status: 0,
        message: `Graph API ${timedOut ? 'timed out' : 'network error'}`,
      });
    }
    const body = parseJson(text);
    const failure = GraphErrorBody.safeParse(body);
    if (res.ok && !failure.success) {
      const parsed = answer.safeParse(body);
      if (parsed.success) return parsed.data;
      // Meta answered, but not what this call reads: the same answer would come again.
      throw new GraphError({
        operation: o.operation,
        status: res.status,
        message: 'Graph API answered an unexpected shape',
        errorClass: 'permanent',
      });
    }
    const e = failure.success ? failure.data.error : undefined;
    throw new GraphError({
      operation: o.operation,
      status: res.status,
      message: redact(e?.message ?? `Graph API answered HTTP ${res.status}`, [
        o.token,
        params.appsecret_proof,
        o.query?.fb_exchange_token,
        o.query?.input_token,
        o.query?.code,
        o.form?.verify_token,
        this.opts.appSecret,
      ]),
      code: e?.code,
      subcode: e?.error_subcode,
      fbtraceId: e?.fbtrace_id,
      retryAfterMs: regainAccessMs(res.headers.get('x-business-use-case-usage')),
      errorClass: e?.code !== undefined && o.permanentCodes?.includes(e.code) ? 'permanent' : undefined,
    });
  }

  /**
   * The highest rate-limit usage (percent of the app's allowance) the latest answer that reported one
   * carried, or undefined before any did: callers that can wait slow down above ~80 %.
   */
  usagePercent(): number | undefined {
    return this.lastUsage;
  }

  /**
   * The Instagram professional account linked to the page (SPEC §11), read with the page's token;
   * undefined when the page has none.
   */
  async instagramAccount(
    pageId: string,
    pageToken: string,
    { deadline }: GraphCallOptions = UNBOUNDED,
  ): Promise<{ id: string; username?: string } | undefined> {
    const operation = 'GET /{page-id}?fields=instagram_business_account';
    const answer = await this.call(InstagramAccountAnswer, 'GET', `/${pathId(pageId, operation)}`, {
      operation,
      token: pageToken,
      query: { fields: 'instagram_business_account{id,username}' },
      deadline,
    });
    const account = answer.instagram_business_account;
    return account && isGraphId(account.id) ? account : undefined;
  }

  /** An Instagram contact's profile (`GET /{igsid}`), with the linked page's token; `once` as `profile`. */
  async instagramProfile(
    igsid: string,
    pageToken: string,
    { once = false, deadline }: GraphCallOptions & { once?: boolean } = UNBOUNDED,
  ): Promise<{ name?: string; username?: string; profilePic?: string }> {
    const operation = 'GET /{igsid}';
    const p = await this.call(InstagramProfileAnswer, 'GET', `/${pathId(igsid, operation)}`, {
      operation,
      token: pageToken,
      query: { fields: 'name,username,profile_pic' },
      once,
      deadline,
    });
    return { name: p.name, username: p.username, profilePic: p.profile_pic };
  }
}

/** Meta's messages never quote a token today; make sure ours never will. */
function redact(message: string, secrets: Array<string | undefined>): string {
  let out = String(message);
  for (const s of secrets) if (s) out = out.split(s).join('[redacted]');
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * An id as a path segment. Only a Facebook id passes (contracts/ids.ts): anything else would address another
 * Graph object with a real token, so it is refused before any request, for good. Encoding it as well is
 * the second line of defence should the contract ever widen.
 */
function pathId(id: string, operation: string): string {
  if (!isGraphId(id)) {
    throw new GraphError({
      operation,
      status: 0,
      message: 'not a Facebook id: no Graph API call made with it',
      errorClass: 'permanent',
    });
  }
  return encodeURIComponent(id);
}
