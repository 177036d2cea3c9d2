import type { Stream } from './output.js';

export interface ProgressOptions {
  /** Where the elapsed-time line goes (stderr; never stdout, which carries results). */
  stream?: Stream;
  /** Show nothing for answers faster than this. */
  delayMs?: number;
  intervalMs?: number;
}

const CLEAR_LINE = '\r\u001b[2K';

/**
 * Waits for `work`; when it takes longer than `delayMs` and the stream is a terminal, keeps one line
 * `label… 3.2s` up to date and clears it when the work ends, so the results print on a clean line.
 */
export async function withProgress<T>(
  label: string,
  work: Promise<T>,
  opts: ProgressOptions = {},
): Promise<T> {
  const { stream = process.stderr, delayMs = 1_000, intervalMs = 200 } = opts;
  if (!stream.isTTY) return work;
  const started = Date.now();
  let shown = false;
  let interval: NodeJS.Timeout | undefined;
  const draw = () => {
    shown = true;
    stream.write(`${CLEAR_LINE}${label}… ${((Date.now() - started) / 1000).toFixed(1)}s`);
  };
  const timer = setTimeout(() => {
    draw();
    interval = setInterval(draw, intervalMs);
  }, delayMs);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
    clearInterval(interval);
    if (shown) stream.write(CLEAR_LINE);
  }
}
