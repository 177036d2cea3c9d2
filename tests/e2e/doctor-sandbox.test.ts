/**
 * `npm start` in sandbox mode and the doctor (SPEC §9): the stack expects its own webhook URL; the app
 * webhook is missing until `doctor --repair` makes it (the sandbox's Meta calls the stack's handshake);
 * then the doctor is healthy and a second repair writes nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';
import { DoctorReport } from '#contracts/doctor';
import { adminRoutes, WEBHOOK_PATH } from '#contracts/routes';
import { type LocalStack, startLocalStack } from '#local/stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ PORT: '0', MEMORY: '1', HEALTH_CHECK_INTERVAL_MS: '3600000' });
});
afterAll(async () => {
  await stack?.stop();
});

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as unknown;
}

it('the sandbox app webhook is made by doctor --repair, then the doctor is healthy', async () => {
  const sandbox = stack.sandbox;
  if (!sandbox) throw new Error('expected sandbox mode');
  await admin('POST', '/admin/pages/connect', { userAccessToken: sandbox.userToken });

  const before = DoctorReport.parse(await admin('GET', adminRoutes.doctor.path));
  expect(before.ok).toBe(false);
  expect(before.app.filter((c) => !c.ok).map((c) => c.name)).toEqual([
    'app_webhook',
    'app_callback_url',
    'app_fields',
  ]);
  expect(before.pages.flatMap((p) => p.checks).every((c) => c.ok)).toBe(true);

  const repaired = DoctorReport.parse(await admin('POST', adminRoutes.repairDoctor.path));
  expect(repaired.ok).toBe(true);
  expect(sandbox.fake.appWebhook()).toMatchObject({
    callbackUrl: `${stack.url}${WEBHOOK_PATH}`,
    active: true,
    fields: [...DEFAULT_SUBSCRIBED_FIELDS],
  });
  expect(repaired.pages.map((p) => p.name)).toEqual(expect.arrayContaining(sandbox.pages.map((p) => p.name)));
  expect(DoctorReport.parse(await admin('GET', adminRoutes.doctor.path)).ok).toBe(true);
});
