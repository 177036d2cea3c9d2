/**
 * The verifier's wrapper gives the logger its Lambda context lazily (`deferContext`, runtime/
 * observability.ts): it joins the log attributes only when an invocation writes a line. Property: for
 * any run of invocations writing any lines (or none), the lines are exactly those of Powertools'
 * Logger given each context eagerly with `addContext`, as the wrapper did before: same request id,
 * function fields and `cold_start` (true only on the first invocation, even when that one logs nothing).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '#local/lambda-context';

// Powertools reads these when a logger is created: lines written, and a real cold start to report.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  delete process.env.AWS_LAMBDA_MAX_CONCURRENCY;
});

const { PagewireLogger, logger } = await import('#runtime/observability');
const { hotPathLambda } = await import('#runtime/lambda');

type Line = { level: 'info' | 'warn' | 'error'; message: string; extra?: Record<string, unknown> };

/** Per invocation, the lines it writes; `outside` lines are written between invocations. */
interface Invocation {
  lines: Line[];
  outside: Line[];
}

const line: fc.Arbitrary<Line> = fc.record(
  {
    level: fc.constantFrom('info' as const, 'warn' as const, 'error' as const),
    message: fc.string({ maxLength: 8 }),
    extra: fc.dictionary(fc.constantFrom('reason', 'bytes', 'entryIndex'), fc.oneof(fc.string(), fc.nat())),
  },
  { requiredKeys: ['level', 'message'] },
);
const invocation: fc.Arbitrary<Invocation> = fc.record({
  lines: fc.array(line, { maxLength: 3 }),
  outside: fc.array(line, { maxLength: 1 }),
});

/** Everything a logger writes (Powertools' Console: info on stdout, warn and error on stderr). */
function capture(run: () => void): unknown[] {
  const out: unknown[] = [];
  const keep = (chunk: unknown) => {
    out.push(JSON.parse(String(chunk)));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(keep);
  try {
    run();
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return out;
}

function write(target: Logger, lines: Line[]): void {
  for (const l of lines) target[l.level](l.message, l.extra ?? {});
}

/** Runs the invocations, giving each context as `give` does; answers the lines written. */
function replay(target: Logger, give: (context: Context) => void, run: Invocation[], contexts: Context[]) {
  return capture(() => {
    for (const [i, inv] of run.entries()) {
      const context = contexts[i];
      if (!context) throw new Error('a context per invocation');
      give(context);
      write(target, inv.lines);
      write(target, inv.outside);
    }
  });
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(1_764_000_000_000);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('deferred log context', () => {
  it('writes what Powertools writes with the context added eagerly, for any run of invocations', () => {
    fc.assert(
      fc.property(fc.array(invocation, { minLength: 1, maxLength: 6 }), (run) => {
        const contexts = run.map((_, i) => lambdaContext(`pagewire-verifier-${i % 2}`));
        const eager = new Logger({ serviceName: 'pagewire' });
        const lazy = new PagewireLogger({ serviceName: 'pagewire' });
        const expected = replay(eager, (c) => eager.addContext(c), run, contexts);
        expect(replay(lazy, (c) => lazy.deferContext(c), run, contexts)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reports the cold start on the first invocation only, even when that one writes nothing', () => {
    const [first, second] = [lambdaContext('v'), lambdaContext('v')];
    const lazy = new PagewireLogger({ serviceName: 'pagewire' });
    const lines = capture(() => {
      lazy.deferContext(first);
      lazy.deferContext(second);
      lazy.warn('second invocation');
    });
    expect(lines).toEqual([
      expect.objectContaining({ cold_start: false, function_request_id: second.awsRequestId }),
    ]);
    const cold = new PagewireLogger({ serviceName: 'pagewire' });
    const coldLines = capture(() => {
      cold.deferContext(first);
      cold.warn('first invocation');
      cold.warn('again');
    });
    expect(coldLines).toEqual([
      expect.objectContaining({ cold_start: true, function_request_id: first.awsRequestId }),
      expect.objectContaining({ cold_start: true, function_request_id: first.awsRequestId }),
    ]);
  });

  it("gives the verifier wrapper's lines their invocation's context", async () => {
    const context = lambdaContext('pagewire-verifier');
    const handler = hotPathLambda(async () => {
      logger.warn('webhook signature missing or invalid', { bytes: 3 });
      return 401;
    });
    const lines: unknown[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(JSON.parse(String(chunk)));
      return true;
    });
    try {
      await handler({}, context);
    } finally {
      stderr.mockRestore();
    }
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'webhook signature missing or invalid',
        bytes: 3,
        function_request_id: context.awsRequestId,
        function_name: 'pagewire-verifier',
      }),
    ]);
  });
});
