import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { issueSummary, JsonObject } from '#contracts/json';
import { CLAIM_KEY, ClaimCheck, NamesClaim, QueuedEvent } from '#contracts/queue';
import type { BlobStore } from '#ports/ports';
import { PoisonError } from '#runtime/poison-error';

/**
 * A claim check that cannot be redeemed: malformed, blob missing (S3 reads its own writes, so it will
 * not appear later) or not the bytes it names. Deterministic: the processor quarantines the message.
 */
export class ClaimCheckError extends PoisonError {
  constructor(message: string) {
    super('UnredeemableClaimCheck', message);
  }
}

/**
 * The queued event an events-queue message body stands for (contracts/queue.ts), read back from the
 * blob store when the body is a claim check. A body the verifier cannot have written is a PoisonError
 * (`UnreadableQueueMessage`, `InvalidQueuedEvent`, or a ClaimCheckError): quarantined, never retried.
 */
export async function readQueueBody(body: string, blobs: BlobStore | undefined): Promise<QueuedEvent> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PoisonError('UnreadableQueueMessage', 'the queue message body is not JSON');
  }
  const message = z.safeParse(NamesClaim, json).success ? await redeem(json, blobs) : json;
  const parsed = QueuedEvent.safeParse(message);
  if (!parsed.success) throw new PoisonError('InvalidQueuedEvent', issueSummary(parsed.error));
  return parsed.data;
}

/**
 * The event a claim check stands for, read back from the blob store and checked against the hash its
 * key names. Throws ClaimCheckError when that cannot be done (the processor quarantines the message,
 * keeping its body); the error names the key only, never event content. A blob store that fails
 * (S3 5xx) throws its own error: retried.
 */
async function redeem(message: unknown, blobs: BlobStore | undefined): Promise<QueuedEvent> {
  const parsed = ClaimCheck.safeParse(message);
  if (!parsed.success) throw new ClaimCheckError('malformed claim check message');
  const { claim, ...envelope } = parsed.data;
  if (!blobs) throw new ClaimCheckError(`claim check ${claim}, but this processor has no blob store`);
  const bytes = await blobs.get(claim);
  if (!bytes) throw new ClaimCheckError(`claim check ${claim}: no such blob`);
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== CLAIM_KEY.exec(claim)?.[1]) throw new ClaimCheckError(`claim check ${claim}: other bytes`);
  const event = JsonObject.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!event.success) throw new ClaimCheckError(`claim check ${claim}: not an event`);
  return { ...envelope, event: event.data };
}
