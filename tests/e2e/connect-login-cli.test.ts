/**
 * `npx pagewire pages connect --login` (SPEC §12) against the local stack in sandbox mode: the CLI
 * prints a link and waits; the login is played in the sandbox dialog over HTTP (the browser test plays
 * it in Chromium); the CLI then prints the result table. A cancelled login ends it with exit 1.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '#local/stack';
import { runCli } from '#testkit/cli-process';
import { get, pickerOf, submit, throughDialog } from '#testkit/connect-login';
import { main } from '../../bin/cli/main.js';
import { Output } from '../../bin/cli/output.js';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ PORT: '0', MEMORY: '1', HEALTH_CHECK_INTERVAL_MS: '3600000' });
});
afterAll(async () => {
  await stack?.stop();
});

/** Runs the CLI; `link` resolves with the link it printed, `done` with its exit code and output. */
function runLogin() {
  let out = '';
  let err = '';
  let printed: (url: string) => void = () => undefined;
  const link = new Promise<string>((resolve) => {
    printed = resolve;
  });
  const output = new Output(
    {
      write: (chunk: string) => {
        out += chunk;
        const url = /^ {2}(http\S+)$/m.exec(out)?.[1];
        if (url) printed(url);
      },
    },
    {
      write: (chunk: string) => {
        err += chunk;
      },
    },
  );
  const args = ['pages', 'connect', '--login', '--url', stack.url, '--admin-token', stack.adminToken];
  const done = main(args, { output, env: { PAGEWIRE_LOGIN_POLL_MS: '20' } }).then((code) => ({
    code,
    out,
    err,
  }));
  // A CLI that ends before printing a link says why, instead of leaving the test waiting for it.
  const ended = done.then(({ code }) => {
    throw new Error(`the CLI ended (exit ${code}) without a link:\n${out}\n${err}`);
  });
  return { link: Promise.race([link, ended]), done };
}

it('a cancelled login: exit 1, the reason on stderr, nothing connected', async () => {
  const run = runLogin();
  const callback = await throughDialog(await run.link, 'cancel');
  expect((await get(callback)).status).toBe(400);
  const { code, err } = await run.done;
  expect(code).toBe(1);
  expect(err).toContain('error: login_failed: the Facebook login was cancelled');
});

it('prints the link, waits for the login, prints the result table', async () => {
  const run = runLogin();
  const url = await run.link;
  expect(url.startsWith(`${stack.url}/connect/facebook?state=`)).toBe(true);
  const callback = await throughDialog(url);
  const picker = pickerOf(await get(callback));
  expect((await submit(callback, picker, picker.cookie)).status).toBe(200);
  const { code, out, err } = await run.done;
  expect(code, err).toBe(0);
  // The two demo pages and the café's linked Instagram account (SPEC §11).
  expect(out).toContain('connected 3 pages: 3 active');
  const instagram = stack.sandbox?.instagram;
  for (const p of [...(stack.sandbox?.pages ?? []), { id: instagram?.id, name: instagram?.username }])
    expect(out).toMatch(new RegExp(`${p.id}\\s+${p.name}\\s+active`));
  expect(out + err).not.toMatch(/EAA[A-Za-z0-9]{20,}/);
});

it('--aws: the link and every status poll are SigV4-signed, never with the admin token', async () => {
  const linkId = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde';
  const seen: Array<{ method: string; url: string; authorization?: string }> = [];
  let polls = 0;
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
    if (req.method === 'POST') {
      return void res.end(
        JSON.stringify({
          linkId,
          url: 'https://api.example/connect/facebook?state=s',
          expiresAt: '2099-01-01T00:00:00.000Z',
        }),
      );
    }
    polls += 1;
    const view = { linkId, expired: false, expiresAt: '2099-01-01T00:00:00.000Z' };
    res.end(
      JSON.stringify(
        polls < 2
          ? { ...view, status: 'dialog_opened' }
          : { ...view, status: 'done', result: [{ pageId: '1001', name: 'Café A', status: 'active' }] },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/prod`;
  try {
    const res = await runCli(['pages', 'connect', '--login', '--aws', '--url', base], {
      AWS_ACCESS_KEY_ID: 'AKIDPAGEWIRETEST0001',
      AWS_SECRET_ACCESS_KEY: 'secret-for-the-test-only',
      AWS_REGION: 'eu-west-1',
      PAGEWIRE_ADMIN_TOKEN: 'local-admin-token',
      PAGEWIRE_LOGIN_POLL_MS: '10',
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('https://api.example/connect/facebook?state=s');
    expect(res.stdout).toMatch(/1001\s+Café A\s+active/);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /prod/admin/connect-links',
      `GET /prod/admin/connect-links/${linkId}`,
      `GET /prod/admin/connect-links/${linkId}`,
    ]);
    for (const r of seen)
      expect(r.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDPAGEWIRETEST0001\//);

    // --json: one JSON line per answer: the link (its url to open), then the link's final status.
    polls = 0;
    const json = await runCli(['pages', 'connect', '--login', '--json', '--aws', '--url', base], {
      AWS_ACCESS_KEY_ID: 'AKIDPAGEWIRETEST0001',
      AWS_SECRET_ACCESS_KEY: 'secret-for-the-test-only',
      AWS_REGION: 'eu-west-1',
      PAGEWIRE_LOGIN_POLL_MS: '10',
    });
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ url: 'https://api.example/connect/facebook?state=s' }),
      expect.objectContaining({ status: 'done' }),
    ]);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
