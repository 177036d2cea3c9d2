import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** One logger and one metrics buffer per container, shared by every module of a function. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pagewire' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Pagewire',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pagewire',
});

/** Process-wide totals beside the CloudWatch metrics, so the local stack can show them in /health. */
const totals = new Map<string, number>();

export function count(name: string, value = 1): void {
  if (value <= 0) return;
  metrics.addMetric(name, MetricUnit.Count, value);
  totals.set(name, (totals.get(name) ?? 0) + value);
}

export function counters(): Record<string, number> {
  return Object.fromEntries(totals);
}
