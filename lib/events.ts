/**
 * Events out (SPEC §8): the custom EventBridge bus the functions publish public events to, an archive
 * on it (`aws events start-replay` replays a window), a rule copying every event into a short-lived
 * log group (`npx pagewire events tail` reads it with CloudWatch Logs live tail), and with
 * `-c forwardUrl=https://…` an API destination that POSTs each event's `detail` to that URL with the
 * API key header, EventBridge's retry policy and a dead-letter queue under an alarm.
 */
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PUBLIC_EVENT_SOURCE } from '#contracts/public-event';
import { addAlarm } from './alarms.js';
import type { PagewireFunction } from './pagewire-function.js';

/** The header that carries the forward key (the same locally: FORWARD_API_KEY). */
export const FORWARD_KEY_HEADER = 'x-pagewire-key';
/** EventBridge's most patient retry policy: 24 hours, 185 attempts, then the dead-letter queue. */
export const FORWARD_MAX_EVENT_AGE = Duration.hours(24);
export const FORWARD_RETRY_ATTEMPTS = 185;
/** The tail log group only feeds live tail and a look back over the last days; the archive keeps the rest. */
export const EVENT_LOG_RETENTION = logs.RetentionDays.THREE_DAYS;

export interface PublicEventsProps {
  /** Days the archive keeps events for replays (context `eventArchiveDays`). */
  archiveDays: number;
  /** Context `forwardUrl`: every event's detail is POSTed there. */
  forwardUrl?: string;
  /** Where the dead-letter alarm notifies. */
  alarmAction: cloudwatch.IAlarmAction;
}

export class PublicEvents extends Construct {
  readonly bus: events.EventBus;
  readonly archive: events.Archive;
  readonly logGroup: logs.LogGroup;
  readonly logRule: events.Rule;
  /** Only with `forwardUrl`. */
  readonly forward?: {
    keySecret: secretsmanager.Secret;
    connection: events.Connection;
    destination: events.ApiDestination;
    rule: events.Rule;
    deadLetterQueue: sqs.Queue;
    alarm: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: PublicEventsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const pagewireEvents: events.EventPattern = { source: [PUBLIC_EVENT_SOURCE] };

    // Bus names are unique per account and Region: the stack's name keeps two stacks apart.
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${stack.stackName}-pagewire` });
    this.archive = this.bus.archive('Archive', {
      description: 'Pagewire public events, for aws events start-replay',
      eventPattern: pagewireEvents,
      retention: Duration.days(props.archiveDays),
    });

    // EventBridge writes only to log groups under /aws/events/.
    this.logGroup = new logs.LogGroup(this, 'Log', {
      logGroupName: `/aws/events/${stack.stackName}-pagewire`,
      retention: EVENT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.logRule = new events.Rule(this, 'LogRule', {
      description: 'Every public event into the tail log group (npx pagewire events tail)',
      eventBus: this.bus,
      eventPattern: pagewireEvents,
    });
    this.logRule.addTarget(this.logTarget());

    new CfnOutput(stack, 'EventBusName', {
      value: this.bus.eventBusName,
      description: 'EventBridge bus of the public events (SPEC §8): add rules for your consumers here',
    });
    new CfnOutput(stack, 'EventLogGroupName', {
      value: this.logGroup.logGroupName,
      description:
        'Every public event, kept a few days: npx pagewire events tail, or aws logs start-live-tail',
    });

    if (props.forwardUrl) this.forward = this.forwardTo(props.forwardUrl, pagewireEvents, props.alarmAction);
  }

  /**
   * `events:PutEvents` on this bus only, and the bus's name as `EVENT_BUS_NAME`
   * (functions/adapters/aws/eventbridge-publisher.ts).
   */
  grantPublish(fn: PagewireFunction): void {
    this.bus.grantPutEventsTo(fn.role);
    fn.lambda.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);
  }

  /**
   * The log group as a rule target, with a resource policy letting only this rule write to it
   * (events-targets' CloudWatchLogGroup would install a custom-resource Lambda to do the same).
   */
  private logTarget(): events.IRuleTarget {
    this.logGroup.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.logRule.ruleArn } },
      }),
    );
    const arn = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: this.logGroup.logGroupName,
    });
    return { bind: () => ({ arn, targetResource: this.logGroup }) };
  }

  private forwardTo(
    url: string,
    pattern: events.EventPattern,
    alarmAction: cloudwatch.IAlarmAction,
  ): NonNullable<PublicEvents['forward']> {
    // The consumer checks this key on every POST; the stack makes one, the operator reads it from here.
    const keySecret = new secretsmanager.Secret(this, 'ForwardKey', {
      description: `Pagewire: the ${FORWARD_KEY_HEADER} header sent with every forwarded event`,
      generateSecretString: { excludePunctuation: true, passwordLength: 40 },
    });
    Validations.of(keySecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The forward key is shared with the consumer behind forwardUrl, which must learn a new one before ' +
        'it is used: rotate it by hand (put-secret-value, then update the connection by redeploying).',
    });

    const connection = new events.Connection(this, 'ForwardConnection', {
      description: 'Pagewire: API key for the forwardUrl consumer',
      authorization: events.Authorization.apiKey(FORWARD_KEY_HEADER, keySecret.secretValue),
    });
    const destination = new events.ApiDestination(this, 'ForwardDestination', {
      description: 'Pagewire: POSTs every public event to forwardUrl',
      connection,
      endpoint: url,
      httpMethod: events.HttpMethod.POST,
    });

    const deadLetterQueue = new sqs.Queue(this, 'ForwardDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the forward rule: events the consumer never took.',
    });

    const rule = new events.Rule(this, 'ForwardRule', {
      description: 'Every public event to forwardUrl (the detail only, SPEC §8)',
      eventBus: this.bus,
      eventPattern: pattern,
    });
    rule.addTarget(
      new targets.ApiDestination(destination, {
        event: events.RuleTargetInput.fromEventPath('$.detail'),
        maxEventAge: FORWARD_MAX_EVENT_AGE,
        retryAttempts: FORWARD_RETRY_ATTEMPTS,
        deadLetterQueue,
      }),
    );

    const alarm = addAlarm(this, alarmAction, {
      id: 'ForwardDeadLettersAlarm',
      description:
        'Public events the forwardUrl consumer did not take for 24 h are in the forward dead-letter queue',
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    });

    new CfnOutput(Stack.of(this), 'ForwardKeySecretName', {
      value: keySecret.secretName,
      description: `The ${FORWARD_KEY_HEADER} value forwardUrl receives: aws secretsmanager get-secret-value`,
    });
    new CfnOutput(Stack.of(this), 'ForwardDeadLetterQueueUrl', {
      value: deadLetterQueue.queueUrl,
      description: 'Events forwardUrl did not take within 24 h (replay them from the archive)',
    });
    return { keySecret, connection, destination, rule, deadLetterQueue, alarm };
  }
}
