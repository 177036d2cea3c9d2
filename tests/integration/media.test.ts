/**
 * SPEC §10 from the processor to the copy: a stored message's attachments are queued (story mentions
 * never), the media worker fetches only from allowed hosts (redirects checked before they are followed),
 * streams at most 25 MB into the media store through a SHA-256, records the outcome on the attachment
 * only, and publishes `message.media_stored` once per attachment, whatever the redeliveries.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryMediaStore } from '#adapters/local/media-store';
import { loadConfig } from '#app/config';
import { mediaDeps } from '#app/media';
import type { MediaJob } from '#contracts/media-job';
import { createEventsProcessor } from '#conversations/process-events';
import { SandboxCdn } from '#local/graph-sandbox/cdn';
import { createMediaCopier } from '#media/copy-media';
import { mediaKey } from '#media/media-key';
import type { MediaQueue } from '#ports/media';
import { NO_DEADLINE } from '#runtime/deadline';
import { lambda } from '#runtime/lambda';
import { logger } from '#runtime/observability';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { type MemoryPublisher, memoryPublisher } from '#testkit/memory-publisher';
import { first, only } from '#testkit/pick';
import { createProcessorWorld, type ProcessorWorld, recordsOf, sqsEvent } from '#testkit/processor-harness';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';
import { metaJson, PAGE_A, USER_A1 } from '#testkit/webhooks';

let dynamo: TestDynamo;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A media queue that keeps the jobs and can refuse the next send. */
function memoryMediaQueue() {
  const jobs: MediaJob[] = [];
  let failures = 0;
  const queue: MediaQueue & { jobs: MediaJob[]; failNext(): void } = {
    jobs,
    failNext: () => void failures++,
    async send(batch) {
      if (failures > 0) {
        failures--;
        throw new Error('media queue unavailable (test)');
      }
      jobs.push(...batch);
    },
  };
  return queue;
}

interface Setup {
  world: ProcessorWorld;
  queue: ReturnType<typeof memoryMediaQueue>;
  store: MemoryMediaStore;
  publisher: MemoryPublisher;
  copy: ReturnType<typeof createMediaCopier>;
  /** Stores a message with these attachments through the processor; answers its jobs. */
  receive(mid: string, attachments: Array<{ type: string; url: string }>): Promise<MediaJob[]>;
}

async function setup(mediaHosts = '127.0.0.1'): Promise<Setup> {
  const store = new MemoryMediaStore();
  const world = await createProcessorWorld(dynamo, { media: store });
  cleanups.push(() => world.stop());
  await world.seedPage(PAGE_A);
  const queue = memoryMediaQueue();
  const handler = lambda(createEventsProcessor({ ...world.deps, mediaQueue: queue }));
  const publisher = memoryPublisher();
  const config = loadConfig({ TABLE_NAME: world.tableName });
  const deps = mediaDeps(
    config,
    { table: dynamo.doc, publisher, media: store },
    { mediaHosts },
    { backoff: { baseMs: 1, maxMs: 2, jitter: 'none' } },
  );
  const copy = createMediaCopier(deps);
  let timestamp = 1_760_000_000_000;
  return {
    world,
    queue,
    store,
    publisher,
    copy,
    async receive(mid, attachments) {
      const event = metaJson({
        sender: { id: USER_A1 },
        recipient: { id: PAGE_A },
        timestamp: ++timestamp,
        message: {
          mid,
          text: 'look at this',
          attachments: attachments.map(({ type, url }) => ({ type, payload: { url } })),
        },
      });
      const body = `{"object":"page","entry":[{"id":"${PAGE_A}","time":${timestamp},"messaging":[${event}]}]}`;
      const before = queue.jobs.length;
      const response = await world.run(sqsEvent(recordsOf(body)), handler);
      expect(response.batchItemFailures).toEqual([]);
      return queue.jobs.slice(before);
    },
  };
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TinyServer> {
  const server = await tinyServer(handler);
  cleanups.push(() => server.close());
  return server;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const run = (copy: Setup['copy'], job: MediaJob, receiveCount = 1) =>
  copy(job, { receiveCount, deadline: NO_DEADLINE });

describe('queueing after the store', () => {
  it('queues each attachment with a payload url, never a story mention, and again on a redelivery after a failed send', async () => {
    const s = await setup();
    const jobs = await s.receive('m_queue_1', [
      { type: 'image', url: 'https://scontent.xx.fbcdn.net/a.jpg?oh=sig' },
      { type: 'story_mention', url: 'https://lookaside.fbsbx.com/story?asset=1' },
      { type: 'file', url: 'https://cdn.fbsbx.com/b.pdf?oh=sig' },
    ]);
    expect(jobs.map((j) => [j.index, j.type])).toEqual([
      [0, 'image'],
      [2, 'file'],
    ]);
    expect(first(jobs, 'job')).toEqual({
      pageId: PAGE_A,
      userId: USER_A1,
      mid: 'm_queue_1',
      index: 0,
      url: 'https://scontent.xx.fbcdn.net/a.jpg?oh=sig',
      type: 'image',
    });

    // A failed enqueue fails the record; its redelivery finds the message stored and queues again.
    s.queue.failNext();
    const event = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: 1_770_000_000_000,
      message: {
        mid: 'm_queue_2',
        attachments: [{ type: 'video', payload: { url: 'https://video.xx.fbcdn.net/v.mp4' } }],
      },
    });
    const body = `{"object":"page","entry":[{"id":"${PAGE_A}","time":1770000000000,"messaging":[${event}]}]}`;
    const handler = lambda(createEventsProcessor({ ...s.world.deps, mediaQueue: s.queue }));
    // A batch whose every record failed is thrown back to the queue whole.
    await expect(s.world.run(sqsEvent(recordsOf(body)), handler)).rejects.toThrow(/All records failed/);
    expect(await s.world.conversations.getItem(PAGE_A, USER_A1, 'm_queue_2')).toBeDefined();
    const again = await s.world.run(sqsEvent(recordsOf(body)), handler);
    expect(again.batchItemFailures).toEqual([]);
    expect(s.queue.jobs.filter((j) => j.mid === 'm_queue_2')).toHaveLength(1);
  });
});

describe('the copy', () => {
  // Everything the worker hands the logger while copying (its lines are silent in tests: vitest.config.ts).
  const logged: string[] = [];
  beforeAll(() => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        logged.push(
          JSON.stringify(args, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : v)),
        );
      });
    }
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });

  it('copies an expiring CDN link: the copy outlives the link, byte-identical, its sha256 recorded', async () => {
    const cdn = new SandboxCdn();
    await cdn.start();
    cleanups.push(() => cdn.stop());
    const s = await setup('127.0.0.1');
    const job = only(
      await s.receive('m_expiring', [{ type: 'image', url: cdn.link('demo.png', 60_000) }]),
      'job',
    );
    await s.world.conversations.setReaction(PAGE_A, USER_A1, 'm_expiring', USER_A1, {
      reaction: 'love',
      emoji: '❤️',
      timestamp: 1,
    });

    expect(await run(s.copy, job)).toBe('stored');

    // The link expires; the copy stays.
    cdn.now = () => Date.now() + 120_000;
    expect((await fetch(job.url)).status).toBe(403);
    const original = cdn.files.get('demo.png')?.body ?? Buffer.alloc(0);
    const copy = await s.store.get(mediaKey(PAGE_A, USER_A1, 'm_expiring', 0));
    const chunks: Buffer[] = [];
    for await (const c of copy?.body ?? []) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(original)).toBe(true);

    const item = await s.world.conversations.getItem(PAGE_A, USER_A1, 'm_expiring');
    const attachment = first(item?.attachments ?? [], 'attachment');
    expect(attachment.stored).toEqual({
      size: original.length,
      contentType: 'image/png',
      sha256: sha256(original),
    });
    expect(attachment.url).toBe(job.url);
    // The conditional update touched the attachment only: the reaction and the text are as they were.
    expect(item?.reactions?.[USER_A1]?.reaction).toBe('love');
    expect(item?.text).toBe('look at this');

    const event = only(s.publisher.events, 'media event');
    expect(event.type).toBe('message.media_stored');
    expect(event.data).toMatchObject({ mid: 'm_expiring', index: 0, stored: attachment.stored });
    expect(JSON.stringify(event)).not.toContain('sig=');
  });

  it('retries a CDN that fails twice (503), then copies', async () => {
    const bytes = randomBytes(200_000);
    const cdn = await serve((_req, res) => {
      if (cdn.hits.length <= 2) return void res.writeHead(503).end('busy');
      res.writeHead(200, { 'content-type': 'video/mp4' }).end(bytes);
    });
    const s = await setup();
    const job = only(
      await s.receive('m_flaky', [{ type: 'video', url: `${cdn.url}/v.mp4?oh=secret` }]),
      'job',
    );
    expect(await run(s.copy, job)).toBe('stored');
    expect(cdn.hits).toHaveLength(3);
    const attachment = first(
      (await s.world.conversations.getItem(PAGE_A, USER_A1, 'm_flaky'))?.attachments ?? [],
      'a',
    );
    expect(attachment.stored?.sha256).toBe(sha256(bytes));
  });

  it('hands a CDN that keeps failing back to the queue, and records the failure on the last receive', async () => {
    const cdn = await serve((_req, res) => void res.writeHead(503).end('busy'));
    const s = await setup();
    const job = only(
      await s.receive('m_down', [{ type: 'image', url: `${cdn.url}/i.jpg?oh=secret` }]),
      'job',
    );
    await expect(run(s.copy, job, 1)).rejects.toThrow(/retried/);
    expect(await run(s.copy, job, 5)).toBe('failed');
    const item = await s.world.conversations.getItem(PAGE_A, USER_A1, 'm_down');
    expect(first(item?.attachments ?? [], 'a').copyError).toBe('retries exhausted: HTTP 503 from 127.0.0.1');
  });

  it('refuses a 30 MB file while streaming (no length declared): copyError, nothing stored, message intact', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let sent = 0;
    const cdn = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      // Generated on the fly, never held: 30 chunks of 1 MiB, each written when the socket drains.
      const write = () => {
        while (sent < 30) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', write);
        }
        res.end();
      };
      res.on('error', () => undefined);
      write();
    });
    const s = await setup();
    const job = only(await s.receive('m_big', [{ type: 'video', url: `${cdn.url}/big.mp4` }]), 'job');
    expect(await run(s.copy, job)).toBe('failed');
    expect(s.store.objects.size).toBe(0);
    const item = await s.world.conversations.getItem(PAGE_A, USER_A1, 'm_big');
    expect(first(item?.attachments ?? [], 'a').copyError).toBe('too large: over 25 MB');
    expect(item?.text).toBe('look at this');
    expect(only(s.publisher.events, 'event').data).toMatchObject({ copyError: 'too large: over 25 MB' });
  });

  it('refuses a declared Content-Length over 25 MB before reading the body', async () => {
    const cdn = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(26 * 1024 * 1024) });
      res.on('error', () => undefined);
      res.write(Buffer.alloc(1024));
    });
    const s = await setup();
    const job = only(await s.receive('m_declared', [{ type: 'video', url: `${cdn.url}/big.mp4` }]), 'job');
    expect(await run(s.copy, job)).toBe('failed');
    expect(
      first((await s.world.conversations.getItem(PAGE_A, USER_A1, 'm_declared'))?.attachments ?? [], 'a')
        .copyError,
    ).toBe('too large: over 25 MB');
  });

  it('refuses a host not allowed, and a redirect to one, without a request to it', async () => {
    const evil = await serve((_req, res) => void res.writeHead(200).end('pwned'));
    const evilUrl = `http://localhost:${evil.port}/x.jpg?token=abc`;
    const cdn = await serve((_req, res) => void res.writeHead(302, { location: evilUrl }).end());
    const s = await setup('127.0.0.1');
    const jobs = await s.receive('m_hosts', [
      { type: 'image', url: evilUrl },
      { type: 'image', url: `${cdn.url}/redirect.jpg` },
      { type: 'image', url: `https://example.com/i.jpg` },
    ]);
    for (const job of jobs) expect(await run(s.copy, job)).toBe('failed');
    expect(evil.hits).toHaveLength(0);
    expect(cdn.hits).toHaveLength(1);
    const errors = (await s.world.conversations.getItem(PAGE_A, USER_A1, 'm_hosts'))?.attachments?.map(
      (a) => a.copyError,
    );
    expect(errors).toEqual([
      'host not allowed: localhost',
      'redirect refused: host not allowed: localhost',
      'host not allowed: example.com',
    ]);
    for (const e of errors ?? []) expect(e).not.toMatch(/token|\?/);
  });

  it('refuses http from Meta’s own hosts (https only) without asking', async () => {
    const s = await setup('');
    const jobs = await s.receive('m_http', [{ type: 'image', url: 'http://scontent.xx.fbcdn.net/a.jpg' }]);
    expect(await run(s.copy, only(jobs, 'job'))).toBe('failed');
    expect(
      first((await s.world.conversations.getItem(PAGE_A, USER_A1, 'm_http'))?.attachments ?? [], 'a')
        .copyError,
    ).toBe('http: refused for scontent.xx.fbcdn.net (https only)');
  });

  it('stores one object and one event for concurrent deliveries of the same job; a later one republishes it', async () => {
    const bytes = randomBytes(500_000);
    const cdn = await serve(
      (_req, res) => void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(bytes),
    );
    const s = await setup();
    const job = only(await s.receive('m_twice', [{ type: 'image', url: `${cdn.url}/i.jpg` }]), 'job');
    const results = await Promise.all([run(s.copy, job), run(s.copy, job)]);
    expect(results).toContain('stored');
    expect(s.store.objects.size).toBe(1);
    expect(await run(s.copy, job)).toBe('already');
    const ids = new Set(s.publisher.events.map((e) => e.id));
    const seqs = new Set(s.publisher.events.map((e) => e.seq));
    expect(ids.size).toBe(1);
    expect(seqs.size).toBe(1);
    expect(s.publisher.events.length).toBeGreaterThanOrEqual(2);
  });

  it('logged the copies above without a signed-URL query or a token', () => {
    const text = logged.join('');
    expect(text).toContain('media copy failed');
    for (const secret of ['oh=secret', 'sig=', 'token=abc', 'oh=sig', '?'])
      expect(text).not.toContain(secret);
  });

  it('never copies a story mention, even when a job for one arrives', async () => {
    const s = await setup();
    const job: MediaJob = {
      pageId: PAGE_A,
      userId: USER_A1,
      mid: 'm_story',
      index: 0,
      url: 'https://lookaside.fbsbx.com/s',
      type: 'story_mention',
    };
    expect(await run(s.copy, job)).toBe('skipped');
    expect(s.store.objects.size).toBe(0);
  });
});

describe('an unsent message keeps no media (SPEC §10, §11)', () => {
  /** The message taken back: Meta's unsend names its mid. */
  async function unsend(s: Setup, mid: string): Promise<void> {
    const event = metaJson({
      sender: { id: USER_A1 },
      recipient: { id: PAGE_A },
      timestamp: 1_770_000_000_000,
      message: { mid, is_deleted: true },
    });
    const body = `{"object":"page","entry":[{"id":"${PAGE_A}","time":1770000000000,"messaging":[${event}]}]}`;
    expect((await s.world.deliver(body)).batchItemFailures).toEqual([]);
    expect((await s.world.conversations.getItem(PAGE_A, USER_A1, mid))?.deleted).toBe(true);
  }

  async function cdnOf(bytes: Buffer) {
    return serve((_req, res) => void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(bytes));
  }

  it('erases the copies when the message is unsent', async () => {
    const cdn = await cdnOf(randomBytes(1000));
    const s = await setup();
    const jobs = await s.receive('m_unsent', [
      { type: 'image', url: `${cdn.url}/a.jpg` },
      { type: 'image', url: `${cdn.url}/b.jpg` },
    ]);
    for (const job of jobs) expect(await run(s.copy, job)).toBe('stored');
    expect(s.store.objects.size).toBe(2);
    await unsend(s, 'm_unsent');
    expect(s.store.objects.size).toBe(0);
  });

  it('never fetches a link of a message unsent before its copy ran', async () => {
    let requests = 0;
    const cdn = await serve((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(randomBytes(100));
    });
    const s = await setup();
    const job = only(await s.receive('m_gone_first', [{ type: 'image', url: `${cdn.url}/a.jpg` }]), 'job');
    await unsend(s, 'm_gone_first');
    expect(await run(s.copy, job)).toBe('skipped');
    expect(requests).toBe(0);
    expect(s.store.objects.size).toBe(0);
  });

  it('erases a copy that landed after the unsend erased the others', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const cdn = await serve((_req, res) => {
      // The CDN answers only once the message is unsent: the copy lands after the unsend's erasure.
      void held.then(() => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(randomBytes(100)));
    });
    const s = await setup();
    const job = only(await s.receive('m_race', [{ type: 'image', url: `${cdn.url}/a.jpg` }]), 'job');
    const copying = run(s.copy, job);
    await unsend(s, 'm_race');
    release();
    expect(await copying).toBe('skipped');
    expect(s.store.objects.size).toBe(0);
    const attachment = (await s.world.conversations.getItem(PAGE_A, USER_A1, 'm_race'))?.attachments?.[0];
    expect(attachment?.stored).toBeUndefined();
    expect(s.publisher.events.filter((e) => e.type === 'message.media_stored')).toEqual([]);
  });
});
