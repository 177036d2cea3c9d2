/**
 * The doctor (SPEC §9) against the Graph emulator on loopback and dynalite: each app-webhook fault and
 * each token problem is detected with its fix, the repair's POST really goes through Meta's handshake to
 * the verifier, a second repair writes nothing, a throttled Graph is waited out, and nothing secret is
 * ever answered or logged.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { createAdminApi } from '#admin-api/routes';
import { adminDeps } from '#app/admin';
import { DEFAULT_SUBSCRIBED_FIELDS, loadConfig } from '#app/config';
import { composeOps } from '#app/ops';
import { INSTAGRAM_SUBSCRIBED_FIELDS } from '#contracts/config';
import {
  type DoctorCheck,
  DoctorReport,
  DoctorSummary,
  TOKEN_CHECK_EVERY_MS,
  warningOf,
} from '#contracts/doctor';
import { adminRoutes, WEBHOOK_PATH } from '#contracts/routes';
import { runDoctor } from '#doctor/doctor';
import { createVerifier } from '#ingest/verify-webhook';
import { serveHttp } from '#local/http-server';
import { lambdaContext } from '#local/lambda-context';
import { dayOf } from '#pages/page-liveness';
import { PageRepository } from '#pages/page-repository';
import type { BlobStore, EventQueue } from '#ports/ports';
import { logger } from '#runtime/observability';
import { pageKey } from '#store/table';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { GraphFake } from '#testkit/graph-faults';
import { httpEvent } from '#testkit/http-events';
import { type MemoryPublisher, memoryPublisher } from '#testkit/memory-publisher';
import { present } from '#testkit/pick';

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
let tableName: string;
let keyring: LocalKeyring;
/** Where the admin API's page events go (page.status_changed, page.warning). */
let publisher: MemoryPublisher;

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
  tableName = await dynamo.createTable();
  publisher = memoryPublisher();
  keyring = LocalKeyring.ephemeral();
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
    adminDeps(config, dynamo.doc, keyring, new EnvCredentials(credentials), undefined, undefined, publisher),
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
      'events',
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

describe('an Instagram account connected: the app’s instagram webhook and Instagram’s permissions', () => {
  const IG = { id: '17841400000000311', username: 'cafe.a' };
  const instagramChecks = (r: DoctorReport) => r.app.filter((c) => c.name.startsWith('instagram_'));

  it('is not checked without one; missing, it is found and repaired with the Instagram fields', async () => {
    expect(instagramChecks(await doctor())).toEqual([]);
    fake.linkInstagram(PAGE_A.id, IG);
    expect((await call('POST', '/admin/pages/connect', { userAccessToken: userToken })).status).toBe(200);

    const before = await doctor();
    expect(before.ok).toBe(false);
    expect(failed(instagramChecks(before)).map((c) => c.name)).toEqual([
      'instagram_webhook',
      'instagram_callback_url',
      'instagram_fields',
    ]);
    // The page webhook was fine: only the instagram one is subscribed again.
    fake.calls.length = 0;
    const repaired = await doctor(true);
    expect(repaired.ok).toBe(true);
    expect(graphWrites().map((c) => c.body.object)).toEqual(['instagram']);
    expect(fake.appWebhook('instagram')).toEqual({
      callbackUrl: webhookUrl,
      fields: [...INSTAGRAM_SUBSCRIBED_FIELDS],
      active: true,
    });
    expect(fake.appWebhook()).toEqual(healthyWebhook());
  });

  it('an Instagram entry needs instagram_manage_messages on its page’s token; the page itself does not', async () => {
    fake.linkInstagram(PAGE_A.id, IG);
    await call('POST', '/admin/pages/connect', { userAccessToken: userToken });
    const healthy = await doctor(true);
    expect(pageOf(healthy, IG.id)?.checks.filter((c) => c.name.startsWith('permission:'))).toEqual([
      { name: 'permission:instagram_basic', ok: true, detail: 'granted' },
      { name: 'permission:instagram_manage_messages', ok: true, detail: 'granted' },
    ]);
    fake.dropScope(PAGE_A.id, 'instagram_manage_messages');
    const r = await doctor();
    expect(failed(pageOf(r, IG.id)?.checks ?? []).map((c) => c.name)).toEqual([
      'permission:instagram_manage_messages',
    ]);
    expect(failed(pageOf(r, PAGE_A.id)?.checks ?? [])).toEqual([]);
    expect(await warningsOf(IG.id)).toEqual(['missing_permission:instagram_manage_messages']);
    expect(await warningsOf(PAGE_A.id)).toEqual([]);
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

/** The pages as `GET /admin/pages` lists them. */
async function listed(): Promise<Array<{ pageId: string; warnings: string[]; lastEventAt: string | null }>> {
  const a = await call('GET', '/admin/pages');
  expect(a.status, a.raw).toBe(200);
  return a.body.pages;
}
const warningsOf = async (pageId: string) => (await listed()).find((p) => p.pageId === pageId)?.warnings;
const warningEvents = () => publisher.events.filter((e) => e.type === 'page.warning');

/** The page had events on `days` (days ago) and its last one `hoursAgo` hours ago, as liveness stores it. */
async function liveness(pageId: string, days: number[], hoursAgo: number) {
  const last = Date.now() - hoursAgo * 3_600_000;
  const names: Record<string, string> = { '#last': 'lastEventAt' };
  const values: Record<string, unknown> = { ':last': new Date(last).toISOString() };
  const sets = ['#last = :last'];
  for (const d of days) {
    const day = dayOf(last) - d;
    names[`#d${d}`] = `eventDay${day % 7}`;
    values[`:d${d}`] = day;
    sets.push(`#d${d} = :d${d}`);
  }
  await dynamo.doc.send(
    new UpdateCommand({
      TableName: tableName,
      Key: pageKey(pageId),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
}

describe('warnings (GET /admin/pages) and page.warning', () => {
  it('a token without pages_messaging: listed, and published once; a second run publishes none', async () => {
    fake.dropScope(PAGE_A.id, 'pages_messaging');
    await doctor();
    expect(await warningsOf(PAGE_A.id)).toEqual(['missing_permission:pages_messaging']);
    expect(await warningsOf(PAGE_B.id)).toEqual([]);
    expect(warningEvents()).toEqual([
      expect.objectContaining({
        type: 'page.warning',
        pageId: PAGE_A.id,
        data: {
          warning: 'missing_permission:pages_messaging',
          detail: 'the token lacks pages_messaging',
          fix: expect.stringMatching(/connect the page again/),
        },
      }),
    ]);
    await doctor(true);
    expect(warningEvents()).toHaveLength(1);
    // Granted again: the warning goes, and coming back later it is news again (a new id).
    fake.setTokenDetails(PAGE_A.id, { scopes: ['pages_messaging', 'pages_manage_metadata'] });
    await doctor();
    expect(await warningsOf(PAGE_A.id)).toEqual([]);
    fake.dropScope(PAGE_A.id, 'pages_messaging');
    await new Promise((r) => setTimeout(r, 2)); // a later run time: the event names the run that saw it
    await doctor();
    expect(new Set(warningEvents().map((e) => e.id)).size).toBe(2);
  });

  it('two runs at once (the schedule and a person) publish a new warning once', async () => {
    fake.dropScope(PAGE_A.id, 'pages_messaging');
    await Promise.all([doctor(), doctor(), doctor()]);
    expect(warningEvents().map((e) => e.data.warning)).toEqual(['missing_permission:pages_messaging']);
    expect(await warningsOf(PAGE_A.id)).toEqual(['missing_permission:pages_messaging']);
  });

  it('data access ending in 3 days lists token_expires_soon', async () => {
    fake.setTokenDetails(PAGE_B.id, { dataAccessExpiresAt: Math.floor(Date.now() / 1000) + 3 * DAY_S });
    await doctor();
    expect(await warningsOf(PAGE_B.id)).toEqual(['token_expires_soon']);
    expect(warningEvents().map((e) => e.data.warning)).toEqual(['token_expires_soon']);
  });

  it('a missing app webhook warns app_subscription_missing on every page until repaired', async () => {
    fake.setAppWebhook(undefined);
    await doctor();
    expect(await warningsOf(PAGE_A.id)).toEqual(['app_subscription_missing']);
    expect(await warningsOf(PAGE_B.id)).toEqual(['app_subscription_missing']);
    expect(
      warningEvents()
        .map((e) => e.pageId)
        .sort(),
    ).toEqual([PAGE_A.id, PAGE_B.id]);
    await doctor(true);
    expect(await warningsOf(PAGE_A.id)).toEqual([]);
    expect(warningEvents()).toHaveLength(2);
  });

  it('a warning whose publish failed stays in the outbox and goes out with its id on the next run', async () => {
    fake.dropScope(PAGE_A.id, 'pages_manage_metadata');
    publisher.failWhen((e) => e.type === 'page.warning');
    await doctor();
    expect(warningEvents()).toEqual([]);
    expect(await warningsOf(PAGE_A.id)).toEqual(['missing_permission:pages_manage_metadata']);
    publisher.failWhen(undefined);
    // The next run finds nothing new, but its sweep (any write of the page) sends what waited.
    const sweep = await adminDeps(
      loadConfig({ TABLE_NAME: tableName, GRAPH_API_URL: fake.url }),
      dynamo.doc,
      LocalKeyring.ephemeral(),
      new EnvCredentials(credentials),
      undefined,
      undefined,
      publisher,
    ).pages.publishOutboxes();
    expect(sweep.published).toBe(1);
    expect(warningEvents().map((e) => e.data.warning)).toEqual(['missing_permission:pages_manage_metadata']);
    await doctor();
    expect(warningEvents()).toHaveLength(1);
  });

  it('an app webhook Meta cannot show now changes no page warning, either way', async () => {
    const unreadable = { status: 400, code: 100, message: 'Unsupported get request.' };
    fake.injectError({ path: `/${APP_ID}/subscriptions` }, unreadable);
    const r = await doctor();
    expect(r.app[0]?.detail).toMatch(/could not read the app webhook/);
    expect(await warningsOf(PAGE_A.id)).toEqual([]);
    fake.setAppWebhook(undefined);
    await doctor();
    expect(await warningsOf(PAGE_A.id)).toEqual(['app_subscription_missing']);
    fake.injectError({ path: `/${APP_ID}/subscriptions` }, unreadable);
    await doctor();
    expect(await warningsOf(PAGE_A.id)).toEqual(['app_subscription_missing']);
    expect(warningEvents()).toHaveLength(2);
  });

  it('a failed introspection keeps the token warnings it cannot check: no news when it works again', async () => {
    fake.dropScope(PAGE_A.id, 'pages_messaging');
    await doctor();
    fake.injectError(
      { path: '/debug_token' },
      { status: 400, code: 100, message: 'Unsupported get request.' },
    );
    fake.injectError(
      { path: '/debug_token' },
      { status: 400, code: 100, message: 'Unsupported get request.' },
    );
    const failing = await doctor();
    expect(failed(pageOf(failing, PAGE_A.id)?.checks ?? []).map((c) => c.name)).toEqual([
      'token',
      'permission:pages_messaging',
    ]);
    expect(await warningsOf(PAGE_A.id)).toEqual(['missing_permission:pages_messaging']);
    await doctor();
    expect(warningEvents()).toHaveLength(1);
  });

  it('quiet: a daily page silent for 30 h while Meta lists its subscription', async () => {
    await liveness(PAGE_A.id, [0, 1, 2, 3, 4, 5], 30);
    const r = await doctor();
    expect(failed(pageOf(r, PAGE_A.id)?.checks ?? [])).toEqual([
      expect.objectContaining({ name: 'events', detail: expect.stringMatching(/no event for 30 h/) }),
    ]);
    expect(await warningsOf(PAGE_A.id)).toEqual(['quiet']);
    expect(warningEvents().map((e) => `${e.pageId} ${e.data.warning}`)).toEqual([`${PAGE_A.id} quiet`]);
    const page = (await listed()).find((p) => p.pageId === PAGE_A.id);
    expect(page?.lastEventAt).toEqual(expect.any(String));
    expect(Object.keys(page ?? {}).filter((k) => k.startsWith('eventDay'))).toEqual([]);
  });

  it('a quiet page stays quiet through a subscription check Meta did not answer (no repeat page.warning)', async () => {
    await liveness(PAGE_A.id, [0, 1, 2, 3, 4, 5], 30);
    await doctor();
    const outage = { status: 500, code: 2, message: 'Service temporarily unavailable' };
    fake.injectError({ path: `/${PAGE_A.id}/subscribed_apps`, times: 5 }, outage);
    const r = await doctor();
    expect(failed(pageOf(r, PAGE_A.id)?.checks ?? []).map((c) => c.name)).toEqual(['subscription', 'events']);
    expect(await warningsOf(PAGE_A.id)).toEqual(['quiet']);
    await doctor();
    expect(warningEvents().map((e) => e.data.warning)).toEqual(['quiet']);
  });

  it('not quiet when Meta no longer lists the subscription (that check says why), nor for a page never daily', async () => {
    await liveness(PAGE_A.id, [0, 1, 2, 3, 4, 5], 30);
    fake.unsubscribeSilently(PAGE_A.id);
    const r = await doctor();
    expect(failed(pageOf(r, PAGE_A.id)?.checks ?? []).map((c) => c.name)).toEqual(['subscription']);
    await liveness(PAGE_B.id, [0, 3], 30);
    expect(failed(pageOf(await doctor(), PAGE_B.id)?.checks ?? [])).toEqual([]);
    expect(await warningsOf(PAGE_B.id)).toEqual([]);
  });

  it('a revoked token: reauth_required in the list, no token warning', async () => {
    fake.revokePageToken(PAGE_A.id);
    await doctor();
    const page = (await listed()).find((p) => p.pageId === PAGE_A.id);
    expect(page).toMatchObject({ status: 'reauth_required', warnings: [] });
  });
});

describe("spreading the token checks and honouring Meta's usage headers", () => {
  const introspections = () => fake.calls.filter((c) => c.path === '/debug_token').length;
  const pageChecks = () => fake.calls.filter((c) => c.path.endsWith('/subscribed_apps')).length;

  it('a scheduled run introspects a token about once a day; the subscription checks run every time', async () => {
    fake.dropScope(PAGE_A.id, 'pages_messaging');
    const deps = adminDeps(
      loadConfig({ TABLE_NAME: tableName, GRAPH_API_URL: fake.url, WEBHOOK_URL: webhookUrl }),
      dynamo.doc,
      keyring,
      new EnvCredentials(credentials),
      undefined,
      undefined,
      publisher,
    );
    const graph = await deps.graph();
    if (!graph) throw new Error('no graph client');
    const operations = await deps.ops.bulk.operations();
    const run = (now: number) =>
      runDoctor(
        {
          graph,
          pages: deps.pages,
          access: deps.access,
          operations,
          verifyToken: VERIFY_TOKEN,
          webhookUrl,
          concurrency: 4,
          tokenCheckEveryMs: TOKEN_CHECK_EVERY_MS,
          now: () => now,
        },
        { repair: true },
      );
    const t0 = Date.now();
    const first = await run(t0);
    expect([introspections(), pageChecks()]).toEqual([2, 2]);
    expect(failed(pageOf(first, PAGE_A.id)?.checks ?? []).map((c) => c.name)).toEqual([
      'permission:pages_messaging',
    ]);
    fake.calls.length = 0;
    const hourLater = await run(t0 + 3_600_000);
    expect([introspections(), pageChecks()]).toEqual([0, 2]);
    // What the last introspection found is carried, said as such.
    const carried = failed(pageOf(hourLater, PAGE_A.id)?.checks ?? []);
    expect(carried.map((c) => c.name)).toEqual(['permission:pages_messaging']);
    expect(carried[0]?.detail).toMatch(/as of /);
    expect(warningEvents()).toHaveLength(1);
    fake.calls.length = 0;
    await run(t0 + TOKEN_CHECK_EVERY_MS);
    expect([introspections(), pageChecks()]).toEqual([2, 2]);
  });

  it('usage reported above 80 % defers the token checks left to the next run; the run completes', async () => {
    fake.setAppUsage(92);
    const r = await doctor();
    expect(r.ok).toBe(true);
    expect(introspections()).toBe(0);
    expect(pageChecks()).toBe(2);
    expect(pageOf(r, PAGE_A.id)?.checks.find((c) => c.name === 'token')?.detail).toMatch(
      /deferred to the next run \(Graph usage at 92 %\)/,
    );
    fake.setAppUsage(35);
    fake.calls.length = 0;
    await doctor();
    expect(introspections()).toBe(2);
  });

  it('still introspects a token not looked at for three days, whatever the usage', async () => {
    const old = new Date(Date.now() - 4 * DAY_S * 1000).toISOString();
    const pages = new PageRepository(dynamo.doc, tableName);
    await pages.put({
      ...present(await pages.get(PAGE_A.id), 'page A'),
      tokenCheckedAt: old,
      connectedAt: old,
    });
    fake.setAppUsage(92);
    await doctor();
    expect(fake.calls.filter((c) => c.path === '/debug_token').map((c) => c.query.input_token)).toEqual([
      fake.pageToken(PAGE_A.id),
    ]);
  });
});

describe('the scheduled health check', () => {
  const ops = () =>
    composeOps(loadConfig({ TABLE_NAME: tableName, GRAPH_API_URL: fake.url, WEBHOOK_URL: webhookUrl }), {
      table: dynamo.doc,
      sealer: keyring,
      credentials: new EnvCredentials(credentials),
      publisher,
    });

  it('runs the doctor with repair: the app webhook and a dropped page repaired, a new warning published', async () => {
    fake.setAppWebhook(undefined);
    fake.unsubscribeSilently(PAGE_B.id);
    fake.setTokenDetails(PAGE_A.id, { dataAccessExpiresAt: Math.floor(Date.now() / 1000) + 3 * DAY_S });
    const answer = DoctorSummary.parse(
      await ops()({ 'detail-type': 'Scheduled Event' }, lambdaContext('pagewire-ops', 60_000)),
    );
    expect(answer.checkedPages).toBe(2);
    expect(answer.app.every((c) => c.ok)).toBe(true);
    expect(fake.appWebhook()?.active).toBe(true);
    expect(fake.subscriptions(PAGE_B.id)?.fields).toEqual([...DEFAULT_SUBSCRIBED_FIELDS]);
    // Only the pages with a problem are in the answer: A's data access.
    expect(answer.pages.map((p) => p.pageId)).toEqual([PAGE_A.id]);
    expect(warningEvents().map((e) => `${e.pageId} ${e.data.warning}`)).toEqual([
      `${PAGE_A.id} token_expires_soon`,
    ]);
    // The next hour's run: tokens are not introspected again, nothing new is published.
    fake.calls.length = 0;
    await ops()({ action: 'doctor' }, lambdaContext('pagewire-ops', 60_000));
    expect(fake.calls.filter((c) => c.path === '/debug_token')).toEqual([]);
    expect(warningEvents()).toHaveLength(1);
  });

  it('keeps the bulk actions for aws lambda invoke', async () => {
    const report = await ops()({ action: 'check' }, lambdaContext('pagewire-ops', 60_000));
    expect(report).toMatchObject({ total: 2, succeeded: 2, failed: [] });
  });
});
