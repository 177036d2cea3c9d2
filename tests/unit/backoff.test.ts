import { describe, expect, it } from 'vitest';
import { backoffMs, sleep } from '#runtime/backoff';

describe('backoffMs', () => {
  const b = { baseMs: 100, maxMs: 1_000 };

  it('doubles the ceiling from baseMs, never past maxMs', () => {
    const ceilings = [1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, { ...b, jitter: 'none' }));
    expect(ceilings).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('full jitter: anywhere in [0, ceiling)', () => {
    expect(backoffMs(3, { ...b, jitter: 'full' }, () => 0)).toBe(0);
    expect(backoffMs(3, { ...b, jitter: 'full' }, () => 0.5)).toBe(200);
    expect(backoffMs(3, { ...b, jitter: 'full' }, () => 0.999)).toBeCloseTo(399.6);
  });

  it('equal jitter: in [ceiling/2, ceiling), so never a retry at once', () => {
    expect(backoffMs(3, { ...b, jitter: 'equal' }, () => 0)).toBe(200);
    expect(backoffMs(3, { ...b, jitter: 'equal' }, () => 0.5)).toBe(300);
    expect(backoffMs(10, { ...b, jitter: 'equal' }, () => 0)).toBe(500);
  });

  it('takes attempt 0 or less as the first', () => {
    expect(backoffMs(0, { ...b, jitter: 'none' })).toBe(100);
  });
});

describe('sleep', () => {
  it('resolves (unref or not), and a negative wait is no wait', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    await expect(sleep(1, { unref: true })).resolves.toBeUndefined();
    await expect(sleep(-5)).resolves.toBeUndefined();
  });
});
