/**
 * The doctor (SPEC §9) against the Graph emulator on loopback and dynalite: each app-webhook fault and
 * each token problem is detected with its fix, the repair's POST really goes through Meta's handshake to
 * the verifier, a second repair writes nothing, a throttled Graph is waited out, and nothing secret is
 * ever answered or logged.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { createAdminApi } from '#admin-api/routes';
import { adminDeps } from '#app/admin';
import { DEFAULT_SUBSCRIBED_FIELDS, loadConfig } from '#app/config';
import { type DoctorCheck, DoctorReport, warningOf } from '#contracts/doctor';
import { adminRoutes, WEBHOOK_PATH } from '#contracts/routes';
import { createVerifier } from '#ingest/verify-webhook';
import { serveHttp } from '#local/http-server';
import type { BlobStore, EventQueue } from '#ports/ports';
import { logger } from '#runtime/observability';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { GraphFake } from '#testkit/graph-faults';
import { httpEvent } from '#testkit/http-events';

const APP_ID = '900000000000311';
const APP_SECRET = 'doctor-test-secret-0123456789abcdef';
const VERIFY_TOKEN = 'doctor-verify-token-0123456789';
const PAGE_A = { id: '310000000000001', name: 'Café A' };
const PAGE_B = { id: '310000000000002', name: 'Books B' };
const DAY_S = 86_400;

let dynamo: TestDynamo;
let fake: GraphFake;
let userToken: string;
let api: ReturnType<typeof createAdminApi>;
let webhookUrl: string;
let closeVerifier: () => Promise<void>;
/** Handshakes the verifier answered (Meta's GET on the callback). */
let handshakes: number;
/** Every answer body and every log line of a test, for the secrets scan. */
let seen: string[];

const credentials = { FB_APP_ID: APP_ID, FB_APP_SECRET: APP_SECRET, FB_VERIFY_TOKEN: VERIFY_TOKEN };

async function call(method: string, path: string, body?: unknown) {
  const o =
    body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
  const res = await api(httpEvent(method, path, o));
  const raw = res.body ?? '';
  seen.push(raw);
  return { status: res.statusCode, raw, body: raw ? JSON.parse(raw) : undefined };
}

async function doctor(repair = false): Promise<DoctorReport> {
  const route = repair ? adminRoutes.repairDoctor : adminRoutes.doctor;
  const a = await call(route.method, route.path);
  expect(a.status, a.raw).toBe(200);
  return DoctorReport.parse(a.body);
}

const healthyWebhook = () => ({
  callbackUrl: webhookUrl,
  fields: [...DEFAULT_SUBSCRIBED_FIELDS],
  active: true,
});
const graphWrites = () => fake.calls.filter((c) => c.method !== 'GET');
const failed = (checks: DoctorCheck[]) => checks.filter((c) => !c.ok);
const pageOf = (r: DoctorReport, id: string) => r.pages.find((p) => p.pageId === id);

beforeAll(async () => {
  dynamo = await startTestDynamo();
  // The real verifier answers Meta's handshake, as the deployment's webhook does.
  const verifier = createVerifier({
    queue: {} as EventQueue,
    blobs: {} as BlobStore,
    credentials: new EnvCredentials(credentials),
  });
  const { server, url } = await serveHttp(
    async (event) => {
      if (event.requestContext.http.method === 'GET') handshakes++;
      return verifier(event);
    },
    0,
    '127.0.0.1',
  );
  webhookUrl = `${url}${WEBHOOK_PATH}`;
  closeVerifier = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
});
afterAll(async () => {
  await closeVerifier?.();
  await dynamo?.stop();
});

beforeEach(async () => {
  const tableName = await dynamo.createTable();
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  ({ shortLivedToken: userToken } = fake.addUser({ pages: [PAGE_A, PAGE_B] }));
  await fake.start();
  const config = loadConfig({
    TABLE_NAME: tableName,
    GRAPH_API_URL: fake.url,
    GRAPH_TIMEOUT_MS: '2000',
    WEBHOOK_URL: webhookUrl,
  });
  api = createAdminApi(
    adminDeps(config, dynamo.doc, LocalKeyring.ephemeral(), new EnvCredentials(credentials)),
  );
  seen = [];
  handshakes = 0;
  for (const level of ['debug', 'info', 'warn', 'error'] as const)
    vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
      seen.push(
        JSON.stringify(args, (_, v) =>
          v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v,
        ),
      );
    });
  const connected = await call('POST', '/admin/pages/connect', { userAccessToken: userToken });
  expect(connected.status, connected.raw).toBe(200);
  fake.setAppWebhook(healthyWebhook());
  fake.calls.length = 0;
});

afterEach(async () => {
  // No answer and no log line ever holds a secret or a token.
  const secrets = [APP_SECRET, VERIFY_TOKEN, userToken, fake.pageToken(PAGE_A.id), fake.pageToken(PAGE_B.id)];
  const text = seen.join('\n');
  for (const s of secrets) expect(text).not.toContain(s);
  vi.restoreAllMocks();
  await fake.stop();
});

describe('healthy', () => {
  it('reports every check ok, for the app and each page', async () => {
    const r = await doctor();
    expect(r.ok).toBe(true);
    expect(r.app.map((c) => c.name)).toEqual(['app_webhook', 'app_callback_url', 'app_fields']);
    expect(r.pages.map((p) => p.pageId)).toEqual([PAGE_A.id, PAGE_B.id]);
    expect(pageOf(r, PAGE_A.id)?.checks.map((c) => c.name)).toEqual([
      'subscription',
      'token',
      'permission:pages_messaging',
      'permission:pages_manage_metadata',
      'data_access',
    ]);
    expect(r.pages.flatMap((p) => failed(p.checks))).toEqual([]);
  });
});

describe('app webhook', () => {
  const faults: Array<[string, () => void, string]> = [
    ['missing', () => fake.setAppWebhook(undefined), 'app_webhook'],
    ['disabled by Meta', () => fake.setAppWebhook({ ...healthyWebhook(), active: false }), 'app_webhook'],
    [
      'on another callback URL',
      () =>
        fake.setAppWebhook({ ...healthyWebhook(), callbackUrl: 'https://old.example.com/webhooks/facebook' }),
      'app_callback_url',
    ],
    [
      'missing a field',
      () =>
        fake.setAppWebhook({
          ...healthyWebhook(),
          fields: DEFAULT_SUBSCRIBED_FIELDS.filter((f) => f !== 'message_reads'),
        }),
      'app_fields',
    ],
  ];

  it.each(faults)(
    '%s: detected with its fix, repaired through the handshake, a second repair writes nothing',
    async (_, fault, check) => {
      fault();
      const found = await doctor();
      expect(found.ok).toBe(false);
      const bad = found.app.find((c) => c.name === check);
      expect(bad).toMatchObject({ ok: false, fix: 'npx pagewire doctor --repair' });
      if (check === 'app_fields') expect(bad?.detail).toBe('missing message_reads');
      expect(graphWrites()).toEqual([]);

      const repaired = await doctor(true);
      expect(repaired.ok).toBe(true);
      const webhook = fake.appWebhook();
      expect({ ...webhook, fields: webhook?.fields.toSorted() }).toEqual({
        ...healthyWebhook(),
        fields: [...DEFAULT_SUBSCRIBED_FIELDS].sort(),
      });
      expect(handshakes).toBe(1);
      const posts = graphWrites();
      expect(posts.map((c) => `${c.method} ${c.path}`)).toEqual([`POST /${APP_ID}/subscriptions`]);
      expect(posts[0]?.body).toMatchObject({
        object: 'page',
        callback_url: webhookUrl,
        verify_token: VERIFY_TOKEN,
      });

      fake.calls.length = 0;
      expect((await doctor(true)).ok).toBe(true);
      expect(graphWrites()).toEqual([]);
      expect(handshakes).toBe(1);
    },
  );

  it('a repair whose handshake fails says so and keeps the webhook as it was', async () => {
    fake.setAppWebhook(undefined);
    // The verifier knows another verify token than the one the repair sends: Meta's check fails (2200).
    const healthyApi = api;
    api = createAdminApi(
      adminDeps(
        loadConfig({
          TABLE_NAME: await dynamo.createTable(),
          GRAPH_API_URL: fake.url,
          WEBHOOK_URL: webhookUrl,
        }),
        dynamo.doc,
        LocalKeyring.ephemeral(),
        new EnvCredentials({ ...credentials, FB_VERIFY_TOKEN: 'not-the-verifiers-token' }),
      ),
    );
    const r = await doctor(true);
    api = healthyApi;
    expect(r.ok).toBe(false);
    expect(r.app[0]?.detail).toMatch(/repair failed: .*callback verification failed/);
    expect(fake.appWebhook()).toBeUndefined();
    expect(handshakes).toBe(1);
  });
});

describe('pages', () => {
  it('a page subscription Meta dropped is detected and repaired; a second repair writes nothing', async () => {
    fake.unsubscribeSilently(PAGE_B.id);
    const found = await doctor();
    expect(pageOf(found, PAGE_B.id)?.checks[0]).toMatchObject({ name: 'subscription', ok: false });
    expect(found.ok).toBe(false);
    const repaired = await doctor(true);
    expect(repaired.ok).toBe(true);
    expect(fake.subscriptions(PAGE_B.id)?.fields).toEqual([...DEFAULT_SUBSCRIBED_FIELDS]);
    fake.calls.length = 0;
    expect((await doctor(true)).ok).toBe(true);
    expect(graphWrites()).toEqual([]);
  });

  it('a token without pages_messaging warns missing_permission:pages_messaging', async () => {
    fake.dropScope(PAGE_A.id, 'pages_messaging');
    const r = await doctor();
    expect(r.ok).toBe(false);
    const bad = failed(pageOf(r, PAGE_A.id)?.checks ?? []);
    expect(bad.map((c) => c.name)).toEqual(['permission:pages_messaging']);
    expect(bad.map(warningOf)).toEqual(['missing_permission:pages_messaging']);
    expect(bad[0]?.fix).toMatch(/connect the page again/);
    expect(failed(pageOf(r, PAGE_B.id)?.checks ?? [])).toEqual([]);
  });

  it('data access ending in 3 days warns token_expires_soon', async () => {
    fake.setTokenDetails(PAGE_A.id, { dataAccessExpiresAt: Math.floor(Date.now() / 1000) + 3 * DAY_S + 60 });
    const r = await doctor();
    const bad = failed(pageOf(r, PAGE_A.id)?.checks ?? []);
    expect(bad.map((c) => c.name)).toEqual(['data_access']);
    expect(bad.map(warningOf)).toEqual(['token_expires_soon']);
    expect(bad[0]?.detail).toMatch(/in 3 days/);
    // 20 days away is fine.
    fake.setTokenDetails(PAGE_A.id, { dataAccessExpiresAt: Math.floor(Date.now() / 1000) + 20 * DAY_S });
    expect((await doctor()).ok).toBe(true);
  });

  it('a revoked token puts the page in reauth_required, with the way out', async () => {
    fake.revokePageToken(PAGE_A.id);
    const r = await doctor(true);
    expect(r.ok).toBe(false);
    const checks = pageOf(r, PAGE_A.id)?.checks ?? [];
    expect(checks.find((c) => c.name === 'token')).toMatchObject({
      ok: false,
      fix: expect.stringMatching(/connect the page again/),
    });
    const listed = await call('GET', '/admin/pages');
    expect(listed.body.pages.find((p: { pageId: string }) => p.pageId === PAGE_A.id)?.status).toBe(
      'reauth_required',
    );
    // Known refused: the next run makes no call with that token.
    fake.calls.length = 0;
    const again = await doctor();
    expect(pageOf(again, PAGE_A.id)?.checks).toEqual([expect.objectContaining({ name: 'token', ok: false })]);
    expect(fake.calls.filter((c) => c.tokenPageId === PAGE_A.id)).toEqual([]);
  });
});

describe('a throttled Graph', () => {
  it('backs off 613 on the app webhook, the page check and the token introspection, and completes', async () => {
    const throttle = { status: 400, code: 613, message: 'Calls to this api have exceeded the rate limit.' };
    fake.injectError({ path: `/${APP_ID}/subscriptions` }, throttle);
    fake.injectError({ path: `/${PAGE_A.id}/subscribed_apps` }, throttle);
    fake.injectError({ path: '/debug_token' }, throttle);
    const r = await doctor();
    expect(r.ok).toBe(true);
    expect(fake.calls.filter((c) => c.path === `/${APP_ID}/subscriptions`)).toHaveLength(2);
    expect(fake.calls.filter((c) => c.path === '/debug_token')).toHaveLength(3);
  });
});
