/**
 * One alarm from a one-line spec: every Pagewire alarm fires at `threshold` or more (greater than, with
 * `above`), treats missing data as fine and notifies the alarm topic. The spec's `id` is the construct id
 * and so part of the CloudFormation logical id: renaming it replaces the alarm (tests/cdk pins them).
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

export interface AlarmSpec {
  id: string;
  description: string;
  metric: cloudwatch.IMetric;
  /** 1 unless given: one occurrence is worth a look. */
  threshold?: number;
  /** Strictly greater than the threshold (for amounts like an age); otherwise at least the threshold. */
  above?: boolean;
  /** Consecutive breaching periods needed (each one must breach); 1 unless given. */
  periods?: number;
}

export function addAlarm(
  scope: Construct,
  action: cloudwatch.IAlarmAction,
  spec: AlarmSpec,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, spec.id, {
    alarmDescription: spec.description,
    metric: spec.metric,
    threshold: spec.threshold ?? 1,
    comparisonOperator: spec.above
      ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
      : cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: spec.periods ?? 1,
    datapointsToAlarm: spec.periods && spec.periods > 1 ? spec.periods : undefined,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(action);
  return alarm;
}
