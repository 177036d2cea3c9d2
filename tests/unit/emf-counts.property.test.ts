/**
 * `count` and `publishCounts` (runtime/observability.ts) write the EMF lines themselves instead of
 * going through Powertools Metrics' buffer (whose every call reads process.env). Property: for any
 * sequence of counts, flushes and clock ticks, they write to stdout exactly the lines Powertools
 * Metrics writes for the same sequence, as the code before them drove it (`addMetric` per count,
 * `publishStoredMetrics` when something is stored): same namespace, dimensions, metric order, single
 * values and value arrays, and the same extra lines at 100 metrics or 100 values. The dashboards and
 * alarms (lib/monitoring.ts) read these lines.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Powertools takes its settings when Metrics is created: metrics on, as deployed (vitest turns them off).
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'Pagewire';
  process.env.POWERTOOLS_SERVICE_NAME = 'pagewire';
});

const { count, counters, publishCounts } = await import('#runtime/observability');

type Op =
  | { kind: 'count'; name: string; value: number }
  | { kind: 'burst'; name: string; distinct: number; each: number }
  | { kind: 'flush' }
  | { kind: 'tick'; ms: number };

/** The calls the verifier and processor make, and some they never make. */
const name = fc.oneof(
  fc.constantFrom('WebhooksReceived', 'EventsQueued', 'MalformedEvents', 'WebhooksRefused', 'QueueFailures'),
  fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,12}$/),
);
const value = fc.oneof(
  fc.constant(1),
  fc.integer({ min: -3, max: 1000 }),
  fc.double({ min: -1, max: 1e6, noNaN: true, noDefaultInfinity: true }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('count' as const), name, value }) },
  {
    weight: 1,
    // Enough names or values to pass Powertools' limits of 100 per line.
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      name,
      distinct: fc.oneof(fc.constantFrom(99, 100, 101), fc.integer({ min: 1, max: 130 })),
      each: fc.integer({ min: 1, max: 120 }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'flush' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 5000 }) }),
  },
);

/** Runs `ops` against one implementation; answers what it wrote to stdout. */
function run(ops: Op[], add: (name: string, value: number) => void, flush: () => void): string[] {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  vi.setSystemTime(1_764_000_000_000);
  try {
    for (const o of ops) {
      if (o.kind === 'count') add(o.name, o.value);
      else if (o.kind === 'flush') flush();
      else if (o.kind === 'tick') vi.setSystemTime(Date.now() + o.ms);
      else {
        const names = Array.from({ length: o.distinct }, (_, i) => `${o.name}${i}`);
        for (let k = 0; k < o.each; k++) for (const n of names) add(n, 1);
      }
    }
    flush(); // the end of the invocation
  } finally {
    write.mockRestore();
  }
  return lines;
}

/** Powertools Metrics driven as observability.ts drove it before. */
function powertools() {
  const metrics = new Metrics({ namespace: 'Pagewire', serviceName: 'pagewire' });
  return {
    add: (n: string, v: number) => {
      if (v > 0) metrics.addMetric(n, MetricUnit.Count, v);
    },
    flush: () => {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('count / publishCounts: the EMF lines Powertools Metrics writes', () => {
  it('writes the same lines as Powertools for any sequence of counts and flushes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const reference = powertools();
        const expected = run(ops, reference.add, reference.flush);
        expect(run(ops, count, publishCounts)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['100 metrics, then one of them again', [{ kind: 'burst', name: 'M', distinct: 100, each: 2 }]],
    ['100 metrics, then a new one', [{ kind: 'burst', name: 'M', distinct: 101, each: 1 }]],
    ['100 values of one metric, and one more', [{ kind: 'burst', name: 'V', distinct: 1, each: 101 }]],
  ] satisfies Array<[string, Op[]]>)('writes the same lines at the limits: %s', (_, ops) => {
    const reference = powertools();
    const expected = run(ops, reference.add, reference.flush);
    expect(expected.length).toBeGreaterThan(1);
    expect(run(ops, count, publishCounts)).toEqual(expected);
  });

  it('writes the line a one-event POST counts, and nothing for an invocation that counted nothing', () => {
    const lines = run(
      [
        { kind: 'count', name: 'WebhooksReceived', value: 1 },
        { kind: 'count', name: 'MalformedEvents', value: 0 },
        { kind: 'count', name: 'EventsQueued', value: 1 },
      ],
      count,
      publishCounts,
    );
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        _aws: {
          Timestamp: 1_764_000_000_000,
          CloudWatchMetrics: [
            {
              Namespace: 'Pagewire',
              Dimensions: [['service']],
              Metrics: [
                { Name: 'WebhooksReceived', Unit: 'Count' },
                { Name: 'EventsQueued', Unit: 'Count' },
              ],
            },
          ],
        },
        service: 'pagewire',
        WebhooksReceived: 1,
        EventsQueued: 1,
      },
    ]);
    expect(run([], count, publishCounts)).toEqual([]);
  });

  it('keeps the process-wide totals the local stack shows in /health', () => {
    const before = counters().TotalsProbe ?? 0;
    run(
      [
        { kind: 'count', name: 'TotalsProbe', value: 2 },
        { kind: 'flush' },
        { kind: 'count', name: 'TotalsProbe', value: 3 },
      ],
      count,
      publishCounts,
    );
    expect(counters().TotalsProbe).toBe(before + 5);
  });
});
