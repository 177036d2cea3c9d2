import { createHash } from 'node:crypto';
import pMap from 'p-map';
import { CLAIM_CHECK_ABOVE_BYTES } from '#contracts/limits';
import { CLAIM_PREFIX, type ClaimCheck, type QueuedEvent, type QueueMessage } from '#contracts/queue';
import type { BlobStore } from '#ports/ports';
import { sqsSafeJson, toQueueMessageWithText } from './parse-webhook.js';

/**
 * CLAIM_CHECK_ABOVE_BYTES (contracts/limits.ts): an event whose queue message would be larger travels as a claim check. SQS itself takes
 * 1 MiB, and a signed body of at most 1 MiB can hold an event whose message is larger (JSON.stringify
 * writes an invalid UTF-8 byte as 3 bytes, `1e20` as 21 digits, U+FFFF as a 6-byte escape). Below
 * 1 MiB the bound is a choice, 256 KiB because:
 * - Lambda hands the processor at most 6 MB per invocation: a full batch of 10 records (each body
 *   escaped once more inside the event's JSON) stays well below it;
 * - a SendMessageBatch call shares 1 MiB among its 10 entries: at least 4 such messages fit in one;
 * - cost is about even either way: an S3 PUT and GET cost as much as ~11 SQS FIFO requests, what
 *   sending and receiving a message of ~350 KiB costs (SQS bills each 64 KiB as one request).
 * Meta's events are a few KB: this is for the rare large one, never the usual path.
 */
export { CLAIM_CHECK_ABOVE_BYTES };

/** Claim checks stored at once for one POST (a 1 MiB body holds at most about twenty). */
const PUTS_IN_FLIGHT = 8;

/**
 * The queue message of every event, in order (with `eventJson`, parseWebhook's raw event texts): the event itself, or for one over
 * CLAIM_CHECK_ABOVE_BYTES a claim check whose blob is stored before this resolves. Rejects when a
 * blob cannot be stored (nothing is queued then; a retried POST writes the same keys).
 */
export async function toQueueMessages(
  events: QueuedEvent[],
  blobs: BlobStore,
  eventJson: ReadonlyArray<string | undefined> = [],
): Promise<{ messages: QueueMessage[]; claimChecks: number }> {
  const messages: QueueMessage[] = [];
  const large: Array<{ event: QueuedEvent; message: QueueMessage; index: number }> = [];
  for (const [index, event] of events.entries()) {
    const message = toQueueMessageWithText(event, eventJson[index]);
    messages.push(message);
    if (isLarge(message.body)) large.push({ event, message, index });
  }
  // Nearly every POST has none: no p-map machinery on the hot path then.
  if (large.length === 0) return { messages, claimChecks: 0 };
  await pMap(
    large,
    async ({ event, message, index }) => {
      messages[index] = await claimCheck(event, message, blobs);
    },
    { concurrency: PUTS_IN_FLIGHT },
  );
  return { messages, claimChecks: large.length };
}

/** The blob key of an event's bytes: content-addressed, so the same event always has the same key. */
export function claimKey(bytes: Buffer): string {
  return `${CLAIM_PREFIX}${createHash('sha256').update(bytes).digest('hex')}.json`;
}

function isLarge(body: string): boolean {
  // A UTF-16 unit is at most 3 bytes of UTF-8: most bodies are decided without counting.
  return (
    body.length * 3 > CLAIM_CHECK_ABOVE_BYTES && Buffer.byteLength(body, 'utf8') > CLAIM_CHECK_ABOVE_BYTES
  );
}

async function claimCheck(e: QueuedEvent, message: QueueMessage, blobs: BlobStore): Promise<QueueMessage> {
  // Plain JSON.stringify: well-formed UTF-8 (lone surrogates escaped); S3 takes U+FFFE/U+FFFF as they are.
  const bytes = Buffer.from(JSON.stringify(e.event), 'utf8');
  const claim = claimKey(bytes);
  await blobs.put(claim, bytes);
  const { event: _event, ...envelope } = e;
  const body: ClaimCheck = { ...envelope, claim };
  return { ...message, body: sqsSafeJson(body) };
}
