import { setTimeout as wait } from 'node:timers/promises';

/** Exponential back-off: the ceiling doubles from `baseMs` on each retry, never past `maxMs`. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /**
   * `full`: anywhere in [0, ceiling) (spreads retries most: AWS's advice for contended APIs);
   * `equal`: in [ceiling/2, ceiling) (never retries at once); `none`: the ceiling itself.
   */
  jitter: 'full' | 'equal' | 'none';
}

/** The delay before retry `attempt` (1-based). `random` is in [0, 1) (tests fix it). */
export function backoffMs(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.max(0, Math.min(b.maxMs, b.baseMs * 2 ** (Math.max(1, attempt) - 1)));
  if (b.jitter === 'none') return ceiling;
  if (b.jitter === 'equal') return ceiling / 2 + (random() * ceiling) / 2;
  return random() * ceiling;
}

/** Waits `ms`. `unref`: the wait alone does not keep the process alive (a stop's grace period). */
export function sleep(ms: number, { unref = false }: { unref?: boolean } = {}): Promise<void> {
  return wait(Math.max(0, ms), undefined, { ref: !unref });
}
