/**
 * `npm run send-test-webhook`: plays Facebook against a running sandbox stack (`npm start`).
 * Connects the demo pages if needed, then sends one signed webhook per demo page from the demo
 * person, and shows each message as the admin API returns it.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as z from 'zod/mini';
import { ConnectAnswer, MessagesAnswer, PagesAnswer } from '#contracts/admin-answers';
import { adminRoutes, pathOf, WEBHOOK_PATH } from '#contracts/routes';
import { signBody } from '#ingest/signature';
import type { SandboxFile } from '#local/stack';
import { AdminClient, CliError, errorOf } from './cli/http-client.js';

const file = join(process.env.DATA_DIR ?? '.data', 'sandbox.json');
const info = await readFile(file, 'utf8').then(
  (t) => JSON.parse(t) as SandboxFile,
  () => fail(`no ${file}: start the stack first with \`npm start\` (sandbox mode, without MEMORY=1)`),
);
const url = process.env.PAGEWIRE_URL || info.url;
// The CLI's admin API client: the same requests, errors and hints as `pagewire`.
const admin = new AdminClient({ url: new URL(url), source: 'sandbox', adminToken: info.adminToken });

const listed = await call(adminRoutes.listPages, PagesAnswer);
const active = new Set(listed.pages.filter((p) => p.status === 'active').map((p) => p.pageId));
if (info.pages.some((p) => !active.has(p.id))) {
  const connect = { userAccessToken: info.userToken };
  const connected = await call(adminRoutes.connectPages, ConnectAnswer, connect);
  for (const p of connected.pages) console.log(`connected ${p.name} (${p.pageId}): ${p.status}`);
}

for (const page of info.pages) {
  const mid = `m_test_${randomUUID()}`;
  const text = `Hello ${page.name}, this is a test webhook`;
  const body = JSON.stringify({
    object: 'page',
    entry: [
      {
        id: page.id,
        time: Date.now(),
        messaging: [
          {
            sender: { id: page.psid },
            recipient: { id: page.id },
            timestamp: Date.now(),
            message: { mid, text },
          },
        ],
      },
    ],
  });
  const res = await fetch(`${url}${WEBHOOK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, info.appSecret) },
    body,
  });
  console.log(`POST ${WEBHOOK_PATH} for ${page.name}: ${res.status} ${await res.text()}`);
  const path = pathOf(adminRoutes.listMessages, { pageId: page.id, userId: page.psid });
  const stored = await waitFor(async () =>
    (await call({ method: 'GET', path }, MessagesAnswer)).messages.find((m) => m.mid === mid),
  );
  console.log(`  stored: "${stored.text}" (${stored.direction}) -> GET ${url}${path}`);
}

// `--image [seconds]`: one more message, with an image at a sandbox CDN link that expires after that
// many seconds (60 unless given); prints the copy's link once Pagewire has copied it (SPEC §10).
const imageFlag = process.argv.indexOf('--image');
if (imageFlag >= 0) await sendImage(Number(process.argv[imageFlag + 1]) || 60);

async function sendImage(ttlSeconds: number): Promise<void> {
  const page = info.pages[0];
  if (!page || !info.cdnUrl)
    fail('this sandbox has no CDN: restart `npm start` (sandbox mode) and try again');
  const minted = await fetch(`${info.cdnUrl}/cdn/links`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ file: 'demo.png', ttlSeconds }),
  });
  const { url: cdnLink } = (await minted.json()) as { url: string };
  const mid = `m_test_${randomUUID()}`;
  const now = Date.now();
  const message = { mid, attachments: [{ type: 'image', payload: { url: cdnLink } }] };
  const event = { sender: { id: page.psid }, recipient: { id: page.id }, timestamp: now, message };
  const body = JSON.stringify({ object: 'page', entry: [{ id: page.id, time: now, messaging: [event] }] });
  const res = await fetch(`${url}${WEBHOOK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, info.appSecret) },
    body,
  });
  console.log(`POST ${WEBHOOK_PATH} with an image for ${page.name}: ${res.status} ${await res.text()}`);
  const path = pathOf(adminRoutes.listMessages, { pageId: page.id, userId: page.psid });
  const copied = await waitFor(async () => {
    const answer = await admin.request('GET', path);
    const messages = (answer.body as { messages?: ImageMessage[] } | undefined)?.messages ?? [];
    const attachment = messages.find((m) => m.mid === mid)?.attachments?.[0];
    return attachment?.stored || attachment?.copyError ? attachment : undefined;
  });
  if (copied.copyError) fail(`  the copy failed: ${copied.copyError}`);
  console.log(`  CDN link (expires in ${ttlSeconds} s): ${cdnLink}`);
  console.log(
    `  copy (${copied.stored?.size} bytes, ${copied.stored?.contentType}, sha256 ${copied.stored?.sha256}):`,
  );
  console.log(`    curl -H "Authorization: Bearer $ADMIN_TOKEN" ${copied.url}`);
}

interface ImageMessage {
  mid: string;
  attachments?: Array<{
    url: string;
    stored?: { size: number; contentType: string; sha256: string };
    copyError?: string;
  }>;
}

/** One admin API request; the answer read with its contract (contracts/admin-answers.ts). */
async function call<T>(
  route: { method: string; path: string },
  contract: z.ZodMiniType<T>,
  body?: unknown,
): Promise<T> {
  const { method, path } = route;
  const answer = await admin.request(method, path, body).catch((err: unknown) => {
    throw err instanceof CliError ? fail(`error: ${err.code}: ${err.message}`) : err;
  });
  if (!answer.ok) {
    const { code, message } = errorOf(answer);
    fail(`${method} ${path}: error: ${code}: ${message}`);
  }
  const parsed = contract.safeParse(answer.body);
  return parsed.success
    ? parsed.data
    : fail(`${method} ${path}: unexpected answer ${answer.text.slice(0, 200)}`);
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  return fail("the message did not show up within 15 s: look at the stack's log");
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
