import { PoisonError } from '../commons/poison-error.js';

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
export function classifyFailure(err: unknown): Failure {
  if (err instanceof PoisonError) return { retry: false, reason: err.reason, detail: err.message };
  const name = err instanceof Error ? err.name : typeof err;
  if (DETERMINISTIC_SERVICE_ERRORS.has(name)) {
    return { retry: false, reason: name, detail: (err as Error).message };
  }
  return { retry: true, reason: name };
}
