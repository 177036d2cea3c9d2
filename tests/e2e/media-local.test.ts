/**
 * SPEC §10 on `npm start` (sandbox mode): a webhook with an image at an expiring sandbox CDN link is
 * stored, its attachment copied under DATA_DIR/media, and the message then shows the copy's link
 * (`GET /admin/media/{key}`, admin token only), which still serves the same bytes once the CDN link has
 * expired. Pending copies are kept by the durable local queue across a restart.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalFifoQueue } from '#adapters/local/fifo-queue';
import { LocalMediaQueue } from '#adapters/local/media-queue';
import { LocalQueueStore } from '#adapters/local/queue-store';
import { signBody } from '#ingest/signature';
import { type LocalStack, startLocalStack } from '#local/stack';
import { first } from '#testkit/pick';

let dataDir: string;
let stack: LocalStack;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pagewire-media-'));
  stack = await startLocalStack({ PORT: '0', DATA_DIR: dataDir });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function admin(path: string, init: RequestInit = {}, token = stack.adminToken) {
  return fetch(path.startsWith('http') ? path : `${stack.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
}

interface ShownAttachment {
  type: string;
  url: string;
  sourceUrl?: string;
  stored?: { size: number; contentType: string; sha256: string };
  copyError?: string;
}

it('copies an attachment whose CDN link then expires; the copy is still served, byte-identical', async () => {
  const { sandbox, cdn } = stack;
  if (!sandbox || !cdn) throw new Error('expected sandbox mode');
  expect(
    (
      await admin('/admin/pages/connect', {
        method: 'POST',
        body: JSON.stringify({ userAccessToken: sandbox.userToken }),
      })
    ).status,
  ).toBe(200);
  const page = first(sandbox.pages, 'page');
  const psid = sandbox.psids[page.id] as string;
  const link = cdn.link('demo.png', 60_000);
  const mid = `m_media_${randomUUID()}`;
  const body = JSON.stringify({
    object: 'page',
    entry: [
      {
        id: page.id,
        time: Date.now(),
        messaging: [
          {
            sender: { id: psid },
            recipient: { id: page.id },
            timestamp: Date.now(),
            message: { mid, attachments: [{ type: 'image', payload: { url: link } }] },
          },
        ],
      },
    ],
  });
  const posted = await fetch(`${stack.url}/webhooks/facebook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, sandbox.appSecret) },
    body,
  });
  expect(posted.status).toBe(200);

  // The copy happens after the store, on its own queue: wait for it to be recorded.
  let shown: ShownAttachment | undefined;
  for (let tries = 0; !shown?.stored; tries++) {
    if (tries > 1_500) throw new Error('the copy was not recorded within 30 s');
    const answer = await admin(`/admin/pages/${page.id}/conversations/${psid}/messages`);
    const { messages } = (await answer.json()) as {
      messages: Array<{ mid: string; attachments: Array<ShownAttachment & { copyError?: string }> }>;
    };
    const found = messages.find((m) => m.mid === mid)?.attachments[0];
    if (found?.copyError) throw new Error(`the copy failed: ${found.copyError}`);
    shown = found;
    if (!shown?.stored) await sleep(20);
  }

  // The CDN link expires (the CDN's clock moves on); the copy stays.
  cdn.now = () => Date.now() + 120_000;
  expect((await fetch(link)).status).toBe(403);
  const original = cdn.files.get('demo.png')?.body ?? Buffer.alloc(0);
  expect(shown.sourceUrl).toBe(link);
  expect(shown.url).toMatch(new RegExp(`^${stack.url}/admin/media/media/[0-9a-f]{64}/0$`));
  expect(shown.stored).toEqual({
    size: original.length,
    contentType: 'image/png',
    sha256: createHash('sha256').update(original).digest('hex'),
  });

  const served = await admin(shown.url);
  expect(served.status).toBe(200);
  expect(served.headers.get('content-type')).toBe('image/png');
  expect(served.headers.get('content-disposition')).toBe('inline');
  expect(served.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
  const bytes = Buffer.from(await served.arrayBuffer());
  expect(bytes.equals(original)).toBe(true);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(shown.stored?.sha256);

  expect((await admin(shown.url, {}, 'wrong-token')).status).toBe(401);
  expect((await admin('/admin/media/media/..%2F..%2Fkeyring.key')).status).toBe(400);
});

it('keeps queued copies on disk across a restart of the queue', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pagewire-media-queue-'));
  try {
    const job = {
      pageId: '1',
      userId: '2',
      mid: 'm_1',
      index: 0,
      url: 'https://x.fbcdn.net/a',
      type: 'image',
    };
    const store = await LocalQueueStore.open(dir);
    const queue = new LocalFifoQueue({
      name: 'pagewire-media',
      handler: async () => undefined,
      journal: store.journal('pagewire-media'),
    });
    await queue.restore();
    await new LocalMediaQueue(queue).send([job, { ...job, index: 1 }]);
    await store.close();

    const reopened = await LocalQueueStore.open(dir);
    const seen: string[] = [];
    const again = new LocalFifoQueue({
      name: 'pagewire-media',
      handler: async (event) => void seen.push(...event.Records.map((r) => r.body)),
      journal: reopened.journal('pagewire-media'),
    });
    expect((await again.restore()).pending).toBe(2);
    again.start();
    await again.idle();
    await again.stop();
    await reopened.close();
    expect(seen.map((b) => JSON.parse(b).index).sort()).toEqual([0, 1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
