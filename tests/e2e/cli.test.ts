/**
 * The operator CLI (`npx pagewire`, `bin/pagewire.mjs`) as its own process against the local stack
 * as its own process, with a Graph API fake playing Facebook; and its SigV4 signing against a tiny
 * server that checks what arrives.
 */

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';
import { type CliResult, emptyDataDir, removeDataDirs, runCli } from '#testkit/cli-process';
import { GraphFake } from '#testkit/graph-faults';
import { type StackProcess, startStackProcess } from '#testkit/local-stack-process';
import { first, take } from '#testkit/pick';
import { resignedAuthorization } from '#testkit/sigv4';
import { withProgress } from '../../bin/cli/progress.js';
import { regionOfHost, resolveTarget } from '../../bin/cli/target.js';

const APP_ID = '1517776481860222';
const APP_SECRET = randomBytes(16).toString('hex');
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const PAGES = [
  { id: '300000000000001', name: 'Alpha Shoes' },
  { id: '300000000000002', name: 'Beta Books' },
  { id: '300000000000003', name: 'Gamma Café' },
  { id: '300000000000004', name: 'Delta Deli' },
];
const [P1, P2, P3, P4] = take(
  PAGES.map((p) => p.id),
  4,
  'page id',
);

let fake: GraphFake;
let stack: StackProcess;
let userToken: string;
/** Every page token the fake handed out, to prove none is ever printed. */
const pageTokens = new Set<string>();
/** Everything the CLI printed in this file, stdout and stderr. */
const printed: string[] = [];

beforeAll(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET, pageSize: 2 });
  const graphUrl = await fake.start();
  userToken = fake.addUser({ pages: PAGES }).shortLivedToken;
  for (const p of PAGES) pageTokens.add(fake.pageToken(p.id));
  stack = await startStackProcess({
    FB_APP_ID: APP_ID,
    FB_APP_SECRET: APP_SECRET,
    FB_VERIFY_TOKEN: `verify-${randomBytes(6).toString('hex')}`,
    ADMIN_TOKEN,
    GRAPH_API_URL: graphUrl,
    LOCAL_VISIBILITY_TIMEOUT_MS: '200',
  });
});

afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
  removeDataDirs();
});

async function cli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  const withTarget = { PAGEWIRE_URL: stack.url, PAGEWIRE_ADMIN_TOKEN: ADMIN_TOKEN, ...env };
  const result = await runCli(args, withTarget, stdin);
  printed.push(result.stdout, result.stderr);
  return result;
}

/** The table row of one page: the stdout line that starts with its id. */
function row(stdout: string, pageId: string): string | undefined {
  return stdout.split('\n').find((l) => l.startsWith(pageId));
}

async function listed(): Promise<Map<string, { status: string; subscribedFields: string[] }>> {
  const { code, stdout } = await cli(['pages', 'list', '--json']);
  expect(code).toBe(0);
  const { pages } = JSON.parse(stdout) as {
    pages: Array<{ pageId: string; status: string; subscribedFields: string[] }>;
  };
  return new Map(pages.map((p) => [p.pageId, p]));
}

const FIELDS = DEFAULT_SUBSCRIBED_FIELDS.length;

describe('pagewire against the local stack', () => {
  it('runs on a stack whose banner says its queue is in memory and lost on stop (MEMORY=1)', () => {
    expect(stack.output()).toContain('queues:   in memory (MEMORY=1): whatever is still queued is lost');
  });

  it('connects the chosen pages, then all of them, each active', async () => {
    const some = await cli(['pages', 'connect', '--user-token', userToken, '--page', P1, '--page', P2]);
    expect(some.code, some.stderr).toBe(0);
    expect(some.stdout).toContain('connected 2 pages: 2 active');
    expect(row(some.stdout, P1)).toMatch(/Alpha Shoes\s+active/);
    expect(row(some.stdout, P2)).toMatch(/Beta Books\s+active/);
    expect(row(some.stdout, P3)).toBeUndefined();

    const all = await cli(['pages', 'connect', '--user-token', userToken]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.split('\n')[1]).toMatch(/^pageId\s+name\s+status$/);
    for (const p of PAGES) {
      expect(row(all.stdout, p.id)).toMatch(new RegExp(`${p.name}\\s+active`));
      expect(fake.subscriptions(p.id)?.appId).toBe(APP_ID);
    }
  });

  it('lists the pages as a table, and as JSON for scripts', async () => {
    const table = await cli(['pages', 'list']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^pageId\s+name\s+status\s+fields\s+lastCheckedAt\s+lastError\s+lastEventAt\s+warnings$/,
    );
    for (const p of PAGES)
      expect(row(table.stdout, p.id)).toMatch(new RegExp(`${p.name}\\s+active\\s+${FIELDS}\\s`));

    const json = await cli(['pages', 'list', '--json']);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const answer = JSON.parse(json.stdout);
    expect(answer.pages.map((p: { pageId: string }) => p.pageId).sort()).toEqual([P1, P2, P3, P4]);
    expect(json.stdout).not.toMatch(/sealedToken|access_?token/i);
  });

  it('subscribes one page again; an unknown page is an error answer', async () => {
    const ok = await cli(['pages', 'subscribe', P1]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(`page ${P1} (Alpha Shoes): active`);

    const unknown = await cli(['pages', 'subscribe', '399999999999999']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^error: page_not_found: /);
  });

  it('disconnects one page and leaves the others untouched', async () => {
    const res = await cli(['pages', 'disconnect', P4]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe(`page ${P4} (Delta Deli): disconnected`);
    expect(fake.subscriptions(P4)).toBeUndefined();

    const pages = await listed();
    expect(pages.get(P4)?.status).toBe('disconnected');
    expect(pages.get(P4)?.subscribedFields).toEqual([]);
    for (const id of [P1, P2, P3]) {
      expect(pages.get(id)?.status).toBe('active');
      expect(pages.get(id)?.subscribedFields).toHaveLength(FIELDS);
      expect(fake.subscriptions(id)?.fields).toHaveLength(FIELDS);
    }
  });

  it('check finds a silently unsubscribed page; check --repair subscribes it again', async () => {
    fake.unsubscribeSilently(P2);
    const found = await cli(['subscriptions', 'check']);
    expect(found.code).toBe(1);
    expect(found.stdout).toContain('check: 3 pages, 2 succeeded, 1 failed');
    expect(row(found.stdout, P2)).toMatch(/not subscribed/);
    expect((await listed()).get(P2)?.status).toBe('subscription_failed');

    const repaired = await cli(['subscriptions', 'check', '--repair']);
    expect(repaired.code, repaired.stdout).toBe(0);
    expect(repaired.stdout).toContain('check --repair: 3 pages, 3 succeeded, 0 failed, 1 repaired');
    expect(repaired.stdout).toMatch(new RegExp(`repaired:\\npageId\\n${P2}\\n`));
    expect(fake.subscriptions(P2)?.fields).toHaveLength(FIELDS);

    const clean = await cli(['subscriptions', 'check', '--json']);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ total: 3, succeeded: 3, failed: [], repaired: [] });
  });

  it('resubscribe-all lists a page whose token is refused under failed, with the reason', async () => {
    fake.revokePageToken(P3);
    const res = await cli(['subscriptions', 'resubscribe-all']);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('resubscribe-all: 3 pages, 2 succeeded, 1 failed');
    const failure = row(res.stdout, P3);
    expect(failure?.slice(P3.length).trim().length).toBeGreaterThan(5);

    const json = await cli(['subscriptions', 'resubscribe-all', '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ total: 3, succeeded: 2, repaired: [] });
    expect(report.failed).toEqual([{ pageId: P3, error: expect.stringMatching(/\w/) }]);
    expect((await listed()).get(P3)?.status).toBe('reauth_required');
  });

  it('reconnects the refused page with a user token read from stdin', async () => {
    const res = await cli(['pages', 'connect', '--user-token', '-', '--page', P3], {}, `${userToken}\n`);
    expect(res.code, res.stderr).toBe(0);
    expect(row(res.stdout, P3)).toMatch(/Gamma Café\s+active/);
    expect((await listed()).get(P3)?.status).toBe('active');
  });

  it('a wrong admin token: exit 1 and `error: unauthorized`', async () => {
    const res = await cli(['pages', 'list'], { PAGEWIRE_ADMIN_TOKEN: 'not-the-token' });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^error: unauthorized: /);
  });

  it('finds the stack and its admin token in DATA_DIR/sandbox.json when nothing else is given', async () => {
    const dataDir = emptyDataDir();
    writeFileSync(join(dataDir, 'sandbox.json'), JSON.stringify({ url: stack.url, adminToken: ADMIN_TOKEN }));
    const res = await runCli(['pages', 'list'], { DATA_DIR: dataDir });
    printed.push(res.stdout, res.stderr);
    expect(res.code, res.stderr).toBe(0);
    expect(row(res.stdout, P1)).toMatch(/active/);
  });

  it('never prints the user token, a page token or the admin token', () => {
    const all = printed.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain(userToken);
    expect(all).not.toContain(ADMIN_TOKEN);
    for (const t of pageTokens) expect(all).not.toContain(t);
  });
});

describe('pagewire usage', () => {
  it('unknown commands and missing arguments: usage on stderr, exit 2; --help on stdout, exit 0', async () => {
    const [unknown, unknownSub, missing, noToken, help, groupHelp] = await Promise.all([
      runCli(['frobnicate']),
      runCli(['pages', 'frobnicate']),
      runCli(['pages', 'subscribe']),
      runCli(['pages', 'connect']),
      runCli(['--help']),
      runCli(['subscriptions', '--help']),
    ]);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain("error: unknown command 'frobnicate'");
    expect(unknown.stderr).toContain('usage: pagewire <group> <command>');
    expect(unknownSub).toMatchObject({ code: 2, stdout: '' });
    expect(unknownSub.stderr).toContain('pages disconnect <pageId>');
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toContain('pages subscribe needs <pageId>');
    expect(noToken).toMatchObject({ code: 2, stdout: '' });
    expect(noToken.stderr).toContain('--user-token');
    expect(help).toMatchObject({ code: 0, stderr: '' });
    for (const c of ['pages connect', 'pages list', 'subscriptions check [--repair]', 'resubscribe-all']) {
      expect(help.stdout).toContain(c);
    }
    expect(groupHelp).toMatchObject({ code: 0, stderr: '' });
    expect(groupHelp.stdout).toContain('--repair');
    expect(groupHelp.stdout).not.toContain('pages list');
  });

  it('an unreachable admin API: exit 1 with the reason', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const res = await runCli(['pages', 'list', '--url', url, '--admin-token', 'x']);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(`error: unreachable: cannot reach ${url}: ECONNREFUSED`);
  });
});

describe('pagewire --aws: SigV4', () => {
  const creds = {
    accessKeyId: 'AKIDPAGEWIRETEST0001',
    secretAccessKey: randomBytes(20).toString('base64'),
    sessionToken: `session-${randomBytes(16).toString('hex')}`,
  };
  const awsEnv = {
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_SESSION_TOKEN: creds.sessionToken,
    AWS_REGION: 'eu-west-1',
    // Present on purpose: with --aws it must not be sent.
    PAGEWIRE_ADMIN_TOKEN: 'local-admin-token',
  };
  interface Received {
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    body: string;
  }
  const received: Received[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' };
        r.body = Buffer.concat(chunks).toString('utf8');
        received.push(r);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          r.url.endsWith('/admin/pages')
            ? JSON.stringify({ pages: [] })
            : JSON.stringify({ total: 0, succeeded: 0, failed: [], repaired: [] }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Signs the received request again with the same inputs; equal only if every signed part arrived intact. */
  const resign = (r: Received, body = r.body) =>
    resignedAuthorization({ ...r, body }, { credentials: creds, region: 'eu-west-1' });

  it('signs a POST with a body (and a stage path) so that the signature verifies', async () => {
    const res = await runCli(
      ['subscriptions', 'check', '--repair', '--aws', '--url', `${base}/prod`],
      awsEnv,
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('check --repair: 0 pages, 0 succeeded, 0 failed');
    const r = received.at(-1) as Received;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/prod/admin/subscriptions/check');
    expect(JSON.parse(r.body)).toEqual({ repair: true });

    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const auth = String(r.headers.authorization);
    expect(auth).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/\\d{8}/eu-west-1/execute-api/aws4_request, ` +
          'SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$',
      ),
    );
    expect(auth.slice(auth.indexOf('/') + 1, auth.indexOf('/') + 9)).toMatch(
      new RegExp(`^(${today}|\\d{8})$`),
    );
    const signedHeaders = (/SignedHeaders=([^,]+)/.exec(auth)?.[1] ?? '').split(';');
    expect(signedHeaders).toEqual(
      expect.arrayContaining(['content-type', 'host', 'x-amz-date', 'x-amz-security-token']),
    );
    expect(r.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(r.headers['x-amz-security-token']).toBe(creds.sessionToken);

    expect(await resign(r)).toBe(auth);
    expect(await resign(r, JSON.stringify({ repair: false }))).not.toBe(auth);
  });

  it('signs a GET without a body; never sends the admin token, never prints a secret', async () => {
    const res = await runCli(['pages', 'list', '--aws', '--url', base], awsEnv);
    expect(res.code, res.stderr).toBe(0);
    const r = received.at(-1) as Received;
    expect(r).toMatchObject({ method: 'GET', url: '/admin/pages', body: '' });
    const auth = String(r.headers.authorization);
    expect(auth).toMatch(/SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    expect(await resign(r)).toBe(auth);
    for (const x of received) expect(JSON.stringify(x.headers)).not.toContain('local-admin-token');
    const out = res.stdout + res.stderr;
    for (const secret of [creds.secretAccessKey, creds.sessionToken]) expect(out).not.toContain(secret);
  });

  it('takes the region from an execute-api host and signs *.amazonaws.com without --aws', async () => {
    expect(regionOfHost('abc123.execute-api.ap-southeast-2.amazonaws.com')).toBe('ap-southeast-2');
    expect(regionOfHost('admin.example.com')).toBeUndefined();
    const target = await resolveTarget(
      { url: 'https://abc123.execute-api.eu-central-1.amazonaws.com/prod' },
      { AWS_REGION: 'us-east-1', DATA_DIR: emptyDataDir() },
    );
    expect(target.aws).toEqual({ region: 'eu-central-1' });
    const local = await resolveTarget({}, { DATA_DIR: emptyDataDir(), ADMIN_TOKEN: 't0k3n' });
    expect(local).toMatchObject({ source: 'default', adminToken: 't0k3n' });
    expect(local.aws).toBeUndefined();
    expect(local.url.href).toBe('http://127.0.0.1:3000/');
  });
});

describe('progress', () => {
  const sink = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } };
  };
  const slow = <T>(value: T, ms: number) => new Promise<T>((r) => setTimeout(() => r(value), ms));

  it('shows an elapsed-time line on a terminal while a request is slow, then clears it', async () => {
    const tty = sink(true);
    expect(
      await withProgress('POST /admin/x', slow(42, 120), { stream: tty.stream, delayMs: 30, intervalMs: 20 }),
    ).toBe(42);
    expect(tty.writes.length).toBeGreaterThan(1);
    const clear = '\r\u001b[2K';
    expect(first(tty.writes, 'writes').startsWith(clear)).toBe(true);
    expect(first(tty.writes, 'writes').slice(clear.length)).toMatch(/^POST \/admin\/x… \d+\.\ds$/);
    expect(tty.writes.at(-1)).toBe(clear);

    const fast = sink(true);
    await withProgress('GET /admin/pages', slow(1, 5), { stream: fast.stream, delayMs: 30 });
    const pipe = sink(false);
    await withProgress('GET /admin/pages', slow(1, 80), { stream: pipe.stream, delayMs: 10 });
    expect([...fast.writes, ...pipe.writes]).toEqual([]);
  });
});
