/**
 * `npm start` in sandbox mode and the doctor (SPEC §9): the stack expects its own webhook URL; the app
 * webhook is missing until `doctor --repair` makes it (the sandbox's Meta calls the stack's handshake);
 * then the doctor is healthy and a second repair writes nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';
import { DoctorReport } from '#contracts/doctor';
import { adminRoutes, WEBHOOK_PATH } from '#contracts/routes';
import { SANDBOX_BREAK_PATH } from '#local/sandbox-route';
import { type LocalStack, startLocalStack } from '#local/stack';
import { adminCall } from '#testkit/admin-http';
import { main } from '../../bin/cli/main.js';
import { Output } from '../../bin/cli/output.js';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ PORT: '0', MEMORY: '1', HEALTH_CHECK_INTERVAL_MS: '3600000' });
});
afterAll(async () => {
  await stack?.stop();
});

/** The admin API's answer, which must be 200. */
async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await adminCall(stack.url, stack.adminToken, method, path, body);
  expect(res.status, res.text).toBe(200);
  return res.json;
}

it('npm start’s sandbox is healthy; an app without a page webhook gets one from doctor --repair', async () => {
  const sandbox = stack.sandbox;
  if (!sandbox) throw new Error('expected sandbox mode');
  await admin('POST', '/admin/pages/connect', { userAccessToken: sandbox.userToken });
  expect(DoctorReport.parse(await admin('GET', adminRoutes.doctor.path)).ok).toBe(true);

  // An app never configured (Meta keeps no page webhook for it).
  sandbox.fake.setAppWebhook(undefined);
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

/** `npx pagewire doctor …` against the stack (the CLI's own entry, in this process). */
async function doctorCli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const output = new Output({ write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) });
  const argv = ['doctor', ...args, '--url', stack.url, '--admin-token', stack.adminToken];
  const code = await main(argv, { output, env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function breakIt(what: string, pageId?: string) {
  return (await admin('POST', SANDBOX_BREAK_PATH, { what, pageId })) as { done: string; expect: string };
}

it('break it and watch: the doctor finds each fault (exit 1), --repair fixes what it can (exit 0)', async () => {
  const sandbox = stack.sandbox;
  if (!sandbox) throw new Error('expected sandbox mode');
  const [cafe, books] = sandbox.pages;
  if (!cafe || !books) throw new Error('two demo pages');
  const healthy = await doctorCli();
  expect(healthy.code, `${healthy.stdout}\n${healthy.stderr}`).toBe(0);

  // Meta disables the app webhook and drops a page subscription: both repairable.
  expect((await breakIt('app_webhook')).done).toMatch(/disabled/);
  await breakIt('page_subscription', books.id);
  const found = await doctorCli();
  expect(found.code, found.stderr).toBe(1);
  expect(found.stdout).toMatch(/✗.*app_webhook/);
  expect(found.stdout).toMatch(/✗.*subscription/);
  const repaired = await doctorCli('--repair');
  expect(repaired.code, repaired.stdout).toBe(0);
  expect(sandbox.fake.appWebhook()?.active).toBe(true);
  expect((await doctorCli()).code).toBe(0);

  // A token losing pages_messaging is a warning the repair cannot fix: exit 1 with the fix, and listed.
  await breakIt('token_scope', cafe.id);
  const scope = await doctorCli('--repair');
  expect(scope.code).toBe(1);
  expect(scope.stdout).toMatch(/permission:pages_messaging.*connect the page again/);
  const { pages } = (await admin('GET', '/admin/pages')) as {
    pages: { pageId: string; warnings: string[] }[];
  };
  expect(pages.find((p) => p.pageId === cafe.id)?.warnings).toEqual(['missing_permission:pages_messaging']);
});

it('the break route: 400 for an unknown fault, 401 without the admin token', async () => {
  const bad = await fetch(`${stack.url}${SANDBOX_BREAK_PATH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminToken}` },
    body: JSON.stringify({ what: 'everything' }),
  });
  expect(bad.status).toBe(400);
  const anonymous = await fetch(`${stack.url}${SANDBOX_BREAK_PATH}`, {
    method: 'POST',
    body: JSON.stringify({ what: 'app_webhook' }),
  });
  expect(anonymous.status).toBe(401);
});
