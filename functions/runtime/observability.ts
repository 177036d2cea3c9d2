import { Console } from 'node:console';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

/**
 * Powertools' Logger, whose Lambda context may also be given lazily (`deferContext`, the verifier's
 * hot path): it joins the log attributes when the invocation writes its first line, not before. A
 * signed POST usually writes none, and `addContext` on each cost ~1.7 µs of a ~20 µs one-event POST.
 * Lines carry the same context either way, `cold_start` included: it is taken when the invocation
 * starts (tests/unit/log-context.test.ts).
 */
export class PagewireLogger extends Logger {
  // Plain fields, no initializers: Logger's constructor may already log (through processLogItem).
  private deferred?: Context;
  private deferredColdStart?: boolean;
  private replayColdStart?: boolean;

  /** The invocation's context, added when it first logs. */
  deferContext(context: Context): void {
    // With Lambda's multi-concurrency, Powertools keeps a context per invocation: no deferring there.
    if (CONCURRENT_INVOCATIONS) {
      this.addContext(context);
      return;
    }
    this.deferred = context;
    this.deferredColdStart = this.getColdStart();
  }

  override addContext(context: Parameters<Logger['addContext']>[0]): void {
    this.deferred = undefined;
    super.addContext(context);
  }

  /** addContext asks this once per context; a deferred context answers what was true when it came. */
  override getColdStart(): boolean {
    const replay = this.replayColdStart;
    if (replay === undefined) return super.getColdStart();
    this.replayColdStart = undefined;
    return replay;
  }

  protected override processLogItem(level: number, input: LogItemMessage, extra: LogItemExtraInput): void {
    const context = this.deferred;
    if (context) {
      this.replayColdStart = this.deferredColdStart;
      this.addContext(context);
    }
    super.processLogItem(level, input, extra);
  }
}

/** AWS_LAMBDA_MAX_CONCURRENCY: set where one environment runs invocations at once (Powertools' test too). */
const CONCURRENT_INVOCATIONS = (process.env.AWS_LAMBDA_MAX_CONCURRENCY ?? '') !== '';

/** One logger and one metrics buffer per container, shared by every module of a function. */
export const logger = new PagewireLogger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pagewire' });

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
