/**
 * The Pagewire stack (SPEC §1): data, the optional conversation lock, the events pipeline, page
 * operations, the HTTP API and monitoring, each its own construct; and the outputs an operator needs.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Construct } from 'constructs';
import { HEALTH_PATH, WEBHOOK_PATH } from '#contracts/routes';
import { ConnectLogin } from './connect-login.js';
import { Data } from './data.js';
import { PublicEvents } from './events.js';
import { Ingest } from './ingest.js';
import { ConversationLock } from './lock-cache.js';
import { Media } from './media.js';
import { Monitoring } from './monitoring.js';
import { PageOperations, WEBHOOK_URL_ENV } from './page-management.js';
import type { PagewireFunction } from './pagewire-function.js';
import { Processing } from './processing.js';
import type { PagewireSettings } from './settings.js';

export interface PagewireStackProps extends StackProps {
  settings: PagewireSettings;
}

export class PagewireStack extends Stack {
  readonly data: Data;
  readonly lock?: ConversationLock;
  readonly processing: Processing;
  readonly pageOperations: PageOperations;
  readonly ingest: Ingest;
  readonly monitoring: Monitoring;
  readonly events: PublicEvents;
  readonly media: Media;
  readonly connectLogin: ConnectLogin;

  constructor(scope: Construct, id: string, props: PagewireStackProps) {
    super(scope, id, props);
    const { settings } = props;

    this.data = new Data(this, 'Data');
    if (settings.lock === 'redis') {
      this.lock = new ConversationLock(this, 'ConversationLock', { natGateways: settings.natGateways });
    }
    this.processing = new Processing(this, 'Processing', { data: this.data, settings, lock: this.lock });
    this.pageOperations = new PageOperations(this, 'PageOperations', { data: this.data, settings });
    this.pageOperations.allowRedrive(
      'events',
      this.processing.eventsQueue,
      this.processing.eventsDeadLetterQueue,
    );
    this.connectLogin = new ConnectLogin(this, 'ConnectLogin', {
      data: this.data,
      settings,
      commandsQueue: this.pageOperations.commandsQueue,
    });
    this.ingest = new Ingest(this, 'Ingest', {
      data: this.data,
      eventsQueue: this.processing.eventsQueue,
      admin: this.pageOperations.admin,
      webhookThrottle: { rateLimit: settings.webhookRateLimit, burstLimit: settings.webhookBurstLimit },
      connectLogin: this.connectLogin.fn,
    });
    // Connect links and Facebook Login's redirect_uri are built on the API's own URL (SPEC §12): set once
    // the API exists (the functions are its integrations, so they cannot be given it at creation).
    for (const fn of [this.pageOperations.admin, this.connectLogin.fn])
      fn.lambda.addEnvironment('PUBLIC_BASE_URL', this.ingest.baseUrl);

    // The doctor (SPEC §9) checks that Meta calls this deployment's webhook, and repairs it to this URL.
    // Set after both exist: the API's URL is a token of the API, which routes to the admin function.
    const webhookUrl = `${this.ingest.baseUrl}${WEBHOOK_PATH}`;
    for (const fn of [this.pageOperations.admin, this.pageOperations.ops])
      fn.lambda.addEnvironment(WEBHOOK_URL_ENV, webhookUrl);

    // Media that lasts (SPEC §10): the processor queues copies, the admin function links to them.
    this.media = new Media(this, 'Media', { data: this.data, retentionDays: settings.mediaRetentionDays });
    this.media.grantEnqueue(this.processing.processor);
    this.media.grantErase(this.processing.processor);
    this.media.grantLinks(this.pageOperations.admin);

    const functions = {
      Verifier: this.ingest.verifier,
      Processor: this.processing.processor,
      Admin: this.pageOperations.admin,
      Ops: this.pageOperations.ops,
      PageCommands: this.pageOperations.pageCommands,
      Media: this.media.worker,
      Connect: this.connectLogin.fn,
    };
    this.monitoring = new Monitoring(this, 'Monitoring', {
      alarmEmail: settings.alarmEmail,
      functions,
      eventsQueue: this.processing.eventsQueue,
      eventsDeadLetterQueue: this.processing.eventsDeadLetterQueue,
      commandsQueue: this.pageOperations.commandsQueue,
      commandsDeadLetterQueue: this.pageOperations.commandsDeadLetterQueue,
      mediaDeadLetterQueue: this.media.deadLetterQueue,
      apiStage: this.ingest.stage,
    });
    // Public events (SPEC §8): only the functions that store changes may publish.
    this.events = new PublicEvents(this, 'Events', {
      archiveDays: settings.eventArchiveDays,
      forwardUrl: settings.forwardUrl,
      alarmAction: new SnsAction(this.monitoring.alarmTopic),
    });
    for (const fn of [
      functions.Processor,
      functions.Admin,
      functions.Ops,
      functions.PageCommands,
      functions.Media,
      functions.Connect,
    ]) {
      this.events.grantPublish(fn);
    }

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output(
      'WebhookUrl',
      webhookUrl,
      "Callback URL for the Facebook app's webhook (npx pagewire doctor --repair --aws sets it at Meta)",
    );
    output('AdminApiUrl', this.ingest.baseUrl, 'Admin API base URL: npx pagewire --aws --url <this> …');
    output('HealthUrl', `${this.ingest.baseUrl}${HEALTH_PATH}`, 'GET answers {"status":"ok"}');
    output(
      'AppSecretName',
      this.data.appSecret.secretName,
      'Set to {"appId","appSecret","verifyToken"} with aws secretsmanager put-secret-value',
    );
    output(
      'OpsFunctionName',
      this.pageOperations.ops.functionName,
      'aws lambda invoke --function-name <this> --payload {"action":"doctor"} (or resubscribe-all, check, check-and-repair)',
    );
    output('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
    output('AlarmTopicArn', this.monitoring.alarmTopic.topicArn, 'SNS topic of every alarm');
    output(
      'AdminInvokePolicyArn',
      this.ingest.adminInvokePolicy.managedPolicyArn,
      'Managed policy to attach to whoever calls the admin API',
    );
    output('TableName', this.data.table.tableName, 'DynamoDB table (retained on stack deletion)');
    output(
      'EventsDeadLetterQueueArn',
      this.processing.eventsDeadLetterQueue.queueArn,
      'Redrive: aws sqs start-message-move-task --source-arn <this>',
    );
    output(
      'PageCommandsDeadLetterQueueArn',
      this.pageOperations.commandsDeadLetterQueue.queueArn,
      'Redrive: aws sqs start-message-move-task --source-arn <this>',
    );
    const functionOutputs: [string, PagewireFunction, string][] = [
      ['VerifierFunctionName', this.ingest.verifier, 'Verifier: checks and queues webhooks'],
      ['ProcessorFunctionName', this.processing.processor, 'Processor: stores queued events'],
      ['AdminFunctionName', this.pageOperations.admin, 'Admin API function'],
      ['PageCommandsFunctionName', this.pageOperations.pageCommands, 'Page-commands consumer'],
      ['MediaFunctionName', this.media.worker, 'Media worker: copies attachments to the media bucket'],
      ['ConnectFunctionName', this.connectLogin.fn, 'Facebook Login connect pages (public routes)'],
    ];
    for (const [id, fn, description] of functionOutputs) output(id, fn.functionName, description);
  }
}
