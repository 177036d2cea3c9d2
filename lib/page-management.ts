/**
 * Everything that changes or inspects page subscriptions: the page-commands FIFO queue (one group per
 * page, so a page's commands run in order) and its consumer, the admin API function, the ops function
 * (`aws lambda invoke … '{"action":"resubscribe-all"}'`), and the schedule that runs the subscription
 * health check (check, then repair) through the ops function.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterEnvNames, type QueueName } from '#contracts/dead-letters';
import { SQS_MAX_BATCH_ENTRIES } from '#contracts/limits';
import type { Data } from './data.js';
import { FifoWorkQueue } from './fifo-work-queue.js';
import { PagewireFunction } from './pagewire-function.js';
import type { PagewireSettings } from './settings.js';

export const PAGE_COMMANDS_TIMEOUT = Duration.seconds(60);
/** API Gateway answers 503 after 30 s: the admin function ends before it. */
export const ADMIN_TIMEOUT = Duration.seconds(29);
/** A bulk run over up to OPS_FAN_OUT_ABOVE pages happens in one invocation. */
export const OPS_TIMEOUT = Duration.minutes(15);
/** Pages worked on at once by resubscribe-all and the health check. */
export const PAGE_OPS_CONCURRENCY = 16;
/** The ops function runs bulk actions inline up to this many pages, then hands them to the queue. */
export const OPS_FAN_OUT_ABOVE = 1000;
/** The admin API has 29 s: larger bulk runs go to the page-commands queue. */
export const ADMIN_FAN_OUT_ABOVE = 100;
/** How long an admin route waits for its queued page command before answering 202. */
export const ADMIN_COMMAND_WAIT_MS = 10_000;
/** Page commands call the Graph API: a few pages at once keeps clear of app-level rate limits. */
export const PAGE_COMMANDS_MAX_CONCURRENCY = 5;
/** The scheduled health check is the doctor with repair (SPEC §9): app webhook, pages, tokens, warnings. */
export const HEALTH_CHECK_INPUT = { action: 'doctor' } as const;
/** The variable the admin and ops functions read this deployment's webhook URL from (set by the stack). */
export const WEBHOOK_URL_ENV = 'WEBHOOK_URL';

export interface PageOperationsProps {
  data: Data;
  settings: PagewireSettings;
}

export class PageOperations extends Construct {
  readonly commandsQueue: sqs.Queue;
  readonly commandsDeadLetterQueue: sqs.Queue;
  readonly pageCommands: PagewireFunction;
  readonly admin: PagewireFunction;
  readonly ops: PagewireFunction;
  readonly healthCheckRule: events.Rule;

  constructor(scope: Construct, id: string, props: PageOperationsProps) {
    super(scope, id);
    const { data, settings } = props;

    const commands = new FifoWorkQueue(this, 'PageCommands', { consumerTimeout: PAGE_COMMANDS_TIMEOUT });
    this.commandsQueue = commands.queue;
    this.commandsDeadLetterQueue = commands.deadLetterQueue;

    const graphCaller = {
      TABLE_NAME: data.table.tableName,
      KMS_KEY_ID: data.tokenKey.keyArn,
      APP_SECRET_NAME: data.appSecret.secretName,
      GRAPH_API_VERSION: settings.graphApiVersion,
    };

    this.pageCommands = new PagewireFunction(this, 'PageCommandsConsumer', {
      name: 'page-commands',
      description: 'Pagewire: runs page commands (subscribe, disconnect, check), in order per page',
      timeout: PAGE_COMMANDS_TIMEOUT,
      environment: graphCaller,
    });
    this.pageCommands.lambda.addEventSource(
      new SqsEventSource(this.commandsQueue, {
        batchSize: SQS_MAX_BATCH_ENTRIES,
        reportBatchItemFailures: true,
        maxConcurrency: PAGE_COMMANDS_MAX_CONCURRENCY,
      }),
    );

    this.admin = new PagewireFunction(this, 'Admin', {
      name: 'admin',
      description: 'Pagewire: the admin API (/admin/*, IAM-authorised)',
      timeout: ADMIN_TIMEOUT,
      environment: {
        ...graphCaller,
        PAGE_COMMANDS_QUEUE_URL: this.commandsQueue.queueUrl,
        HUMAN_AGENT_REPLIES: String(settings.humanAgentReplies),
        COMMAND_WAIT_MS: String(ADMIN_COMMAND_WAIT_MS),
        PAGE_OPS_CONCURRENCY: String(PAGE_OPS_CONCURRENCY),
        PAGE_OPS_FAN_OUT_ABOVE: String(ADMIN_FAN_OUT_ABOVE),
        BLOB_BUCKET: data.blobBucket.bucketName,
      },
    });

    this.ops = new PagewireFunction(this, 'Ops', {
      name: 'ops',
      description:
        'Pagewire ops: {"action":"doctor"|"resubscribe-all"|"check"|"check-and-repair"}; scheduled doctor',
      timeout: OPS_TIMEOUT,
      environment: {
        ...graphCaller,
        PAGE_COMMANDS_QUEUE_URL: this.commandsQueue.queueUrl,
        PAGE_OPS_CONCURRENCY: String(PAGE_OPS_CONCURRENCY),
        PAGE_OPS_FAN_OUT_ABOVE: String(OPS_FAN_OUT_ABOVE),
      },
    });

    for (const fn of [this.pageCommands, this.admin, this.ops]) {
      data.grantTableReadWrite(fn.role);
      data.grantTokenUnsealing(fn.role);
      data.grantAppSecretRead(fn.role);
    }
    // Only connect seals page tokens.
    data.grantTokenSealing(this.admin.role);
    // Conversations show the parts of stored items kept beside the table.
    data.grantBlobs(this.admin.role, 'items', ['s3:GetObject']);
    for (const sender of [this.admin, this.ops]) this.grantSendCommand(sender);
    this.allowRedrive('page-commands', this.commandsQueue, this.commandsDeadLetterQueue);

    this.healthCheckRule = new events.Rule(this, 'HealthCheckSchedule', {
      description: 'Pagewire: the doctor with repair (app webhook, every page subscription, tokens daily)',
      schedule: events.Schedule.expression(settings.healthCheckSchedule),
      targets: [
        new targets.LambdaFunction(this.ops.lambda, {
          event: events.RuleTargetInput.fromObject(HEALTH_CHECK_INPUT),
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
  }

  /**
   * Lets the admin API count a queue's dead letters and move them back to it (`npx pagewire
   * dead-letters list|redrive --aws`). A move task (StartMessageMoveTask) acts with its caller's
   * rights: it receives and deletes on the dead-letter queue and sends to the destination, so AWS asks
   * for those too (SQS Developer Guide, dead-letter queue redrive; both queues use SSE-SQS, no KMS key).
   */
  allowRedrive(queue: QueueName, workQueue: sqs.IQueue, deadLetterQueue: sqs.IQueue): void {
    const env = deadLetterEnvNames(queue);
    this.admin.lambda.addEnvironment(env.url, deadLetterQueue.queueUrl);
    this.admin.lambda.addEnvironment(env.arn, deadLetterQueue.queueArn);
    this.admin.lambda.addEnvironment(env.source, workQueue.queueArn);
    this.admin.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'sqs:GetQueueAttributes',
          'sqs:ListMessageMoveTasks',
          'sqs:StartMessageMoveTask',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
        ],
        resources: [deadLetterQueue.queueArn],
      }),
    );
    this.admin.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [workQueue.queueArn] }),
    );
  }

  /** sqs:SendMessage (SendMessageBatch included) on the page-commands queue, nothing else. */
  private grantSendCommand(fn: PagewireFunction): void {
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.commandsQueue.queueArn] }),
    );
  }
}
