/**
 * How long the current invocation may still spend. The Lambda wrapper sets it from the context, so
 * retries with back-off stop in time and the message goes back to the queue instead of the function
 * being killed mid-write. Outside Lambda (scripts, tests) there is no deadline.
 */
const SAFETY_MARGIN_MS = 2_000;

let deadline = Number.POSITIVE_INFINITY;

export function startInvocation(remainingMs: number | undefined, now = Date.now()): void {
  deadline =
    remainingMs === undefined ? Number.POSITIVE_INFINITY : now + Math.max(0, remainingMs - SAFETY_MARGIN_MS);
}

/** Milliseconds left before the invocation must wrap up (Infinity outside Lambda). */
export function remainingBudgetMs(now = Date.now()): number {
  return deadline - now;
}
