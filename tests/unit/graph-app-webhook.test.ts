import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';
import { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import { GraphFake } from '#testkit/graph-faults';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';

const APP_ID = '900000000000123';
const APP_SECRET = 'app-webhook-test-secret-0123456789abcdef';
const VERIFY_TOKEN = 'verify-me-0123456789';
const PAGE = { id: '200000000000901', name: 'Doctor Page' };
const INSTANT = { sleep: async () => {}, random: () => 0 };

let fake: GraphFake;
let callback: TinyServer;
/** What the callback answers the handshake with: the verifier's rule, or something else. */
let answerChallenge = true;

beforeAll(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  fake.addUser({ pages: [PAGE] });
  await fake.start();
  callback = await tinyServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const ok =
      answerChallenge && q.get('hub.mode') === 'subscribe' && q.get('hub.verify_token') === VERIFY_TOKEN;
    res.writeHead(ok ? 200 : 403).end(ok ? (q.get('hub.challenge') ?? '') : 'forbidden');
  });
});
afterAll(async () => {
  await fake.stop();
  await callback.close();
});
beforeEach(() => {
  fake.setAppWebhook(undefined);
  fake.calls.length = 0;
  answerChallenge = true;
});

function client(appSecret = APP_SECRET): GraphClient {
  return new GraphClient({
    baseUrl: fake.url,
    version: 'v24.0',
    appId: APP_ID,
    appSecret,
    timeoutMs: 2_000,
    clock: INSTANT,
  });
}

async function graphError(p: Promise<unknown>): Promise<GraphError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GraphError)) throw new Error(`expected a GraphError, got ${String(err)}`);
  return err;
}

describe('app webhook (/{app-id}/subscriptions)', () => {
  it('subscribes after Meta calls the handshake, and lists it', async () => {
    const callbackUrl = `${callback.url}/webhooks/facebook`;
    expect(await client().appSubscriptions()).toEqual([]);
    const hitsBefore = callback.hits.length;
    await client().subscribeAppWebhook({
      callbackUrl,
      verifyToken: VERIFY_TOKEN,
      fields: DEFAULT_SUBSCRIBED_FIELDS,
    });
    expect(callback.hits.length).toBe(hitsBefore + 1);
    expect(await client().appSubscriptions()).toEqual([
      { object: 'page', callbackUrl, active: true, fields: [...DEFAULT_SUBSCRIBED_FIELDS] },
    ]);
    // Every call carried the app token with its proof.
    for (const call of fake.calls) {
      expect(call.query.access_token ?? call.body.access_token).toBe(`${APP_ID}|${APP_SECRET}`);
      expect(call.query.appsecret_proof).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('is refused when the handshake does not answer the challenge (2200), and keeps nothing', async () => {
    answerChallenge = false;
    const err = await graphError(
      client().subscribeAppWebhook({
        callbackUrl: callback.url,
        verifyToken: VERIFY_TOKEN,
        fields: ['messages'],
      }),
    );
    expect(err.code).toBe(2200);
    expect(err.errorClass).toBe('permanent');
    expect(fake.appWebhook()).toBeUndefined();
  });

  it('refuses a wrong app secret with 190, and the error never quotes the secret or the verify token', async () => {
    const wrong = 'wrong-secret-abcdef0123456789';
    for (const call of [
      () => client(wrong).appSubscriptions(),
      () =>
        client(wrong).subscribeAppWebhook({
          callbackUrl: callback.url,
          verifyToken: VERIFY_TOKEN,
          fields: ['messages'],
        }),
      () => client(wrong).debugToken(fake.pageToken(PAGE.id)),
    ]) {
      const err = await graphError(call());
      expect(err.code).toBe(190);
      expect(err.errorClass).toBe('auth');
      const text = `${err.message} ${err.stack} ${JSON.stringify(err)}`;
      for (const secret of [wrong, APP_SECRET, VERIFY_TOKEN, fake.pageToken(PAGE.id)])
        expect(text).not.toContain(secret);
    }
  });

  it('refuses a page token where the app token is required (#15)', async () => {
    const res = await fetch(
      `${fake.url}/v24.0/${APP_ID}/subscriptions?access_token=${fake.pageToken(PAGE.id)}`,
    );
    expect(res.status).toBe(400);
    // Without its proof first; with a right proof it is #15.
    const { appSecretProof } = await import('#graph/graph-client');
    const token = fake.pageToken(PAGE.id);
    const proof = appSecretProof(token, APP_SECRET);
    const body = (await (
      await fetch(`${fake.url}/v24.0/${APP_ID}/subscriptions?access_token=${token}&appsecret_proof=${proof}`)
    ).json()) as { error: { code: number } };
    expect(body.error.code).toBe(15);
  });

  it('backs off a throttled read (613) and completes', async () => {
    fake.injectError(
      { path: `/${APP_ID}/subscriptions`, times: 2 },
      { status: 400, code: 613, message: 'Calls to this api have exceeded the rate limit.' },
    );
    expect(await client().appSubscriptions()).toEqual([]);
    expect(fake.calls.length).toBe(3);
  });
});

describe('/debug_token', () => {
  it('tells validity, scopes and data-access expiry; a dropped scope, a new expiry and a revoked token show', async () => {
    const token = fake.pageToken(PAGE.id);
    const info = await client().debugToken(token);
    expect(info).toMatchObject({ isValid: true, expiresAt: 0 });
    expect(info.scopes).toEqual(expect.arrayContaining(['pages_messaging', 'pages_manage_metadata']));
    expect(info.dataAccessExpiresAt).toBeGreaterThan(Date.now() / 1000 + 80 * 86_400);

    fake.dropScope(PAGE.id, 'pages_messaging');
    fake.setTokenDetails(PAGE.id, { dataAccessExpiresAt: 1_900_000_000 });
    const changed = await client().debugToken(token);
    expect(changed.scopes).not.toContain('pages_messaging');
    expect(changed.dataAccessExpiresAt).toBe(1_900_000_000);

    fake.revokePageToken(PAGE.id);
    const revoked = await client().debugToken(token);
    expect(revoked.isValid).toBe(false);
    expect(revoked.error).toMatch(/session has been invalidated/);
    // The input token travels in the query, but never into an error.
    const err = await graphError(client('another-wrong-secret-000000').debugToken(token));
    expect(JSON.stringify(err) + err.message).not.toContain(token);
  });
});
