/**
 * Meta's wire format, as the Graph emulator (emulator.ts) speaks it: the error shape and codes, how
 * parameters arrive (query, form or JSON body), and the checks Meta makes on them.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

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

/** A Graph error as Meta answers it; thrown inside handlers, rendered once by `answer`. */
export class MetaError extends Error {
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

export function fail(code: number, message: string, subcode?: number, type?: string): never {
  throw new MetaError(code, message, subcode, type);
}

/** Meta's answer for an id that is unknown, or not visible with this token, or not on this method. */
export function unsupported(method: string, id: string): never {
  const what = `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded`;
  const why = ' due to missing permissions, or does not support this operation. Please read the Graph API';
  fail(
    100,
    `${what}${why} documentation at https://developers.facebook.com/docs/graph-api`,
    33,
    'GraphMethodException',
  );
}

export function requirePageToken(): never {
  fail(210, '(#210) A page access token is required to request this resource.');
}

export function renderError(e: MetaError): Answer {
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

export async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
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

export function extractToken(
  query: Record<string, string>,
  body: Record<string, unknown>,
  headers: IncomingHttpHeaders,
): string | undefined {
  const fromParams = query.access_token ?? body.access_token;
  if (typeof fromParams === 'string' && fromParams) return fromParams;
  const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(headers.authorization ?? '');
  return m?.[1];
}

/** Form posts carry objects as JSON strings (`recipient={"id":"…"}`); JSON posts carry them as objects. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  const parsed = typeof v === 'string' ? safeJson(v) : v;
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The Messenger API for Instagram's webhook fields (the app's `instagram` object). */
const INSTAGRAM_FIELDS = new Set([
  'messages',
  'message_reactions',
  'messaging_postbacks',
  'messaging_seen',
  'messaging_referral',
  'messaging_optins',
  'messaging_handover',
  'comments',
  'mentions',
  'story_insights',
]);

/**
 * `subscribed_fields`: a comma-separated string, a JSON array string, or an array; each a field of the
 * object (`page` unless named).
 */
export function parseFields(v: unknown, object: 'page' | 'instagram' = 'page'): string[] {
  const known = object === 'instagram' ? INSTAGRAM_FIELDS : PAGE_FIELDS;
  const list = Array.isArray(v)
    ? v
    : typeof v === 'string' && v.trim().startsWith('[')
      ? safeJson(v)
      : String(v ?? '').split(',');
  const fields = (Array.isArray(list) ? list : []).map((f) => String(f).trim()).filter(Boolean);
  if (!fields.length) fail(100, '(#100) The parameter subscribed_fields is required');
  fields.forEach((f, i) => {
    if (!known.has(f))
      fail(
        100,
        `(#100) Param subscribed_fields[${i}] must be one of {${[...known].join(', ')}} - got "${f}"`,
      );
  });
  return [...new Set(fields)];
}

export function checkMessagingType(type: unknown, tag: unknown): string {
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

export function checkMessage(message: Record<string, unknown>): string | undefined {
  const text = typeof message.text === 'string' ? message.text : undefined;
  if (!text && !message.attachment)
    fail(100, '(#100) Message cannot be empty, must provide valid attachment or text');
  if (text && text.length > TEXT_LIMIT)
    fail(100, `(#100) Length of param message[text] must be less than or equal to ${TEXT_LIMIT}`);
  return text;
}

/** Meta returns only the fields asked for (plus `id`) and refuses unknown ones. */
export function pick(
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

export function cursor(index: number): string {
  return Buffer.from(`pagewire-sandbox:${index}`).toString('base64url');
}

export function decodeCursor(c: string): number {
  const m = /^pagewire-sandbox:(\d+)$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) fail(100, '(#100) Invalid cursor');
  return Number(m[1]);
}

export function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.trunc(n)));
}
