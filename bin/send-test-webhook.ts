/**
 * `npm run send-test-webhook`: plays Facebook against a running sandbox stack (`npm start`).
 * Connects the demo pages if needed, then sends one signed webhook per demo page from the demo
 * person, and shows each message as the admin API returns it.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signBody } from '#ingest/signature';
import type { SandboxFile } from '#local/stack';

/** The parts of the admin API's answers this script reads. */
interface Answer {
  pages: Array<{ pageId: string; name: string; status: string }>;
  messages: Array<{ mid: string; text: string; direction: string }>;
}

const file = join(process.env.DATA_DIR ?? '.data', 'sandbox.json');
const info = await readFile(file, 'utf8').then(
  (t) => JSON.parse(t) as SandboxFile,
  () => fail(`no ${file}: start the stack first with \`npm start\` (sandbox mode, without MEMORY=1)`),
);
const url = process.env.PAGEWIRE_URL || info.url;
const auth = { authorization: `Bearer ${info.adminToken}`, 'content-type': 'application/json' };

const listed = await call('GET', '/admin/pages');
const active = new Set(listed.pages.filter((p) => p.status === 'active').map((p) => p.pageId));
if (info.pages.some((p) => !active.has(p.id))) {
  const connected = await call('POST', '/admin/pages/connect', { userAccessToken: info.userToken });
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
  const res = await fetch(`${url}/webhooks/facebook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, info.appSecret) },
    body,
  });
  console.log(`POST /webhooks/facebook for ${page.name}: ${res.status} ${await res.text()}`);
  const path = `/admin/pages/${page.id}/conversations/${page.psid}/messages`;
  const stored = await waitFor(async () => (await call('GET', path)).messages.find((m) => m.mid === mid));
  console.log(`  stored: "${stored.text}" (${stored.direction}) -> GET ${url}${path}`);
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: auth,
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = (await res.json()) as Answer;
  if (!res.ok) fail(`${method} ${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
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
