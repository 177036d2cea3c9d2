import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { lambdaContext } from '#local/lambda-context';
import { type Deadline, deadlineAt, deadlineOf, NO_DEADLINE } from '#runtime/deadline';
import { lambda } from '#runtime/lambda';
import { only } from '#testkit/pick';

describe('Deadline', () => {
  it('is the context’s remaining time less the 2 s safety margin', () => {
    const context = { getRemainingTimeInMillis: () => 10_000 };
    expect(deadlineOf(context, 1_000).remainingMs(1_000)).toBe(8_000);
    expect(deadlineOf(context, 1_000).remainingMs(4_000)).toBe(5_000);
    // Less than the margin left: nothing more may start.
    expect(deadlineOf({ getRemainingTimeInMillis: () => 1_500 }, 0).remainingMs(0)).toBe(0);
  });

  it('is none without a context clock, or outside an invocation', () => {
    expect(deadlineOf(undefined)).toBe(NO_DEADLINE);
    expect(deadlineOf({})).toBe(NO_DEADLINE);
    expect(NO_DEADLINE.remainingMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('deadlineAt: the time left before an instant, negative once it passed', () => {
    expect(deadlineAt(5_000).remainingMs(3_000)).toBe(2_000);
    expect(deadlineAt(5_000).remainingMs(6_000)).toBe(-1_000);
  });
});

describe('lambda()', () => {
  it('passes the invocation’s deadline to the entry', async () => {
    const seen: Array<{ given: Deadline; context: Context }> = [];
    const handler = lambda(async (_event: unknown, context: Context, deadline: Deadline) => {
      seen.push({ given: deadline, context });
      return 'done';
    });
    const context = { ...lambdaContext('pagewire-test', 60_000), getRemainingTimeInMillis: () => 60_000 };
    expect(await handler({}, context)).toBe('done');
    expect(seen).toHaveLength(1);
    const given = only(seen, 'call').given as Deadline;
    const now = Date.now();
    // 60 s less the margin, measured from the start of the invocation: at most 58 s from now.
    expect(given.remainingMs(now)).toBeLessThanOrEqual(58_000);
    expect(given.remainingMs(now)).toBeGreaterThan(0);
  });
});
