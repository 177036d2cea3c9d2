import { Console } from 'node:console';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** One logger and one metrics buffer per container, shared by every module of a function. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pagewire' });

/**
 * Powertools Metrics, kept for its settings (namespace, `service` dimension, POWERTOOLS_METRICS_DISABLED
 * and POWERTOOLS_DEV, read as Powertools reads them), not for its buffer: every call into that buffer
 * reads `process.env` (its per-invocation store asks AWS_LAMBDA_MAX_CONCURRENCY each time), which
 * cost the verifier ~3.4 µs of a ~22 µs POST. `count` buffers in a Map and `publishCounts` writes the
 * EMF line itself: the same line Powertools writes for the same counts (tests/unit/emf-counts.property.test.ts).
 */
class CountMetrics extends Metrics {
  get off(): boolean {
    return this.isDisabled();
  }
}

const settings = new CountMetrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Pagewire',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pagewire',
});

/** Powertools' line with no metric: namespace, dimension sets, dimension values (`service`). */
const { _aws: emptyAws, ...dimensionValues } = settings.serializeMetrics();
const directive = emptyAws.CloudWatchMetrics[0] ?? noDirective();

function noDirective(): never {
  throw new Error('Powertools Metrics serialized no metric directive');
}
const disabled = settings.off;
/** Powertools writes EMF through a Console of its own on stdout (PR #748 there), so does this. */
const emfOut = new Console({ stdout: process.stdout, stderr: process.stderr });

/** Powertools' limits: at most 100 metrics per line and 100 values per metric, then the line is written. */
const MAX_METRICS = 100;
const MAX_VALUES = 100;

/** This invocation's counts, by name, in the order first counted. */
const pending = new Map<string, number[]>();

/** Process-wide totals beside the CloudWatch metrics, so the local stack can show them in /health. */
const totals = new Map<string, number>();

/** Adds a count to this invocation's metrics line (written by `publishCounts`). */
export function count(name: string, value = 1): void {
  if (value <= 0) return;
  totals.set(name, (totals.get(name) ?? 0) + value);
  // The order Powertools' addMetric keeps: a full line is written before the next value is stored.
  if (pending.size >= MAX_METRICS) publishCounts();
  const values = pending.get(name);
  if (values === undefined) pending.set(name, [value]);
  else if (values.push(value) === MAX_VALUES) publishCounts();
}

/** Writes the invocation's counts as one EMF line, as Powertools' publishStoredMetrics; quiet when none. */
export function publishCounts(): void {
  if (pending.size === 0) return;
  try {
    if (!disabled) emfOut.log(emfLine());
  } finally {
    pending.clear();
  }
}

function emfLine(): string {
  const line: Record<string, unknown> = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: directive.Namespace,
          Dimensions: directive.Dimensions,
          Metrics: Array.from(pending.keys(), (Name) => ({ Name, Unit: MetricUnit.Count })),
        },
      ],
    },
    ...dimensionValues,
  };
  for (const [name, values] of pending) line[name] = values.length === 1 ? values[0] : values;
  return JSON.stringify(line);
}

export function counters(): Record<string, number> {
  return Object.fromEntries(totals);
}
