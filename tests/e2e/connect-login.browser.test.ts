/**
 * Facebook Login in a real browser (SPEC §12): `npm start`'s entry in sandbox mode, driven by Debian's
 * headless Chromium through playwright-core. The browser opens a connect link, passes the sandbox's
 * Facebook dialog, submits the picker, and the admin API then shows the pages active. Before that, a
 * tampered state, a code Facebook refuses, a cancel and an expired link each end on a 400 page with
 * nothing connected; after it, the used link does too. Every page is screenshotted under
 * tests/output/connect-login/. No token (user, long-lived, page) nor the app secret appears in any
 * HTML the browser received, any URL it requested, or any line the stack logged after start-up.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectLinkCreated, ConnectLinkView } from '#contracts/connect-link';
import { adminRoutes, CONNECT_CALLBACK_PATH, CONNECT_LOGIN_PATH, pathOf } from '#contracts/routes';
import { adminCall } from '#testkit/admin-http';
import { type StackProcess, startStackProcess } from '#testkit/local-stack-process';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', 'output', 'connect-login');
/** Every token the sandbox hands out (short-lived, long-lived, page) has this shape. */
const TOKEN = /EAA[A-Za-z0-9]{20,}/;

let stack: StackProcess;
let startupLength = 0;
let appSecret = '';
let adminToken = '';
let context: BrowserContext;
let userDataDir: string;
const visited: string[] = [];
const bodies: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  await mkdir(SHOTS, { recursive: true });
  stack = await startStackProcess({ ADMIN_TOKEN: `admin-${Date.now()}` });
  const banner = stack.output();
  startupLength = banner.length;
  appSecret = /FB_APP_SECRET=(\S+)/.exec(banner)?.[1] ?? '';
  adminToken = /ADMIN_TOKEN=(\S+)/.exec(banner)?.[1] ?? '';
  expect(appSecret).toMatch(/^[0-9a-f]{32}$/);
  userDataDir = await mkdtemp(join(tmpdir(), 'pagewire-chromium-'));
  // A fresh profile per run (Playwright takes the user-data-dir here, not as an argument).
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.on('request', (r) => void visited.push(r.url()));
  context.on('response', (r) => {
    // A redirect has no body to read.
    void r.text().then(
      (t) => void bodies.push(t),
      () => undefined,
    );
  });
});

afterAll(async () => {
  await context?.close();
  await stack?.stop();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

const admin = (method: string, path: string, body?: unknown) =>
  adminCall(stack.url, adminToken, method, path, body);

async function newLink(expiresInSeconds?: number) {
  const res = await admin(
    'POST',
    adminRoutes.createConnectLink.path,
    expiresInSeconds ? { expiresInSeconds } : undefined,
  );
  expect(res.status, res.text).toBe(201);
  return ConnectLinkCreated.parse(res.json);
}

async function linkStatus(linkId: string) {
  return ConnectLinkView.parse((await admin('GET', pathOf(adminRoutes.getConnectLink, { linkId }))).json);
}

async function pageStatuses(): Promise<string[]> {
  return (await admin('GET', adminRoutes.listPages.path)).json.pages.map((p: { status: string }) => p.status);
}

/** What the page shows and what the test keeps of it: its HTML (scanned) and a screenshot. */
async function settled(page: Page, shot: string): Promise<string> {
  bodies.push(await page.content());
  await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
  return (await page.locator('h1').textContent()) ?? '';
}

async function expectErrorPage(page: Page, status: number | undefined, h1: string, shot: string) {
  expect(status).toBe(400);
  expect(await settled(page, shot)).toBe(h1);
  expect(await page.locator('main').textContent()).toContain('Nothing was connected');
}

it('refusals, then the whole login in a browser, then the used link', async () => {
  const page = await context.newPage();

  // A tampered state: not a link at all.
  const good = await newLink();
  const state = new URL(good.url).searchParams.get('state') ?? '';
  const tampered = `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`;
  let res = await page.goto(`${stack.url}${CONNECT_LOGIN_PATH}?state=${tampered}`);
  await expectErrorPage(page, res?.status(), 'Link not valid', 'error-tampered-state');

  // A code Facebook refuses (the state is the link's, the code is not Facebook's).
  const refusedLink = await newLink();
  const refusedState = new URL(refusedLink.url).searchParams.get('state') ?? '';
  res = await page.goto(`${stack.url}${CONNECT_CALLBACK_PATH}?code=AQnotacode&state=${refusedState}`);
  await expectErrorPage(page, res?.status(), 'Pages not connected', 'error-code-refused');
  expect(await page.locator('main').textContent()).toContain('Facebook refused the login');
  expect((await linkStatus(refusedLink.linkId)).status).toBe('failed');

  // Cancel in the dialog.
  const cancelLink = await newLink();
  await page.goto(cancelLink.url);
  const cancelled = page.waitForURL((u) => u.pathname === CONNECT_CALLBACK_PATH);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await cancelled;
  expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
  expect(await settled(page, 'error-cancelled')).toBe('Login cancelled');

  // An expired link: waits for the link's own expiry instant, no work races it.
  const shortLink = await newLink(1);
  while (Date.now() <= Date.parse(shortLink.expiresAt)) await new Promise((r) => setTimeout(r, 50));
  res = await page.goto(shortLink.url);
  await expectErrorPage(page, res?.status(), 'Link expired', 'error-expired');

  expect(await pageStatuses()).toEqual([]);

  // The whole login, with the first link (its state was only looked at, never used).
  res = await page.goto(good.url);
  expect(res?.status()).toBe(200);
  expect(new URL(page.url()).pathname).toMatch(/^\/v\d+\.\d+\/dialog\/oauth$/);
  expect(await settled(page, '1-dialog')).toMatch(/^Log in to /);
  const toPicker = page.waitForURL((u) => u.pathname === CONNECT_CALLBACK_PATH);
  await page.getByRole('button', { name: /^Continue as / }).click();
  await toPicker;
  const callbackUrl = page.url();
  expect(await settled(page, '2-picker')).toBe('Choose the pages to connect');
  const boxes = page.getByRole('checkbox');
  expect(await boxes.count()).toBe(2);
  for (const name of ['Pagewire Demo Café', 'Pagewire Demo Books']) {
    expect(await page.getByLabel(name).isChecked()).toBe(true);
  }
  expect(await page.getByRole('group', { name: 'Pages you manage' }).count()).toBe(1);
  const submitted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && r.url().endsWith(CONNECT_CALLBACK_PATH),
  );
  await page.getByRole('button', { name: 'Connect the ticked pages' }).click();
  expect((await submitted).status()).toBe(200);
  await page.waitForLoadState('domcontentloaded');
  expect(await settled(page, '3-result')).toBe('Pages connected');
  // The two demo pages and the café's linked Instagram account (SPEC §11).
  expect(await page.getByRole('cell', { name: 'active' }).count()).toBe(3);

  expect(await pageStatuses()).toEqual(['active', 'active', 'active']);
  const done = await linkStatus(good.linkId);
  expect(done.status).toBe('done');
  expect(done.result?.map((p) => p.status)).toEqual(['active', 'active', 'active']);

  // The same callback once more (back button, a replayed redirect): used.
  res = await page.goto(callbackUrl);
  await expectErrorPage(page, res?.status(), 'Link already used', 'error-reused');
  res = await page.goto(good.url);
  await expectErrorPage(page, res?.status(), 'Link already used', 'error-reused-link');
  await page.close();

  // Scans: every URL the browser asked for, every body it got, every line logged after start-up.
  expect(visited.length).toBeGreaterThan(10);
  // The bodies were read (the scan is over real pages: the dialog's, the picker's, the result's).
  for (const h1 of ['Log in to', 'Choose the pages to connect', 'Pages connected'])
    expect(bodies.some((b) => b.includes(h1))).toBe(true);
  const logs = stack.output().slice(startupLength);
  for (const [what, texts] of [
    ['URL', visited],
    ['HTML', bodies],
    ['log', [logs]],
  ] as const) {
    for (const text of texts) {
      expect(text, `${what} holds a token`).not.toMatch(TOKEN);
      expect(text, `${what} holds the app secret`).not.toContain(appSecret);
      expect(text, `${what} holds the admin token`).not.toContain(adminToken);
    }
  }
  // The stack did log the flow (so the scan read something): by link id, never the state.
  expect(logs).toContain(good.linkId);
  expect(logs).not.toContain(state);
});
