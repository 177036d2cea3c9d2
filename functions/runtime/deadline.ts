/**
 * How long an invocation may still spend. The Lambda wrapper (lambda.ts) makes one from the context and
 * passes it down explicitly, so retries with back-off stop in time and the message goes back to the
 * queue instead of the function being killed mid-write.
 */
export interface Deadline {
  /** Milliseconds left before the work must wrap up (Infinity: no deadline). */
  remainingMs(now?: number): number;
}

/** Time kept back for answering: the batch response, the metrics line, the log flush. */
export const SAFETY_MARGIN_MS = 2_000;

/** Outside an invocation (tools, tests): nothing stops the work but its own timeouts. */
export const NO_DEADLINE: Deadline = Object.freeze({ remainingMs: () => Number.POSITIVE_INFINITY });

/** A deadline at the epoch-millisecond instant `at`. */
export function deadlineAt(at: number): Deadline {
  return { remainingMs: (now = Date.now()) => at - now };
}

/** The invocation's deadline: its remaining time less the safety margin (none without a context clock). */
export function deadlineOf(
  context: { getRemainingTimeInMillis?: () => number } | undefined,
  now = Date.now(),
): Deadline {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (remaining === undefined) return NO_DEADLINE;
  return deadlineAt(now + Math.max(0, remaining - SAFETY_MARGIN_MS));
}
