/**
 * Media copies through the local worker (SPEC §10): 200 attachments of 5 MB, each on its stored message,
 * queued on the durable local media queue and copied by the same worker `npm start` runs (composeMedia)
 * from a loopback CDN into files under a temporary DATA_DIR/media. Figures: MB/s and copies/s from the
 * first job queued to the last outcome recorded, and the process's peak resident memory over its memory
 * before (sampled every 10 ms), against what buffering every file in flight would hold.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFifoQueue } from '#adapters/local/fifo-queue';
import { LocalMediaQueue } from '#adapters/local/media-queue';
import { FileMediaStore } from '#adapters/local/media-store';
import { LocalQueueStore } from '#adapters/local/queue-store';
import { loadConfig } from '#app/config';
import { composeMedia } from '#app/media';
import type { MediaJob } from '#contracts/media-job';
import { ConversationRepository } from '#conversations/conversation-repository';
import { lambdaContext } from '#local/lambda-context';
import { startTestTable } from '#testkit/dynamo';
import { memoryPublisher } from '#testkit/memory-publisher';
import { round } from './stats.js';

export interface MediaBenchResult {
  attachments: number;
  mbEach: number;
  seconds: number;
  mbPerSecond: number;
  copiesPerSecond: number;
  rssBeforeMb: number;
  peakRssMb: number;
  growthMb: number;
  /** What holding every copy in flight whole would take: batches in flight × 10 records × the file size. */
  bufferedReferenceMb: number;
  stored: number;
  failed: number;
}

const ATTACHMENTS = 200;
const MB = 1024 * 1024;
const SIZE = 5 * MB;

export async function mediaBench(): Promise<MediaBenchResult> {
  // One 5 MB body served for every link (generated once, so the CDN holds 5 MB, not 1 GB).
  const body = randomBytes(SIZE);
  const cdn = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', () => resolve()));
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  const table = await startTestTable();
  const dir = await mkdtemp(join(tmpdir(), 'pagewire-media-bench-'));
  const queueStore = await LocalQueueStore.open(join(dir, 'queues'));
  try {
    const config = loadConfig({ TABLE_NAME: table.tableName });
    const conversations = new ConversationRepository(table.doc, table.tableName);
    const jobs: MediaJob[] = [];
    for (let i = 0; i < ATTACHMENTS; i++) {
      const mid = `m_bench_${i}`;
      const url = `${cdnUrl}/v/${i}.mp4?oh=sig&oe=1`;
      await conversations.putItem({
        pageId: '100',
        userId: String(1000 + (i % 20)),
        mid,
        kind: 'message',
        direction: 'in',
        timestamp: 1_760_000_000_000 + i,
        attachments: [{ type: 'video', url, payload: { url } }],
      });
      jobs.push({ pageId: '100', userId: String(1000 + (i % 20)), mid, index: 0, url, type: 'video' });
    }
    const store = new FileMediaStore(join(dir, 'media'), () => 'http://127.0.0.1');
    const worker = composeMedia(
      config,
      { table: table.doc, publisher: memoryPublisher(), media: store },
      { mediaHosts: new URL(cdnUrl).host },
    );
    const concurrency = 4;
    const queue = new LocalFifoQueue({
      name: 'pagewire-media',
      handler: (event) => worker(event, lambdaContext('pagewire-media', 300_000)),
      concurrency,
      journal: queueStore.journal('pagewire-media'),
    });
    await queue.restore();

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    const started = performance.now();
    await new LocalMediaQueue(queue).send(jobs);
    queue.start();
    await queue.idle();
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    await queue.stop();

    const items = await Promise.all(jobs.map((j) => conversations.getItem(j.pageId, j.userId, j.mid)));
    const outcomes = items.map((item) => item?.attachments?.[0]);
    return {
      attachments: ATTACHMENTS,
      mbEach: SIZE / MB,
      seconds: round(seconds, 2),
      mbPerSecond: round((ATTACHMENTS * SIZE) / MB / seconds, 1),
      copiesPerSecond: round(ATTACHMENTS / seconds, 1),
      rssBeforeMb: round(rssBefore / MB, 0),
      peakRssMb: round(peak / MB, 0),
      growthMb: round((peak - rssBefore) / MB, 0),
      bufferedReferenceMb: (concurrency * 10 * SIZE) / MB,
      stored: outcomes.filter((a) => a?.stored).length,
      failed: outcomes.filter((a) => a?.copyError).length,
    };
  } finally {
    await queueStore.close();
    await table.stop();
    cdn.closeAllConnections();
    await new Promise<void>((resolve) => cdn.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
}
