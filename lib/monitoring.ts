/**
 * What tells an operator something is wrong: an SNS topic (e-mail when `-c alarmEmail=…`), alarms on
 * dead letters, quarantined events, a stuck events queue, function errors, webhook 5xx, pages that need
 * a new token and subscription repairs that fail; and a dashboard of the flow from webhook to stored event.
 *
 * The application metrics are Powertools EMF counts in namespace `Pagewire` with the one dimension
 * `service` = POWERTOOLS_SERVICE_NAME, which every function shares (`pagewire`).
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type AlarmSpec, addAlarm } from './alarms.js';
import { METRICS_NAMESPACE, type PagewireFunction, SERVICE_NAME } from './pagewire-function.js';

/** Events older than this in the queue mean a conversation is stuck (or the processor is down). */
export const EVENTS_AGE_ALARM_SECONDS = 300;
export const GRAPH_ERROR_CLASSES = ['auth', 'throttle', 'transient', 'permanent'] as const;

export interface MonitoringProps {
  alarmEmail?: string;
  /** Every function, by the name shown on alarms and the dashboard. */
  functions: Record<string, PagewireFunction>;
  eventsQueue: sqs.IQueue;
  eventsDeadLetterQueue: sqs.IQueue;
  commandsQueue: sqs.IQueue;
  commandsDeadLetterQueue: sqs.IQueue;
  /** Media copies whose outcome could not even be recorded (SPEC §10). */
  mediaDeadLetterQueue?: sqs.IQueue;
  apiStage: apigwv2.IHttpStage;
}

export class Monitoring extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Pagewire alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const notify = new actions.SnsAction(this.alarmTopic);
    this.alarms = alarmSpecs(props).map((spec) => addAlarm(this, notify, spec));

    this.dashboard = drawDashboard(this, props, this.alarms);
  }
}

/** The flow from webhook to stored event, the queues, Graph errors and the functions, under the alarms. */
function drawDashboard(
  scope: Construct,
  props: MonitoringProps,
  alarms: cloudwatch.Alarm[],
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: `${Stack.of(scope).stackName}-${Aws.REGION}`,
    defaultInterval: Duration.hours(3),
  });
  const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
    new cloudwatch.GraphWidget({ title, left, width, height: 6 });
  const queueAge = (queue: sqs.IQueue, label: string) =>
    queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum', label });
  const depth = (queue: sqs.IQueue, label: string) =>
    queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
      label,
    });

  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 4 }));
  dashboard.addWidgets(
    graph('Webhook flow', [
      appMetric('WebhooksReceived', 'Webhooks in'),
      appMetric('EventsQueued', 'Events queued'),
      appMetric('EventsStored', 'Events processed'),
      appMetric('DuplicatesDropped', 'Duplicates dropped'),
    ]),
    graph('Queue age (s)', [
      queueAge(props.eventsQueue, 'Events: oldest message'),
      queueAge(props.commandsQueue, 'Page commands: oldest message'),
    ]),
    graph('Dead letters and quarantine', [
      depth(props.eventsDeadLetterQueue, 'Events DLQ'),
      depth(props.commandsDeadLetterQueue, 'Page commands DLQ'),
      appMetric('EventsQuarantined', 'Events quarantined'),
    ]),
  );
  dashboard.addWidgets(
    graph('Pages needing reauth', [appMetric('PagesReauthRequired', 'Pages needing reauth')]),
    graph(
      'Graph API errors by class',
      GRAPH_ERROR_CLASSES.map((c) => appMetric(`GraphErrors_${c}`, c)),
    ),
    graph('Graph API retries', [appMetric('GraphRetries', 'Retries')]),
  );
  dashboard.addWidgets(
    graph('Doctor', [
      appMetric('PageWarnings', 'New page warnings'),
      appMetric('DoctorProblems', 'Runs with problems'),
      appMetric('TokenChecksDeferred', 'Token checks deferred (Graph usage)'),
    ]),
    graph('Subscriptions', [
      appMetric('SubscriptionsChecked', 'Checked'),
      appMetric('SubscriptionsMissing', 'Found missing'),
      appMetric('SubscriptionsRepaired', 'Repaired'),
      appMetric('SubscriptionRepairsFailed', 'Repairs failed'),
    ]),
    graph('Webhooks refused / malformed / unknown page', [
      appMetric('WebhooksRefused', 'Refused (signature)'),
      appMetric('MalformedEvents', 'Malformed events'),
      appMetric('EventsForUnknownPage', 'Events for unknown page'),
    ]),
    graph('HTTP API', [
      props.apiStage.metricCount({ period: Duration.minutes(5), statistic: 'Sum', label: 'Requests' }),
      props.apiStage.metricClientError({ period: Duration.minutes(5), statistic: 'Sum', label: '4xx' }),
      props.apiStage.metricServerError({ period: Duration.minutes(5), statistic: 'Sum', label: '5xx' }),
    ]),
  );
  const fns = Object.entries(props.functions);
  dashboard.addWidgets(
    graph(
      'Function errors',
      fns.map(([name, fn]) =>
        fn.lambda.metricErrors({ period: Duration.minutes(5), statistic: 'Sum', label: name }),
      ),
      12,
    ),
    graph(
      'Function duration p99 (ms)',
      fns.map(([name, fn]) =>
        fn.lambda.metricDuration({ period: Duration.minutes(5), statistic: 'p99', label: name }),
      ),
      12,
    ),
  );
  return dashboard;
}

/** Every alarm, in the order the dashboard's status widget shows them. */
function alarmSpecs(props: MonitoringProps): AlarmSpec[] {
  const minutes = (n: number) => ({ period: Duration.minutes(n), statistic: 'Maximum' });
  const sum5 = { period: Duration.minutes(5), statistic: 'Sum' };
  return [
    // Dead letters: a message failed five times; it waits for a look and a redrive.
    ...(
      [
        ['Events', props.eventsDeadLetterQueue],
        ['PageCommands', props.commandsDeadLetterQueue],
      ] as const
    ).map(([name, dlq]) => ({
      id: `${name}DeadLettersAlarm`,
      description: `Pagewire: ${name} dead-letter queue holds messages (redrive with start-message-move-task)`,
      metric: dlq.metricApproximateNumberOfMessagesVisible(minutes(1)),
    })),
    ...(props.mediaDeadLetterQueue ? [props.mediaDeadLetterQueue] : []).map((dlq) => ({
      id: 'MediaDeadLettersAlarm',
      description:
        'Pagewire: media copies whose outcome could not be recorded are in the media dead-letter queue (redrive with start-message-move-task)',
      metric: dlq.metricApproximateNumberOfMessagesVisible(minutes(1)),
    })),
    // An event the processor cannot apply is kept in the quarantine, not retried: each one wants a look.
    {
      id: 'EventsQuarantinedAlarm',
      description:
        'Pagewire: an event could not be applied and was quarantined (list them: pagewire quarantine list)',
      metric: appMetric('EventsQuarantined'),
    },
    {
      id: 'EventsQueueAgeAlarm',
      description: `Pagewire: the oldest queued event is over ${EVENTS_AGE_ALARM_SECONDS} s old (conversation stuck or processor failing)`,
      metric: props.eventsQueue.metricApproximateAgeOfOldestMessage(minutes(1)),
      threshold: EVENTS_AGE_ALARM_SECONDS,
      above: true,
      periods: 5,
    },
    ...Object.entries(props.functions).map(([name, fn]) => ({
      id: `${name}ErrorsAlarm`,
      description: `Pagewire: the ${name} function failed (see its log group)`,
      metric: fn.lambda.metricErrors(sum5),
    })),
    // A 5xx to Meta is a webhook not taken: after about an hour of them Meta unsubscribes the app.
    {
      id: 'ApiServerErrorsAlarm',
      description: 'Pagewire: the HTTP API answered 5xx (webhooks are being retried by Meta)',
      metric: props.apiStage.metricServerError(sum5),
      threshold: 5,
    },
    {
      id: 'PagesReauthRequiredAlarm',
      description:
        'Pagewire: Meta refused a page token (code 190); connect the page again with a fresh user token',
      metric: appMetric('PagesReauthRequired'),
    },
    {
      id: 'SubscriptionRepairsFailedAlarm',
      description: 'Pagewire: the health check found a page unsubscribed and could not subscribe it again',
      metric: appMetric('SubscriptionRepairsFailed'),
    },
    // The doctor (SPEC §9) found a warning new to a page: a token losing access, a missing permission,
    // the app webhook gone, or a daily page gone quiet. Each is also a page.warning event.
    {
      id: 'PageWarningsAlarm',
      description:
        'Pagewire: the doctor found a new page warning (npx pagewire doctor --aws shows what and the fix)',
      metric: appMetric('PageWarnings'),
    },
  ];
}

/** A Powertools count: namespace Pagewire, dimension service=pagewire, summed per 5 minutes. */
export function appMetric(metricName: string, label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: 'Sum',
    period: Duration.minutes(5),
    label,
  });
}
