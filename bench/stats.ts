/** Small helpers every benchmark shares: medians, rounding, ratios, a sequential timer. */

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

/** Rounds to `digits` decimals (2 by default); keeps small figures readable without noise. */
export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Three significant digits, for figures spanning many magnitudes (costs, requests per message). */
export function sig(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}

export function ratio(value: number, reference: number): number {
  return reference === 0 ? Number.NaN : round(value / reference, 2);
}

/**
 * Median µs per call of `fn`, over `rounds` rounds of `n` calls (after one warm-up round).
 * The warm-up keeps JIT tiers out of the figure; the median keeps GC pauses out of it.
 */
export async function microsPerCall(n: number, fn: () => unknown, rounds = 15): Promise<number> {
  const samples: number[] = [];
  for (let r = -1; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    if (r >= 0) samples.push(Number(process.hrtime.bigint() - start) / 1000 / n);
  }
  return median(samples);
}

export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `tasks` with at most `limit` in flight; answers their results in order. */
export async function pool<T>(limit: number, count: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
  return out;
}
