import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { TimelineItem } from '#contracts/conversation-records';
import { MAX_RECEIVE_COUNT } from '#contracts/limits';
import { MEDIA_MAX_BYTES, MediaJob, NEVER_COPIED_TYPES } from '#contracts/media-job';
import type { ChangeLog } from '#events/change-log';
import type { EventPublisher } from '#ports/event-publisher';
import type { MediaStore } from '#ports/media';
import { type Backoff, backoffMs, sleep } from '#runtime/backoff';
import type { Deadline } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
import { fetchMedia, tooLarge } from './fetch-media.js';
import type { HostPolicy } from './host-policy.js';
import { mediaKey } from './media-key.js';
import type { CopyOutcome, MediaRepository } from './media-repository.js';
import { mediaChange } from './media-view.js';

export interface MediaCopierDeps {
  /** Reads the stored message (ConversationRepository's getItem). */
  items: { getItem(pageId: string, userId: string, mid: string): Promise<TimelineItem | undefined> };
  media: MediaRepository;
  store: MediaStore;
  changes: ChangeLog;
  publisher: EventPublisher;
  policy: HostPolicy;
  fetch?: typeof fetch;
  maxBytes?: number;
  /** Tries within one delivery for a transient failure (then the queue's redelivery takes over). */
  attempts?: number;
  backoff?: Backoff;
  /** Longest one transfer may take (bounded by the deadline too). */
  transferTimeoutMs?: number;
  now?: () => number;
}

export type CopyResult = 'stored' | 'failed' | 'already' | 'skipped';

/** A transient failure after every try of this delivery: the queue delivers the job again. */
export class MediaRetryError extends Error {
  override readonly name = 'MediaRetryError';
}

const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 4_000, jitter: 'equal' };

/**
 * Copies one attachment of a stored message (SPEC §10) and records the outcome on the attachment only:
 * the message is stored already and nothing here can take it away. The object key derives from the
 * message and index, so a redelivery writes the same object, and a job whose attachment already has an
 * outcome only publishes its recorded event again.
 */
export function createMediaCopier(deps: MediaCopierDeps) {
  const maxBytes = deps.maxBytes ?? MEDIA_MAX_BYTES;
  const attempts = Math.max(1, deps.attempts ?? 3);
  const now = deps.now ?? Date.now;

  /** Records the outcome and publishes it; `erased` when the message was unsent meanwhile. */
  async function settle(
    job: MediaJob,
    outcome: CopyOutcome,
    deadline: Deadline,
  ): Promise<'applied' | 'settled' | 'erased'> {
    const applied = await deps.media.record(job.pageId, job.userId, job.mid, job.index, outcome);
    if (applied === 'settled' && 'stored' in outcome) {
      // Unsent while it was being copied: the unsend may have erased the copies before this one landed.
      const item = await deps.items.getItem(job.pageId, job.userId, job.mid);
      if (!item || item.deleted) {
        await deps.store.eraseMessage(job.pageId, job.userId, job.mid);
        return 'erased';
      }
    }
    await publish(job, deadline, applied === 'applied');
    return applied;
  }

  /** The attachment's change, recorded once (the first outcome), and published (again). */
  async function publish(job: MediaJob, deadline: Deadline, first: boolean): Promise<void> {
    const item = await deps.items.getItem(job.pageId, job.userId, job.mid);
    const attachment = item?.attachments?.[job.index];
    if (!attachment || (!attachment.stored && !attachment.copyError)) return;
    const event = await deps.changes.record(mediaChange(job, attachment, now()), { known: !first });
    await deps.publisher.publish([event], deadline);
  }

  /** Streams the CDN's answer into the store through the size limit and the hash. */
  async function transfer(job: MediaJob, deadline: Deadline): Promise<CopyOutcome | { retry: string }> {
    const timeout = Math.max(1, Math.min(deps.transferTimeoutMs ?? 120_000, deadline.remainingMs()));
    const signal = AbortSignal.timeout(timeout);
    const fetched = await fetchMedia(job.url, { policy: deps.policy, maxBytes, signal, fetch: deps.fetch });
    if (!fetched.ok) return fetched.final ? { copyError: fetched.reason } : { retry: fetched.reason };
    const hash = createHash('sha256');
    let size = 0;
    let overLimit = false;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) {
          overLimit = true;
          return done(new Error(tooLarge(maxBytes)));
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const key = mediaKey(job.pageId, job.userId, job.mid, job.index);
    const piping = pipeline(fetched.body, meter);
    try {
      await Promise.all([
        deps.store.put(key, meter, { contentType: fetched.contentType, length: fetched.length }),
        piping,
      ]);
    } catch (error) {
      // The source is stopped either way (a limit passed, the CDN cut off, the store refused).
      fetched.body.destroy();
      await piping.catch(() => undefined);
      if (overLimit) return { copyError: tooLarge(maxBytes) };
      if (signal.aborted) return { retry: 'transfer timed out' };
      // A store failure is ours, not the CDN's: the job is delivered again.
      if (isSourceError(error)) {
        return { retry: `transfer cut off: ${(error as Error).name}` };
      }
      throw error;
    }
    if (fetched.length !== undefined && size !== fetched.length) {
      return { retry: 'transfer cut off: length mismatch' };
    }
    return { stored: { size, contentType: fetched.contentType, sha256: hash.digest('hex') }, mediaKey: key };
  }

  return async function copy(
    job: MediaJob,
    opts: { receiveCount: number; deadline: Deadline },
  ): Promise<CopyResult> {
    const log = { pageId: job.pageId, index: job.index, type: job.type };
    if (NEVER_COPIED_TYPES.has(job.type)) return 'skipped';
    const item = await deps.items.getItem(job.pageId, job.userId, job.mid);
    const attachment = item?.attachments?.[job.index];
    if (!attachment) {
      logger.warn('media job for an attachment that is not stored: dropped', log);
      return 'skipped';
    }
    // An unsent message keeps no media (SPEC §11): its link is not even fetched.
    if (item?.deleted) return 'skipped';
    if (attachment.stored || attachment.copyError) {
      await publish(job, opts.deadline, false);
      return 'already';
    }
    let reason = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        const wait = backoffMs(attempt - 1, deps.backoff ?? DEFAULT_BACKOFF);
        if (wait >= opts.deadline.remainingMs()) break;
        await sleep(wait);
      }
      const outcome = await transfer(job, opts.deadline);
      if (!('retry' in outcome)) {
        if ((await settle(job, outcome, opts.deadline)) === 'erased') return 'skipped';
        if ('copyError' in outcome) {
          count('MediaCopiesFailed');
          logger.warn('media copy failed for good; the message is kept', {
            ...log,
            reason: outcome.copyError,
          });
          return 'failed';
        }
        count('MediaCopiesStored');
        return 'stored';
      }
      reason = outcome.retry;
      logger.info('media copy failed; trying again', { ...log, attempt, reason });
    }
    if (opts.receiveCount >= MAX_RECEIVE_COUNT) {
      await settle(job, { copyError: `retries exhausted: ${reason}` }, opts.deadline);
      count('MediaCopiesFailed');
      return 'failed';
    }
    throw new MediaRetryError(`media copy will be retried: ${reason}`);
  };
}

/** Errors of the fetched body (undici's socket errors, a premature close) rather than of the store. */
function isSourceError(error: unknown): boolean {
  const e = error as { name?: string; code?: string; cause?: unknown };
  return (
    e?.name === 'TypeError' ||
    e?.name === 'AbortError' ||
    e?.code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    e?.code === 'UND_ERR_SOCKET' ||
    (e?.cause !== undefined && isSourceError(e.cause))
  );
}

/**
 * The media queue consumer (standard SQS: no order needed between copies): each record one MediaJob.
 * A transient failure fails only its record, delivered again after the visibility timeout; a body that
 * is not a job can never succeed and is dropped, logged and counted.
 */
export function createMediaWorker(deps: MediaCopierDeps) {
  const copy = createMediaCopier(deps);
  const recordHandler = (deadline: Deadline) => async (record: SQSRecord) => {
    let json: unknown;
    try {
      json = JSON.parse(record.body);
    } catch {
      json = undefined;
    }
    const job = MediaJob.safeParse(json);
    if (!job.success) {
      count('MediaJobsMalformed');
      logger.error('media job is not a job: dropped', { messageId: record.messageId });
      return;
    }
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount) || 1;
    await copy(job.data, { receiveCount, deadline });
  };
  return async (event: SQSEvent, context: Context, deadline: Deadline): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler(deadline), new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
}
