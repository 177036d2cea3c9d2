import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * How long the current invocation may still spend. The Lambda wrapper sets it from the context, so
 * retries with back-off stop in time and the message goes back to the queue instead of the function
 * being killed mid-write. The deadline follows the invocation's async context, so invocations that
 * run side by side in one process (the local stack) keep their own. Outside an invocation there is
 * no deadline.
 */
const SAFETY_MARGIN_MS = 2_000;

const deadlines = new AsyncLocalStorage<number>();

/** Runs one invocation's work with its deadline (`remainingMs` from the Lambda context). */
export function withInvocationBudget<T>(
  remainingMs: number | undefined,
  work: () => Promise<T>,
  now = Date.now(),
): Promise<T> {
  const deadline =
    remainingMs === undefined ? Number.POSITIVE_INFINITY : now + Math.max(0, remainingMs - SAFETY_MARGIN_MS);
  return deadlines.run(deadline, work);
}

/** Milliseconds left before the invocation must wrap up (Infinity outside an invocation). */
export function remainingBudgetMs(now = Date.now()): number {
  return (deadlines.getStore() ?? Number.POSITIVE_INFINITY) - now;
}
