import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { CLAIM_PREFIX, type ClaimCheck, type QueuedEvent } from '#contracts/queue';
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

const CLAIM_KEY = new RegExp(`^${CLAIM_PREFIX}([0-9a-f]{64})\\.json$`);

/** The claim check message (claim-check.ts writes it). */
const ClaimCheckSchema = z.object({
  v: z.literal(1),
  pageId: z.string(),
  userId: z.string(),
  eventId: z.string(),
  timestamp: z.number(),
  standby: z.boolean(),
  claim: z.string().check(z.regex(CLAIM_KEY)),
});

/**
 * The event a queue message stands for: the message itself, or for a claim check the event read back
 * from the blob store, checked against the hash its key names. Throws ClaimCheckError when that cannot
 * be done (the processor quarantines the message, keeping its body); the error names the key only,
 * never event content. A blob store that fails (S3 5xx) throws its own error: retried.
 */
export async function readQueuedEvent(
  message: QueuedEvent | ClaimCheck,
  blobs: BlobStore | undefined,
): Promise<QueuedEvent> {
  if (!('claim' in message)) return message;
  const parsed = ClaimCheckSchema.safeParse(message);
  if (!parsed.success) throw new ClaimCheckError('malformed claim check message');
  const { claim, ...envelope } = parsed.data;
  if (!blobs) throw new ClaimCheckError(`claim check ${claim}, but this processor has no blob store`);
  const bytes = await blobs.get(claim);
  if (!bytes) throw new ClaimCheckError(`claim check ${claim}: no such blob`);
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== CLAIM_KEY.exec(claim)?.[1]) throw new ClaimCheckError(`claim check ${claim}: other bytes`);
  const event: unknown = JSON.parse(bytes.toString('utf8'));
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new ClaimCheckError(`claim check ${claim}: not an event`);
  }
  return { ...envelope, event: event as Record<string, unknown> };
}
