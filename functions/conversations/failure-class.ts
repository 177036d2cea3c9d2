import { MAX_RECEIVE_COUNT } from '#contracts/limits';
import { PoisonError } from '#runtime/poison-error';

/**
 * Whether retrying an event can help. A retry holds back every later event of the conversation (the
 * FIFO group waits), so it is only worth it for a fault that passes; an event that fails the same way
 * every time is quarantined instead, and its conversation goes on at once.
 */
export type Failure = { retry: true; reason: string } | { retry: false; reason: string; detail: string };

/**
 * DynamoDB refusing the request itself: an item over 400 KB, a key too long, a number out of range,
 * a map it cannot hold. The same request is refused again on every try.
 */
const DETERMINISTIC_SERVICE_ERRORS = new Set([
  'ValidationException',
  'SerializationException',
  // The conversation's item collection is at the 10 GB limit of a table with a local index: no write to
  // it can succeed until data is removed, so each event is kept (with this reason) rather than blocked.
  'ItemCollectionSizeLimitExceededException',
]);

/**
 * Deterministic: PoisonError (an event the code cannot interpret, a value or key the store cannot hold,
 * checked before anything is written) and the DynamoDB refusals above.
 *
 * Everything else is retried: throttles (ProvisionedThroughputExceeded, RequestLimitExceeded,
 * Throttling), InternalServerError, ServiceUnavailable, timeouts and network errors, the conversation
 * lock not taken, blob store 5xx. Unknown errors are retried too, on purpose: an error nobody has
 * classified is as likely to be the environment as the event (a missing IAM grant, a table or key not
 * there yet, a bad deploy), and such a fault fails every event of every conversation. Retried, those
 * events stay in order in the queue and, if it lasts, in the dead-letter queue, from which a redrive
 * brings them back once it is fixed; quarantined, every conversation would lose its order and fill the
 * quarantine. The price is that an unknown deterministic failure still costs five receives and a dead
 * letter (alarmed): the cure is to classify it here.
 */
export function classifyFailure(err: unknown, receives = 1): Failure {
  if (err instanceof PoisonError) return { retry: false, reason: err.reason, detail: err.message };
  const name = err instanceof Error ? err.name : typeof err;
  if (DETERMINISTIC_SERVICE_ERRORS.has(name)) {
    return { retry: false, reason: name, detail: (err as Error).message };
  }
  // The last receive of an unclassified failure: failing it again would send it to the dead-letter
  // queue together with every later event of its conversation in the batch (skipGroupOnError fails
  // them too, and their receive counts are just as spent). Quarantined, it keeps its record and
  // reason, and the events behind it are stored now. Known transient faults still go to the DLQ:
  // when the table itself throttles or is down, the events behind would fail the same way.
  if (receives >= MAX_RECEIVE_COUNT && !isTransient(err, name)) {
    return {
      retry: false,
      reason: 'RetriesExhausted',
      detail: `${MAX_RECEIVE_COUNT} receives, last error ${name}`,
    };
  }
  return { retry: true, reason: name };
}

/** Faults that pass by themselves: throttles, server errors, time-outs, the network, the lock. */
function isTransient(err: unknown, name: string): boolean {
  if (TRANSIENT_NAMES.test(name)) return true;
  const { code, $metadata, $retryable } = (err ?? {}) as {
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if ($retryable || ($metadata?.httpStatusCode ?? 0) >= 500) return true;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

// PublishError: the change is stored, its event must still go out; the DLQ and a redrive keep it.
const TRANSIENT_NAMES =
  /Throttl|ThroughputExceeded|RequestLimitExceeded|InternalServer|ServiceUnavailable|Timeout|TimedOut|LockUnavailable|SlowDown|PublishError/;
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);
