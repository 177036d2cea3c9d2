/**
 * A Graph API emulator on loopback that enforces the rules of Meta's real Graph API that Pagewire relies
 * on (SPEC §5): `appsecret_proof` on every token call, page tokens that work only for their own page,
 * page-scoped user ids, retired message tags, Meta's error shape. The local stack serves it with demo
 * data in sandbox mode (demo.ts) so nobody needs a Facebook app to try Pagewire; tests point
 * `GRAPH_API_URL` at it and add faults through its one hook, `intercept` (testkit/graph-faults.ts).
 * Changes on Meta's side (a revoked page token, a silent unsubscribe) are the emulator's own.
 *
 * It never logs: tokens pass through it, and a fake that prints them teaches the wrong habit.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { LoginDialog } from './dialog.js';
import { type InstagramAccount, InstagramAccounts } from './instagram.js';
import {
  type Answer,
  asObject,
  checkMessage,
  checkMessagingType,
  clamp,
  cursor,
  decodeCursor,
  extractToken,
  fail,
  MetaError,
  parseFields,
  pick,
  readBody,
  renderError,
  requirePageToken,
  unsupported,
} from './meta.js';

export interface GraphEmulatorOptions {
  appId: string;
  appSecret: string;
  appName?: string;
  /** `/me/accounts` page size when the caller sends no `limit` (default 25, as Meta). */
  pageSize?: number;
  /** When set, tokens are derived from it instead of random, so they survive a restart of the fake. */
  seed?: string;
}

export interface GraphCall {
  method: string;
  /** The path without the version, e.g. `/123/subscribed_apps`. */
  path: string;
  version: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
  /** The page whose token the call carried, when it carried a known page token. */
  tokenPageId?: string;
  at: number;
}

export interface SentMessage {
  recipientId: string;
  messagingType: string;
  tag?: string;
  text?: string;
  messageId: string;
}

/** A Graph error for `intercept` to answer instead of the emulator, rendered in Meta's shape. */
export interface GraphError {
  status: number;
  code: number;
  subcode?: number;
  message: string;
  type?: string;
  headers?: Record<string, string>;
}

/**
 * Sees each call before the emulator does (the body read, the token's page known). Answering a
 * `GraphError` makes the emulator answer that instead, before any check; its promise delays the answer.
 */
export type GraphIntercept = (call: GraphCall) => GraphError | undefined | Promise<GraphError | undefined>;

/** The objects an app subscribes webhooks for (Messenger's `page`, Instagram's `instagram`). */
export type AppWebhookObject = 'page' | 'instagram';

/** One of the app's webhooks as Meta keeps it (`/{app-id}/subscriptions`). */
export interface AppWebhook {
  callbackUrl: string;
  fields: string[];
  active: boolean;
}

/** What `/debug_token` tells of a page token; `dataAccessExpiresAt` in epoch seconds. */
export interface PageTokenInfo {
  scopes: string[];
  dataAccessExpiresAt: number;
}

export interface DemoPage {
  id: string;
  name: string;
}

type Who = { kind: 'user'; userId: string } | { kind: 'page'; pageId: string };

interface Ctx {
  method: string;
  version: string;
  segments: string[];
  query: Record<string, string>;
  body: Record<string, unknown>;
  token?: string;
  /** `http://host:port` as the caller addressed us, for absolute `paging.next` links. */
  origin: string;
}

const VERSION = /^v\d+\.\d+$/;
const EXPIRES_IN = 5_184_000; // 60 days, what Meta answers for a long-lived user token
const ACCOUNT_FIELDS = ['access_token', 'category', 'name', 'tasks'];
const PAGE_TASKS = ['ADVERTISE', 'ANALYZE', 'CREATE_CONTENT', 'MESSAGING', 'MODERATE', 'MANAGE'];
/** What a page token of a Messenger app holds after Facebook Login with the usual permissions. */
const PAGE_SCOPES = ['pages_show_list', 'pages_messaging', 'pages_manage_metadata', 'pages_read_engagement'];
const INSTAGRAM_SCOPES = ['instagram_basic', 'instagram_manage_messages'];
const DATA_ACCESS_SECONDS = 90 * 86_400;
const HANDSHAKE_TIMEOUT_MS = 5_000;
const MSG_190_467 = 'Invalid OAuth access token - Cannot parse access token';
const MSG_190_460 =
  'Error validating access token: The session has been invalidated because the user changed their password ' +
  'or Facebook has changed the session for security reasons.';

export class GraphEmulator {
  private server?: Server;
  private baseUrl = '';
  private readonly appName: string;
  private readonly pageSize: number;
  private readonly tokens = new Map<string, Who>();
  private readonly revoked = new Set<string>();
  private readonly pages = new Map<string, DemoPage & { token: string; generation: number }>();
  private readonly users = new Map<string, { id: string; name: string; pageIds: string[] }>();
  private readonly persons = new Map<string, { first: string; last: string }>();
  private readonly subs = new Map<string, string[]>();
  private readonly outbox = new Map<string, SentMessage[]>();
  private readonly tokenInfo = new Map<string, PageTokenInfo>();
  /** The app's webhooks by object (`page`, `instagram`), as `/{app-id}/subscriptions` keeps them. */
  private readonly webhooks = new Map<AppWebhookObject, AppWebhook>();
  private interceptor?: GraphIntercept;
  private loggedIn?: string;
  private usageHeaders: Record<string, string> = {};
  /** Instagram professional accounts linked to pages, their IGSIDs and profiles (instagram.ts). */
  private readonly instagram = new InstagramAccounts();
  /** Facebook Login's dialog (dialog.ts): logs in the first user, whose codes `/oauth/access_token` redeems. */
  readonly dialog: LoginDialog;

  constructor(private readonly opts: GraphEmulatorOptions) {
    this.appName = opts.appName ?? 'Pagewire';
    this.pageSize = opts.pageSize ?? 25;
    this.dialog = new LoginDialog({
      appId: opts.appId,
      appName: this.appName,
      user: () => (this.loggedIn ? this.users.get(this.loggedIn) : this.users.values().next().value),
      mintToken: (userId) => {
        const token = this.newToken(`login:${userId}:${randomBytes(8).toString('hex')}`);
        this.tokens.set(token, { kind: 'user', userId });
        return token;
      },
    });
  }

  /** Listens and resolves the base URL without a version, e.g. `http://127.0.0.1:PORT`. */
  start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) return Promise.reject(new Error('the Graph emulator is already started'));
    const server = createServer((req, res) => {
      if (this.dialog.serves(req)) return void this.dialog.handle(req, res).catch(() => res.destroy());
      void this.answer(req).then((a) => {
        res.writeHead(a.status, { 'content-type': 'application/json; charset=UTF-8', ...a.headers });
        res.end(JSON.stringify(a.body));
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const { port: bound } = server.address() as { port: number };
        this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
        resolve(this.baseUrl);
      });
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // fetch keeps connections alive; close them or `close` waits for their idle timeout.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return this.baseUrl;
  }

  /** A user who manages these pages; returns the short-lived user token a Facebook Login would give. */
  addUser(opts: { name?: string; pages: DemoPage[] }): { userId: string; shortLivedToken: string } {
    const id = String(122_000_000_000_001 + this.users.size);
    for (const p of opts.pages) this.addPage(p);
    this.users.set(id, { id, name: opts.name ?? 'Sandbox User', pageIds: opts.pages.map((p) => p.id) });
    const shortLivedToken = this.newToken(`user:${id}`);
    this.tokens.set(shortLivedToken, { kind: 'user', userId: id });
    return { userId: id, shortLivedToken };
  }

  /** Who the login dialog logs in: this user (by id), or the first one added when undefined. */
  loginAs(userId: string | undefined): void {
    if (userId !== undefined && !this.users.has(userId)) throw new Error(`Unknown user ${userId}`);
    this.loggedIn = userId;
  }

  /** The page's current token (tests use it to call the fake directly). */
  pageToken(pageId: string): string {
    return this.page(pageId).token;
  }

  /** A person who may write to any page; returns a key for `psid`. */
  addPerson(first: string, last: string): string {
    const key = `person-${this.persons.size + 1}`;
    this.persons.set(key, { first, last });
    return key;
  }

  /** The person's page-scoped id on that page: different on each page, the same on every call. */
  psid(personKey: string, pageId: string): string {
    if (!this.persons.has(personKey)) throw new Error(`Unknown person ${personKey}`);
    this.page(pageId);
    const hex = createHash('sha256').update(`psid:${personKey}:${pageId}`).digest('hex');
    // 16 digits, like real PSIDs.
    return String(10n ** 15n + (BigInt(`0x${hex.slice(0, 15)}`) % (9n * 10n ** 15n)));
  }

  /** Links an Instagram professional account to the page (`instagram_business_account`). */
  linkInstagram(pageId: string, account: InstagramAccount): void {
    this.page(pageId);
    this.instagram.link(pageId, account);
    // The page's admin grants Instagram's messaging permissions with it (the page token then holds them).
    const info = this.tokenInfo.get(pageId);
    if (info)
      this.tokenInfo.set(pageId, { ...info, scopes: [...new Set([...info.scopes, ...INSTAGRAM_SCOPES])] });
  }

  /** The person's IGSID on that Instagram account. */
  igsid(personKey: string, accountId: string): string {
    if (!this.persons.has(personKey)) throw new Error(`Unknown person ${personKey}`);
    return this.instagram.igsid(personKey, accountId);
  }

  subscriptions(pageId: string): { appId: string; fields: string[] } | undefined {
    const fields = this.subs.get(pageId);
    return fields ? { appId: this.opts.appId, fields: [...fields] } : undefined;
  }

  sent(pageId: string): SentMessage[] {
    return [...(this.outbox.get(pageId) ?? [])];
  }

  /** The one hook on every call (tests add faults through it); `undefined` removes it. */
  intercept(hook: GraphIntercept | undefined): void {
    this.interceptor = hook;
  }

  /**
   * The page token stops working (190/460, as after a password change). The user's next `/me/accounts`
   * hands out a fresh one, as a new login would, so reconnect flows can be tested.
   */
  revokePageToken(pageId: string): void {
    this.revoked.add(this.page(pageId).token);
  }

  /** Meta cut the app off the page (e.g. after an hour of failed deliveries): the subscription is gone. */
  unsubscribeSilently(pageId: string): void {
    this.subs.delete(pageId);
  }

  /** The app's webhook of `object` (`page` unless named), or undefined when the app has none. */
  appWebhook(object: AppWebhookObject = 'page'): AppWebhook | undefined {
    const w = this.webhooks.get(object);
    return w ? { ...w, fields: [...w.fields] } : undefined;
  }

  /** Every answer reports the app's rate-limit usage as `X-App-Usage` at `percent` (undefined: no header). */
  setAppUsage(percent: number | undefined): void {
    this.usageHeaders =
      percent === undefined
        ? {}
        : { 'x-app-usage': JSON.stringify({ call_count: percent, total_cputime: 1, total_time: 1 }) };
  }

  /**
   * Sets Meta's side of the app's webhook of `object` directly, without the handshake (undefined: none),
   * e.g. to play a callback Meta disabled (`active: false`) or a field missing.
   */
  setAppWebhook(webhook: AppWebhook | undefined, object: AppWebhookObject = 'page'): void {
    if (webhook) this.webhooks.set(object, { ...webhook, fields: [...webhook.fields] });
    else this.webhooks.delete(object);
  }

  /** What `/debug_token` tells of the page's current token. */
  tokenDetails(pageId: string): PageTokenInfo {
    const info = this.info(pageId);
    return { ...info, scopes: [...info.scopes] };
  }

  /** Changes what `/debug_token` tells of the page's token (a scope dropped, an expiry near). */
  setTokenDetails(pageId: string, change: Partial<PageTokenInfo>): void {
    this.tokenInfo.set(pageId, { ...this.info(pageId), ...change });
  }

  /** The user removed one permission from the app: the page token keeps working without it. */
  dropScope(pageId: string, scope: string): void {
    const info = this.info(pageId);
    this.setTokenDetails(pageId, { scopes: info.scopes.filter((s) => s !== scope) });
  }

  private addPage(p: DemoPage): void {
    if (this.pages.has(p.id)) return;
    const token = this.newToken(`page:${p.id}:0`);
    this.pages.set(p.id, { ...p, token, generation: 0 });
    this.tokens.set(token, { kind: 'page', pageId: p.id });
  }

  private info(pageId: string): PageTokenInfo {
    this.page(pageId);
    let info = this.tokenInfo.get(pageId);
    if (!info) {
      // A page with a linked Instagram account was connected granting Instagram's messaging permissions too.
      const scopes = this.instagram.ofPage(pageId) ? [...PAGE_SCOPES, ...INSTAGRAM_SCOPES] : [...PAGE_SCOPES];
      info = { scopes, dataAccessExpiresAt: nowSeconds() + DATA_ACCESS_SECONDS };
      this.tokenInfo.set(pageId, info);
    }
    return info;
  }

  private page(pageId: string) {
    const page = this.pages.get(pageId);
    if (!page) throw new Error(`Unknown page ${pageId}`);
    return page;
  }

  /** The page's token, replaced first when it was revoked (a new login yields a new page token). */
  private livePageToken(pageId: string): string {
    const page = this.page(pageId);
    if (this.revoked.has(page.token)) {
      page.generation += 1;
      page.token = this.newToken(`page:${pageId}:${page.generation}`);
      this.tokens.set(page.token, { kind: 'page', pageId });
      // A new login grants the app's permissions again and restarts the 90 days of data access.
      this.tokenInfo.delete(pageId);
    }
    return page.token;
  }

  private newToken(label: string): string {
    const bytes = this.opts.seed
      ? createHmac('sha256', this.opts.seed).update(label).digest()
      : randomBytes(32);
    return `EAA${bytes.toString('base64url').replace(/[-_]/g, '')}`;
  }

  private proof(token: string): string {
    return createHmac('sha256', this.opts.appSecret).update(token).digest('hex');
  }

  // ---- request handling ------------------------------------------------------------------------

  private async answer(req: IncomingMessage): Promise<Answer> {
    let answer: Answer;
    try {
      answer = await this.handle(req);
    } catch (err) {
      const e =
        err instanceof MetaError
          ? err
          : new MetaError(
              2,
              'An unexpected error has occurred. Please retry your request later.',
              undefined,
              'OAuthException',
              500,
            );
      answer = renderError(e);
    }
    return answer;
  }

  private async handle(req: IncomingMessage): Promise<Answer> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake');
    const [first = '', ...rest] = url.pathname.split('/').filter(Boolean);
    const versioned = VERSION.test(first);
    const segments = versioned ? rest : [first, ...rest].filter(Boolean);
    const query = Object.fromEntries(url.searchParams);
    const call: GraphCall = {
      method,
      path: `/${segments.join('/')}`,
      version: versioned ? first : '',
      query,
      body: {},
      at: Date.now(),
    };
    // A body Meta refuses is refused after the hook: the hook still sees the call.
    const body = await readBody(req).catch((err: unknown) => err);
    if (!(body instanceof Error)) call.body = body as Record<string, unknown>;
    const ctx: Ctx = {
      method,
      version: call.version,
      segments,
      query,
      body: call.body,
      token: extractToken(query, call.body, req.headers),
      origin: `http://${req.headers.host ?? this.baseUrl.replace(/^http:\/\//, '')}`,
    };
    const who = ctx.token ? this.tokens.get(ctx.token) : undefined;
    if (who?.kind === 'page') call.tokenPageId = who.pageId;
    const intercepted = await this.interceptor?.(call);
    if (intercepted) return renderError(metaErrorOf(intercepted));
    if (body instanceof Error) throw body;
    if (!versioned) fail(100, `Unknown path components: ${url.pathname}`);
    const headers: Record<string, string> = { 'facebook-api-version': ctx.version, ...this.usageHeaders };
    return { status: 200, body: await this.route(ctx), headers };
  }

  private route(c: Ctx): unknown {
    const [node, edge, ...extra] = c.segments;
    const unknownPath: () => never = () => fail(100, `Unknown path components: /${c.segments.join('/')}`);
    if (!node || extra.length) unknownPath();
    if (node === 'oauth') return edge === 'access_token' ? this.exchange(c) : unknownPath();
    if (node === 'debug_token' && !edge) return this.debugToken(c);
    if (node === this.opts.appId && edge === 'subscriptions') return this.appSubscriptions(c);
    if (edge && !['accounts', 'subscribed_apps', 'messages'].includes(edge)) unknownPath();
    const who = this.authenticate(c);
    // `/me` is whoever the token belongs to: the user, or the page for a page token (as on Meta).
    const id = node === 'me' ? (who.kind === 'user' ? who.userId : who.pageId) : node;
    if (edge === 'accounts') return this.accounts(c, who, id);
    if (edge === 'subscribed_apps') return this.subscribedApps(c, who, id);
    if (edge === 'messages') return this.messages(c, who, id);
    return this.node(c, who, id);
  }

  /** Token, then proof, then the token's validity: the order Meta checks them in. */
  private authenticate(c: Ctx): Who {
    const token = c.token;
    if (!token) fail(104, 'An access token is required to request this resource.');
    const proof = param(c, 'appsecret_proof');
    if (typeof proof !== 'string' || !proof) {
      fail(
        100,
        'API calls from the server require an appsecret_proof argument',
        undefined,
        'GraphMethodException',
      );
    }
    if (proof !== this.proof(token)) {
      fail(100, 'Invalid appsecret_proof provided in the API argument', undefined, 'GraphMethodException');
    }
    const who = this.tokens.get(token);
    if (!who) fail(190, MSG_190_467, 467);
    if (this.revoked.has(token)) fail(190, MSG_190_460, 460);
    return who;
  }

  /**
   * The app token `{app-id}|{app-secret}` with its proof; a user or page token is refused with #15,
   * a wrong secret with 190, as Meta does.
   */
  private authenticateApp(c: Ctx): void {
    const token = c.token;
    if (!token) fail(104, 'An access token is required to request this resource.');
    // An app token signed with another secret is refused before its proof, which no one could check.
    const appToken = token.includes('|');
    if (appToken && token !== `${this.opts.appId}|${this.opts.appSecret}`)
      fail(190, 'Invalid OAuth access token signature.');
    const proof = param(c, 'appsecret_proof');
    if (typeof proof !== 'string' || proof !== this.proof(token)) {
      fail(100, 'Invalid appsecret_proof provided in the API argument', undefined, 'GraphMethodException');
    }
    if (appToken) return;
    if (this.tokens.has(token)) fail(15, '(#15) This method must be called with an app access_token.');
    fail(190, MSG_190_467);
  }

  /**
   * `/{app-id}/subscriptions`: GET lists the app's webhooks; POST subscribes `page` or `instagram` after
   * the handshake.
   */
  private async appSubscriptions(c: Ctx): Promise<unknown> {
    this.authenticateApp(c);
    if (c.method === 'GET') {
      const data = [...this.webhooks].map(([object, w]) => ({
        object,
        callback_url: w.callbackUrl,
        active: w.active,
        fields: w.fields.map((name) => ({ name, version: c.version })),
      }));
      return { data };
    }
    if (c.method !== 'POST') unsupported(c.method, this.opts.appId);
    const object = param(c, 'object');
    if (object !== 'page' && object !== 'instagram')
      fail(100, '(#100) Param object must be one of {page, instagram} - got other');
    const callbackUrl = param(c, 'callback_url');
    const verifyToken = param(c, 'verify_token');
    if (typeof callbackUrl !== 'string' || !/^https?:\/\//.test(callbackUrl))
      fail(100, '(#100) Param callback_url must be a valid URL');
    if (typeof verifyToken !== 'string' || !verifyToken)
      fail(100, '(#100) The parameter verify_token is required');
    const fields = parseFields(param(c, 'fields'), object);
    await verifyCallback(callbackUrl, verifyToken);
    // Meta adds the fields named to those already subscribed; the callback is replaced and enabled.
    const kept = this.webhooks.get(object)?.fields ?? [];
    this.webhooks.set(object, { callbackUrl, fields: [...new Set([...kept, ...fields])], active: true });
    return { success: true };
  }

  /** `GET /debug_token?input_token=…` with the app token: 200 even for a token that no longer works. */
  private debugToken(c: Ctx): unknown {
    if (c.method !== 'GET') unsupported(c.method, 'debug_token');
    this.authenticateApp(c);
    const input = param(c, 'input_token');
    if (typeof input !== 'string' || !input) fail(100, '(#100) The parameter input_token is required');
    const who = this.tokens.get(input);
    const base = { app_id: this.opts.appId, application: this.appName };
    if (!who)
      return { data: { ...base, is_valid: false, scopes: [], error: { code: 190, message: MSG_190_467 } } };
    if (this.revoked.has(input)) {
      const error = { code: 190, subcode: 460, message: MSG_190_460 };
      return { data: { ...base, type: 'PAGE', is_valid: false, scopes: [], error } };
    }
    if (who.kind === 'user')
      return {
        data: {
          ...base,
          type: 'USER',
          is_valid: true,
          user_id: who.userId,
          expires_at: 0,
          scopes: PAGE_SCOPES,
        },
      };
    const info = this.info(who.pageId);
    return {
      data: {
        ...base,
        type: 'PAGE',
        is_valid: true,
        profile_id: who.pageId,
        expires_at: 0,
        data_access_expires_at: info.dataAccessExpiresAt,
        scopes: [...info.scopes],
      },
    };
  }

  /** `GET /oauth/access_token?grant_type=fb_exchange_token…`: app credentials instead of a proof. */
  private exchange(c: Ctx): unknown {
    if (c.method !== 'GET' && c.method !== 'POST') unsupported(c.method, 'access_token');
    const clientId = param(c, 'client_id');
    const secret = param(c, 'client_secret');
    if (!clientId) fail(101, 'Missing client_id parameter.');
    if (String(clientId) !== this.opts.appId)
      fail(101, 'Error validating application. Invalid application ID.');
    if (!secret) fail(101, 'Missing client_secret parameter.');
    // Meta answers a wrong secret with code 1, which looks transient: callers must not retry on it.
    if (secret !== this.opts.appSecret) fail(1, 'Error validating client secret.');
    const code = param(c, 'code');
    if (code !== undefined && param(c, 'grant_type') === undefined) {
      const access_token = this.dialog.redeem(String(code), param(c, 'redirect_uri'));
      return { access_token, token_type: 'bearer', expires_in: 3600 };
    }
    if (param(c, 'grant_type') !== 'fb_exchange_token') fail(100, 'Unsupported grant_type.');
    const short = param(c, 'fb_exchange_token');
    const who = typeof short === 'string' ? this.tokens.get(short) : undefined;
    if (who?.kind !== 'user') fail(190, MSG_190_467, 467);
    if (this.revoked.has(short as string)) fail(190, MSG_190_460, 460);
    const access_token = this.newToken(`long:${who.userId}:${randomBytes(8).toString('hex')}`);
    this.tokens.set(access_token, who);
    return { access_token, token_type: 'bearer', expires_in: EXPIRES_IN };
  }

  /** `GET /me/accounts`: the user's pages with their tokens, paged with cursors like Meta. */
  private accounts(c: Ctx, who: Who, id: string): unknown {
    if (c.method !== 'GET') unsupported(c.method, id);
    if (who.kind === 'page')
      fail(100, '(#100) Tried accessing nonexisting field (accounts) on node type (Page)');
    if (id !== who.userId) unsupported(c.method, id);
    const pageIds = this.users.get(who.userId)?.pageIds ?? [];
    const limit = clamp(Number(c.query.limit) || this.pageSize, 1, 100);
    const start = c.query.after ? decodeCursor(c.query.after) + 1 : 0;
    const slice = pageIds.slice(start, start + limit);
    const data = slice.map((pid) => pick(this.accountNode(pid), c.query.fields, 'Page', ACCOUNT_FIELDS));
    if (!slice.length) return { data };
    const after = cursor(start + slice.length - 1);
    const paging: Record<string, unknown> = { cursors: { before: cursor(start), after } };
    if (start + slice.length < pageIds.length) paging.next = this.nextLink(c, who.userId, limit, after);
    return { data, paging };
  }

  private accountNode(pageId: string): Record<string, unknown> {
    const p = this.page(pageId);
    const token = this.livePageToken(pageId);
    return { access_token: token, category: 'Local business', name: p.name, id: p.id, tasks: PAGE_TASKS };
  }

  /** Absolute, carries the access token but never the proof: exactly what Meta puts in `paging.next`. */
  private nextLink(c: Ctx, userId: string, limit: number, after: string): string {
    const q = new URLSearchParams(c.query);
    q.delete('appsecret_proof');
    q.delete('before');
    q.set('access_token', c.token ?? '');
    q.set('limit', String(limit));
    q.set('after', after);
    return `${c.origin}/${c.version}/${userId}/accounts?${q}`;
  }

  /** `/{page-id}/subscribed_apps`: only that page's own token may read or change it. */
  private subscribedApps(c: Ctx, who: Who, id: string): unknown {
    if (!this.pages.has(id)) unsupported(c.method, id);
    if (who.kind !== 'page' || who.pageId !== id) requirePageToken();
    if (c.method === 'GET') {
      const fields = this.subs.get(id);
      return {
        data: fields ? [{ id: this.opts.appId, name: this.appName, subscribed_fields: [...fields] }] : [],
      };
    }
    if (c.method === 'DELETE') {
      this.subs.delete(id);
      return { success: true };
    }
    if (c.method !== 'POST') unsupported(c.method, id);
    this.subs.set(id, parseFields(param(c, 'subscribed_fields')));
    return { success: true };
  }

  /** `POST /{page-id}/messages`: the Send API, with that page's token, to a PSID of that page. */
  private messages(c: Ctx, who: Who, id: string): unknown {
    if (c.method !== 'POST' || !this.pages.has(id)) unsupported(c.method, id);
    if (who.kind !== 'page' || who.pageId !== id) requirePageToken();
    const recipient = asObject(param(c, 'recipient'));
    if (!recipient) fail(100, '(#100) The parameter recipient is required');
    const messagingType = checkMessagingType(param(c, 'messaging_type'), param(c, 'tag'));
    const message = asObject(param(c, 'message'));
    const senderAction = param(c, 'sender_action');
    if (!message && !senderAction) fail(100, '(#100) Must send either message or state');
    const text = message ? checkMessage(message) : undefined;
    const recipientId = recipient.id === undefined ? '' : String(recipient.id);
    const igOwner = this.instagram.owner(recipientId, this.persons.keys());
    if (this.psidOwner(recipientId)?.pageId !== id && igOwner?.pageId !== id)
      fail(100, '(#100) No matching user found', 2018001);
    if (!message) return { recipient_id: recipientId };
    const sent: SentMessage = {
      recipientId,
      messagingType,
      text,
      messageId: `m_${randomBytes(24).toString('base64url')}`,
    };
    const tag = param(c, 'tag');
    if (messagingType === 'MESSAGE_TAG') sent.tag = String(tag);
    this.outbox.set(id, [...(this.outbox.get(id) ?? []), sent]);
    return { recipient_id: recipientId, message_id: sent.messageId };
  }

  /** `GET /{id}`: a page (public), the token's own user, or a person by PSID with that page's token. */
  private node(c: Ctx, who: Who, id: string): unknown {
    if (c.method !== 'GET') unsupported(c.method, id);
    const page = this.pages.get(id);
    const tokenPageId = who.kind === 'page' ? who.pageId : undefined;
    if (page)
      return (
        this.instagram.pageNode(page, c.query.fields, tokenPageId) ??
        pick({ name: page.name, id: page.id }, c.query.fields, 'Page')
      );
    const igOwner = this.instagram.owner(id, this.persons.keys());
    if (igOwner)
      return this.instagram.profile(
        id,
        igOwner,
        this.persons.get(igOwner.personKey),
        c.query.fields,
        tokenPageId,
      );
    const user = this.users.get(id);
    if (user && who.kind === 'user' && who.userId === id)
      return pick({ name: user.name, id }, c.query.fields, 'User');
    const owner = this.psidOwner(id);
    // A PSID exists only for its own page: any other token cannot see it at all.
    if (!owner || who.kind !== 'page' || who.pageId !== owner.pageId) unsupported(c.method, id);
    return pick(this.profile(owner.personKey, id), c.query.fields, 'User', [
      'first_name',
      'last_name',
      'profile_pic',
    ]);
  }

  private profile(personKey: string, psid: string): Record<string, unknown> {
    const p = this.persons.get(personKey);
    const pic = `https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=${psid}&height=50&width=50`;
    return {
      first_name: p?.first,
      last_name: p?.last,
      name: `${p?.first} ${p?.last}`,
      profile_pic: pic,
      id: psid,
    };
  }

  private psidOwner(id: string): { personKey: string; pageId: string } | undefined {
    for (const personKey of this.persons.keys()) {
      for (const pageId of this.pages.keys()) {
        if (this.psid(personKey, pageId) === id) return { personKey, pageId };
      }
    }
    return undefined;
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Meta's check before it accepts a callback: `GET callback?hub.mode=subscribe&hub.verify_token&hub.challenge`
 * must answer 200 with exactly the challenge (error 2200 otherwise).
 */
async function verifyCallback(callbackUrl: string, verifyToken: string): Promise<void> {
  const challenge = String(randomBytes(4).readUInt32BE(0));
  const url = new URL(callbackUrl);
  url.searchParams.set('hub.mode', 'subscribe');
  url.searchParams.set('hub.verify_token', verifyToken);
  url.searchParams.set('hub.challenge', challenge);
  let status = 0;
  let text = '';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS) });
    status = res.status;
    text = await res.text();
  } catch {
    fail(2200, "(#2200) callback verification failed: Couldn't connect to server");
  }
  if (status !== 200 || text !== challenge) {
    const why = status === 200 ? 'The response does not match the challenge' : `HTTP Status Code = ${status}`;
    fail(
      2200,
      `(#2200) callback verification failed: Callback verification failed with the following errors: ${why}`,
    );
  }
}

/** Meta merges query and body parameters. */
function param(c: Ctx, name: string): unknown {
  return c.query[name] ?? c.body[name];
}

function metaErrorOf(e: GraphError): MetaError {
  return new MetaError(e.code, e.message, e.subcode, e.type, e.status, e.headers);
}
