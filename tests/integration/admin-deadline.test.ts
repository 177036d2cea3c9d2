/**
 * The admin routes run under the Lambda's deadline (issue 9: passed in, not ambient): a request whose
 * invocation has no time left calls no Graph API, and says so, instead of being cut off mid-call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalKeyring } from '#adapters/local/keyring';
import { createAdminApi } from '#admin-api/routes';
import { adminDeps } from '#app/admin';
import { loadConfig } from '#app/config';
import { lambdaContext } from '#local/lambda-context';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { GraphFake } from '#testkit/graph-faults';
import { httpEvent } from '#testkit/http-events';

const APP_ID = '1517776481860111';
const APP_SECRET = 'deadline-secret-0123456789abcdef';
let dynamo: TestDynamo;
let fake: GraphFake;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
beforeEach(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  await fake.start();
});
afterEach(async () => {
  await fake.stop();
});

async function connectWith(remainingMs: number) {
  const { shortLivedToken } = fake.addUser({ pages: [{ id: '104127259063412', name: 'Café' }] });
  const config = loadConfig({
    TABLE_NAME: await dynamo.createTable(),
    GRAPH_API_URL: fake.url,
    GRAPH_API_VERSION: 'v24.0',
  });
  const credentials = new EnvCredentials({
    FB_APP_ID: APP_ID,
    FB_APP_SECRET: APP_SECRET,
    FB_VERIFY_TOKEN: 'v',
  });
  const api = createAdminApi(adminDeps(config, dynamo.doc, LocalKeyring.ephemeral(), credentials));
  const body = JSON.stringify({ userAccessToken: shortLivedToken });
  const context = { ...lambdaContext('pagewire-admin'), getRemainingTimeInMillis: () => remainingMs };
  return api(
    httpEvent('POST', '/admin/pages/connect', { body, headers: { 'content-type': 'application/json' } }),
    context,
  );
}

it('a connect with no time left in its invocation reaches no Graph API', async () => {
  const answer = await connectWith(1_000);
  expect(answer.statusCode, answer.body).toBeGreaterThanOrEqual(500);
  expect(fake.calls).toEqual([]);
});

it('the same connect with time left connects (the control)', async () => {
  const answer = await connectWith(30_000);
  expect(answer.statusCode, answer.body).toBe(200);
  expect(fake.calls.length).toBeGreaterThan(0);
});
