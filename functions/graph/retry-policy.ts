/**
 * The one retry policy for Graph API calls (SPEC §5): throttles (4, 17, 32, 613, 80001, 80006, HTTP 429)
 * and transient failures (1, 2, HTTP 5xx, network errors and timeouts) are retried with exponential
 * back-off and full jitter; auth (190) and permanent errors (10, 200–299, …) escape at once.
 *
 * Retries never outlive the invocation: when Meta's `estimated_time_to_regain_access`, or the next delay
 * plus one more call, does not fit before the invocation's deadline, the GraphError is thrown right away so the
 * message goes back to the queue instead of the Lambda being killed mid-batch. (GraphClient also cuts
 * each attempt's own timeout to the time left.)
 */
import { backoffMs as backoff, sleep } from '#runtime/backoff';
import type { Deadline } from '#runtime/deadline';
import { count } from '#runtime/observability';
import { GraphError } from './graph-error.js';

export interface RetryPolicy {
  /** Attempts in all, the first included (default 5). */
  maxAttempts: number;
  /** The back-off ceiling of the first retry, doubled on each further retry (default 250 ms). */
  baseDelayMs: number;
  /** The back-off ceiling never grows past this (default 20 s); Meta's own estimate may exceed it. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 20_000,
});

/** What one call adds to the policy. */
export interface RetryCallOptions {
  /** How long one attempt may take (the per-call timeout); a retry is started only if delay + this fit. */
  attemptTimeoutMs?: number;
  /**
   * False for calls that must not run twice (a send). An error with status 0 (timeout, network error)
   * may have been raised after Meta received the request, so it is not retried; answers Meta gave
   * (429, throttle codes, 5xx, 1, 2) are.
   */
  idempotent?: boolean;
  /** The invocation's deadline (NO_DEADLINE outside one): no retry is slept on that could not end before it. */
  deadline: Deadline;
}

export interface RetryClock {
  sleep(ms: number): Promise<void>;
  /** In [0, 1), for the jitter. */
  random(): number;
}

const SYSTEM_CLOCK: RetryClock = {
  sleep,
  random: Math.random,
};

/** The back-off before retry `n` (1-based): full jitter over `min(maxDelayMs, baseDelayMs · 2^(n-1))`. */
export function backoffMs(n: number, policy: RetryPolicy, random: () => number): number {
  return backoff(n, { baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, jitter: 'full' }, random);
}

export function isRetryable(err: unknown, idempotent = true): err is GraphError {
  if (!(err instanceof GraphError)) return false;
  if (err.errorClass !== 'throttle' && err.errorClass !== 'transient') return false;
  return idempotent || err.status !== 0;
}

/**
 * Runs `operation`, retrying it by the policy. Whatever escapes is the operation's own error, untouched
 * (a GraphError keeps its class and Meta's message), so callers classify it as before.
 */
export async function withRetry<T>(
  operation: () => Promise<T>,
  policy: Partial<RetryPolicy> & RetryCallOptions,
  clock: Partial<RetryClock> = {},
): Promise<T> {
  const p = resolvePolicy(policy);
  const { sleep, random } = { ...SYSTEM_CLOCK, ...clock };
  const { deadline } = policy;
  const attemptTimeoutMs = Math.max(0, policy.attemptTimeoutMs ?? 0);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      const delay =
        attempt < p.maxAttempts && isRetryable(err, policy.idempotent) ? nextDelay(err, attempt) : -1;
      if (delay < 0 || delay + attemptTimeoutMs > deadline.remainingMs()) {
        if (err instanceof GraphError) count(`GraphErrors_${err.errorClass}`);
        throw err;
      }
      count('GraphRetries');
      await sleep(delay);
    }
  }

  function nextDelay(err: GraphError, retry: number): number {
    const jittered = backoffMs(retry, p, random);
    // Meta says when access returns: waiting less only burns another call (and more quota).
    return err.retryAfterMs === undefined ? jittered : Math.max(jittered, err.retryAfterMs);
  }
}

function resolvePolicy(policy: Partial<RetryPolicy>): RetryPolicy {
  const pick = (v: number | undefined, fallback: number) =>
    v !== undefined && Number.isFinite(v) ? v : fallback;
  return {
    maxAttempts: Math.max(1, Math.floor(pick(policy.maxAttempts, DEFAULT_RETRY_POLICY.maxAttempts))),
    baseDelayMs: Math.max(0, pick(policy.baseDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs)),
    maxDelayMs: Math.max(0, pick(policy.maxDelayMs, DEFAULT_RETRY_POLICY.maxDelayMs)),
  };
}
