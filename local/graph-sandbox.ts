/**
 * A Graph API fake on loopback that enforces the rules of Meta's real Graph API that Pagewire relies on
 * (SPEC §5): `appsecret_proof` on every token call, page tokens that work only for their own page,
 * page-scoped user ids, retired message tags, Meta's error shape. Tests point `GRAPH_API_URL` at it; the
 * local stack runs it in sandbox mode (`startSandbox`) so nobody needs a Facebook app to try Pagewire.
 *
 * It never logs: tokens pass through it, and a fake that prints them teaches the wrong habit.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';

export interface GraphFakeOptions {
  appId: string;
  appSecret: string;
  appName?: string;
  /** `/me/accounts` page size when the caller sends no `limit` (default 25, as Meta). */
  pageSize?: number;
  /** Delay every answer by this many ms. */
  latencyMs?: number;
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

export interface ErrorMatch {
  method?: string;
  /** Compared with the path without the version: a string must equal it, a RegExp must match it. */
  path: string | RegExp;
  /** How many matching calls fail (default 1). */
  times?: number;
}

export interface InjectedError {
  status: number;
  code: number;
  subcode?: number;
  message: string;
  type?: string;
  headers?: Record<string, string>;
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

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

const VERSION = /^v\d+\.\d+$/;
const EXPIRES_IN = 5_184_000; // 60 days, what Meta answers for a long-lived user token
const TEXT_LIMIT = 2000;
const MESSAGING_TYPES = ['RESPONSE', 'UPDATE', 'MESSAGE_TAG'];
const TAGS = ['HUMAN_AGENT', 'CUSTOMER_FEEDBACK'];
const RETIRED_TAGS = ['ACCOUNT_UPDATE', 'CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE'];
/** Page webhook fields Meta accepts on `subscribed_fields` (Messenger's plus common Page ones). */
const PAGE_FIELDS = new Set([
  ...['messages', 'messaging_postbacks', 'message_deliveries', 'message_reads', 'message_echoes'],
  ...['message_reactions', 'messaging_referrals', 'messaging_optins', 'messaging_handovers', 'standby'],
  ...['message_edits', 'messaging_policy_enforcement', 'messaging_account_linking', 'messaging_optouts'],
  ...['messaging_game_plays', 'messaging_payments', 'messaging_pre_checkouts', 'messaging_checkout_updates'],
  ...['messaging_customer_information', 'messaging_feedback', 'response_feedback', 'inbox_labels'],
  ...['feed', 'mention', 'name', 'picture', 'conversations', 'ratings', 'leadgen', 'live_videos'],
]);
/** What `/me/accounts` answers per page when the caller names no `fields`. */
const ACCOUNT_FIELDS = ['access_token', 'category', 'name', 'tasks'];
const PAGE_TASKS = ['ADVERTISE', 'ANALYZE', 'CREATE_CONTENT', 'MESSAGING', 'MODERATE', 'MANAGE'];
const MSG_190_467 = 'Invalid OAuth access token - Cannot parse access token';
const MSG_190_460 =
  'Error validating access token: The session has been invalidated because the user changed their password ' +
  'or Facebook has changed the session for security reasons.';

/** A Graph error as Meta answers it; thrown inside handlers, rendered once by `answer`. */
class MetaError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly subcode?: number,
    readonly type = 'OAuthException',
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function fail(code: number, message: string, subcode?: number, type?: string): never {
  throw new MetaError(code, message, subcode, type);
}

/** Meta's answer for an id that is unknown, or not visible with this token, or not on this method. */
function unsupported(method: string, id: string): never {
  const what = `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded`;
  const why = ' due to missing permissions, or does not support this operation. Please read the Graph API';
  fail(
    100,
    `${what}${why} documentation at https://developers.facebook.com/docs/graph-api`,
    33,
    'GraphMethodException',
  );
}

function requirePageToken(): never {
  fail(210, '(#210) A page access token is required to request this resource.');
}

export class GraphFake {
  readonly calls: GraphCall[] = [];
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
  private readonly injected: Array<{ match: ErrorMatch; error: InjectedError; left: number }> = [];

  constructor(private readonly opts: GraphFakeOptions) {
    this.appName = opts.appName ?? 'Pagewire';
    this.pageSize = opts.pageSize ?? 25;
  }

  /** Listens and resolves the base URL without a version, e.g. `http://127.0.0.1:PORT`. */
  start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) return Promise.reject(new Error('GraphFake already started'));
    const server = createServer((req, res) => {
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

  subscriptions(pageId: string): { appId: string; fields: string[] } | undefined {
    const fields = this.subs.get(pageId);
    return fields ? { appId: this.opts.appId, fields: [...fields] } : undefined;
  }

  sent(pageId: string): SentMessage[] {
    return [...(this.outbox.get(pageId) ?? [])];
  }

  /** The next `times` calls matching answer this error before any other check. */
  injectError(match: ErrorMatch, error: InjectedError): void {
    this.injected.push({ match, error, left: match.times ?? 1 });
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

  private addPage(p: DemoPage): void {
    if (this.pages.has(p.id)) return;
    const token = this.newToken(`page:${p.id}:0`);
    this.pages.set(p.id, { ...p, token, generation: 0 });
    this.tokens.set(token, { kind: 'page', pageId: p.id });
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
    if (this.opts.latencyMs) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
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
    this.calls.push(call);
    call.body = await readBody(req);
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
    const injected = this.takeInjected(call);
    if (injected) return renderError(injected);
    if (!versioned) fail(100, `Unknown path components: ${url.pathname}`);
    const headers = { 'facebook-api-version': ctx.version };
    return { status: 200, body: this.route(ctx), headers };
  }

  private takeInjected(call: GraphCall): MetaError | undefined {
    const hit = this.injected.find(({ match, left }) => {
      if (left <= 0 || (match.method && match.method.toUpperCase() !== call.method)) return false;
      return typeof match.path === 'string' ? match.path === call.path : match.path.test(call.path);
    });
    if (!hit) return undefined;
    hit.left -= 1;
    const e = hit.error;
    return new MetaError(e.code, e.message, e.subcode, e.type, e.status, e.headers);
  }

  private route(c: Ctx): unknown {
    const [node, edge, ...extra] = c.segments;
    const unknownPath: () => never = () => fail(100, `Unknown path components: /${c.segments.join('/')}`);
    if (!node || extra.length) unknownPath();
    if (node === 'oauth') return edge === 'access_token' ? this.exchange(c) : unknownPath();
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
    if (this.psidOwner(recipientId)?.pageId !== id) fail(100, '(#100) No matching user found', 2018001);
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
    if (page) return pick({ name: page.name, id: page.id }, c.query.fields, 'Page');
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

// ---- helpers -------------------------------------------------------------------------------------

function renderError(e: MetaError): Answer {
  const fbtrace_id = randomBytes(8).toString('base64').slice(0, 11);
  const error: Record<string, unknown> = { message: e.message, type: e.type, code: e.code };
  if (e.subcode !== undefined) error.error_subcode = e.subcode;
  error.fbtrace_id = fbtrace_id;
  const headers: Record<string, string> = { 'x-fb-trace-id': fbtrace_id, ...e.headers };
  // Meta also signals token errors the OAuth way.
  if (e.code === 190)
    headers['www-authenticate'] = `OAuth "Facebook Platform" "invalid_token" "${e.message}"`;
  return { status: e.status, body: { error }, headers };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  if ((req.headers['content-type'] ?? '').includes('json')) {
    const parsed = safeJson(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    fail(100, '(#100) The request body is not a valid JSON object');
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function extractToken(
  query: Record<string, string>,
  body: Record<string, unknown>,
  headers: IncomingHttpHeaders,
): string | undefined {
  const fromParams = query.access_token ?? body.access_token;
  if (typeof fromParams === 'string' && fromParams) return fromParams;
  const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(headers.authorization ?? '');
  return m?.[1];
}

/** Meta merges query and body parameters. */
function param(c: Ctx, name: string): unknown {
  return c.query[name] ?? c.body[name];
}

/** Form posts carry objects as JSON strings (`recipient={"id":"…"}`); JSON posts carry them as objects. */
function asObject(v: unknown): Record<string, unknown> | undefined {
  const parsed = typeof v === 'string' ? safeJson(v) : v;
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `subscribed_fields`: a comma-separated string, a JSON array string, or an array. */
function parseFields(v: unknown): string[] {
  const list = Array.isArray(v)
    ? v
    : typeof v === 'string' && v.trim().startsWith('[')
      ? safeJson(v)
      : String(v ?? '').split(',');
  const fields = (Array.isArray(list) ? list : []).map((f) => String(f).trim()).filter(Boolean);
  if (!fields.length) fail(100, '(#100) The parameter subscribed_fields is required');
  fields.forEach((f, i) => {
    if (!PAGE_FIELDS.has(f))
      fail(
        100,
        `(#100) Param subscribed_fields[${i}] must be one of {${[...PAGE_FIELDS].join(', ')}} - got "${f}"`,
      );
  });
  return [...new Set(fields)];
}

function checkMessagingType(type: unknown, tag: unknown): string {
  if (!type) fail(100, '(#100) The parameter messaging_type is required');
  const t = String(type);
  if (!MESSAGING_TYPES.includes(t))
    fail(100, `(#100) Param messaging_type must be one of {${MESSAGING_TYPES.join(', ')}} - got "${t}"`);
  if (t !== 'MESSAGE_TAG') return t;
  if (!tag) fail(100, '(#100) The parameter tag is required when messaging_type is MESSAGE_TAG');
  const retired = RETIRED_TAGS.includes(String(tag)) ? ' (this tag was retired)' : '';
  if (!TAGS.includes(String(tag)))
    fail(100, `(#100) Param tag must be one of {${TAGS.join(', ')}} - got "${tag}"${retired}`);
  return t;
}

function checkMessage(message: Record<string, unknown>): string | undefined {
  const text = typeof message.text === 'string' ? message.text : undefined;
  if (!text && !message.attachment)
    fail(100, '(#100) Message cannot be empty, must provide valid attachment or text');
  if (text && text.length > TEXT_LIMIT)
    fail(100, `(#100) Length of param message[text] must be less than or equal to ${TEXT_LIMIT}`);
  return text;
}

/** Meta returns only the fields asked for (plus `id`) and refuses unknown ones. */
function pick(
  node: Record<string, unknown>,
  fields: string | undefined,
  type: string,
  fallback = ['name'],
): Record<string, unknown> {
  const wanted = fields
    ? fields
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
    : fallback;
  const out: Record<string, unknown> = {};
  for (const f of wanted) {
    if (!(f in node)) fail(100, `(#100) Tried accessing nonexisting field (${f}) on node type (${type})`);
    out[f] = node[f];
  }
  out.id = node.id;
  return out;
}

function cursor(index: number): string {
  return Buffer.from(`pagewire-sandbox:${index}`).toString('base64url');
}

function decodeCursor(c: string): number {
  const m = /^pagewire-sandbox:(\d+)$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) fail(100, '(#100) Invalid cursor');
  return Number(m[1]);
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.trunc(n)));
}

function randomDigits(n: number): string {
  return [...randomBytes(n)].map((b, i) => (i === 0 ? (b % 9) + 1 : b % 10)).join('');
}

// ---- sandbox ---------------------------------------------------------------------------------------

export interface Sandbox {
  fake: GraphFake;
  url: string;
  appId: string;
  appSecret: string;
  /** A short-lived user token of the demo user, to paste into `POST /admin/pages/connect`. */
  userToken: string;
  pages: DemoPage[];
  /** The demo person's key ("Ada Lovelace"). */
  person: string;
  /** The demo person's PSID on each demo page, by page id. */
  psids: Record<string, string>;
}

export const DEMO_PAGES: readonly DemoPage[] = [
  { id: '108374925610437', name: 'Pagewire Demo Café' },
  { id: '112093847561029', name: 'Pagewire Demo Books' },
];

/**
 * The Graph API sandbox of the local stack: two demo pages, a user managing both, and Ada Lovelace with a
 * PSID on each. Tokens are derived from the app secret (generated or given), so page tokens stored by the
 * local stack stay valid when it restarts with the same persisted secret.
 */
export async function startSandbox(
  opts: { appId?: string; appSecret?: string; port?: number; host?: string } = {},
): Promise<Sandbox> {
  const appId = opts.appId ?? randomDigits(15);
  const appSecret = opts.appSecret ?? randomBytes(16).toString('hex');
  const fake = new GraphFake({ appId, appSecret, appName: 'Pagewire (sandbox)', seed: appSecret });
  const pages = DEMO_PAGES.map((p) => ({ ...p }));
  const { shortLivedToken } = fake.addUser({ name: 'Sandbox Admin', pages });
  const person = fake.addPerson('Ada', 'Lovelace');
  const psids = Object.fromEntries(pages.map((p) => [p.id, fake.psid(person, p.id)]));
  const url = await fake.start(opts.port ?? 0, opts.host);
  return { fake, url, appId, appSecret, userToken: shortLivedToken, pages, person, psids };
}
