/**
 * Facebook Login's OAuth dialog as the sandbox plays it (SPEC §12): `GET /{version}/dialog/oauth` shows
 * the sandbox's user and a Continue and a Cancel button; Continue redirects to `redirect_uri` with a
 * `code` and the `state`, Cancel with `error=access_denied`, as Meta does. A code is single use, lives
 * ten minutes and is only exchanged with the very `redirect_uri` it was issued for (Meta's rules), by
 * the emulator's `/oauth/access_token` (`redeem`). It never logs: codes and tokens pass through it.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetaError } from './meta.js';

export interface LoginDialogOptions {
  appId: string;
  appName: string;
  /** Who is logged in to "Facebook": the dialog logs this user in. */
  user: () => { id: string; name: string } | undefined;
  /** A new short-lived user token of that user (what the code exchange answers). */
  mintToken: (userId: string) => string;
  codeTtlMs?: number;
  now?: () => number;
}

interface IssuedCode {
  userId: string;
  redirectUri: string;
  expiresAt: number;
}

const DIALOG_PATH = /^\/v\d+\.\d+\/dialog\/oauth$/;
const CODE_TTL_MS = 10 * 60_000;

export class LoginDialog {
  private readonly codes = new Map<string, IssuedCode>();
  private readonly used = new Set<string>();

  constructor(private readonly opts: LoginDialogOptions) {}

  /** True for a request the dialog answers (HTML), not the Graph API (JSON). */
  serves(req: IncomingMessage): boolean {
    return DIALOG_PATH.test(new URL(req.url ?? '/', 'http://fake').pathname);
  }

  /** GET shows the dialog; POST is its buttons. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const params =
      req.method === 'POST' ? new URLSearchParams(await readText(req)) : new URLSearchParams(url.search);
    const clientId = params.get('client_id') ?? '';
    const redirectUri = params.get('redirect_uri') ?? '';
    const state = params.get('state') ?? '';
    if (clientId !== this.opts.appId)
      return page(res, 400, 'Error', '<p>Invalid App ID: the app does not exist.</p>');
    if (!/^https?:\/\//.test(redirectUri) || params.get('response_type') !== 'code')
      return page(res, 400, 'Error', '<p>Invalid redirect_uri or response_type.</p>');
    const user = this.opts.user();
    if (!user) return page(res, 400, 'Error', '<p>No one is logged in to the sandbox.</p>');
    if (req.method === 'POST') {
      const target = new URL(redirectUri);
      if (params.get('action') === 'continue') {
        target.searchParams.set('code', this.issue(user.id, redirectUri));
      } else {
        target.searchParams.set('error', 'access_denied');
        target.searchParams.set('error_code', '200');
        target.searchParams.set('error_description', 'Permissions error');
        target.searchParams.set('error_reason', 'user_denied');
      }
      target.searchParams.set('state', state);
      res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' });
      return void res.end();
    }
    const hidden = ['client_id', 'redirect_uri', 'state', 'response_type', 'scope']
      .map((n) => `<input type="hidden" name="${n}" value="${esc(params.get(n) ?? '')}">`)
      .join('\n');
    const scopes = (params.get('scope') ?? '').split(',').filter(Boolean);
    return page(
      res,
      200,
      `Log in to ${this.opts.appName}`,
      `<p>You are logged in to the Facebook sandbox as <strong>${esc(user.name)}</strong>.</p>
<p>${esc(this.opts.appName)} asks for: ${scopes.map((s) => `<code>${esc(s)}</code>`).join(', ') || 'public profile'}.</p>
<form method="post">
${hidden}
<button type="submit" name="action" value="continue">Continue as ${esc(user.name)}</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>`,
    );
  }

  /** `/oauth/access_token?code&redirect_uri`: a short-lived user token, once per code. */
  redeem(code: string, redirectUri: unknown): string {
    const issued = this.codes.get(code);
    if (this.used.has(code)) throw new MetaError(100, 'This authorization code has been used.', 36009);
    if (!issued) throw new MetaError(100, 'Invalid verification code format.');
    if (issued.expiresAt <= this.now())
      throw new MetaError(100, 'This authorization code has expired.', 36007);
    if (redirectUri !== issued.redirectUri) {
      throw new MetaError(
        100,
        'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
        36008,
      );
    }
    this.codes.delete(code);
    this.used.add(code);
    return this.opts.mintToken(issued.userId);
  }

  private issue(userId: string, redirectUri: string): string {
    const code = `AQ${randomBytes(48).toString('base64url')}`;
    this.codes.set(code, {
      userId,
      redirectUri,
      expiresAt: this.now() + (this.opts.codeTtlMs ?? CODE_TTL_MS),
    });
    return code;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} | Facebook (sandbox)</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;color:#1c1e21">
<h1>${esc(title)}</h1>
${body}
</body></html>
`);
}

function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
