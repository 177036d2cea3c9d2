/**
 * The HTTP side: one HTTP API. `GET`/`POST /webhooks/facebook` and `GET /health` are public and go
 * to the verifier (Meta authenticates with the X-Hub-Signature-256 HMAC, checked in the function);
 * every `/admin/*` route requires SigV4 (IAM) and goes to the admin function. Each route has its own
 * throttle, so a flood on one (say `/health`) cannot starve Meta's webhooks; the stage writes JSON access
 * logs. The verifier may send to the events queue, read the app secret and write claim checks (events
 * too large for a queue message) to the blob bucket, and nothing else.
 */
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ADMIN_PREFIX,
  CONNECT_CALLBACK_PATH,
  CONNECT_LOGIN_PATH,
  HEALTH_PATH,
  WEBHOOK_PATH,
} from '#contracts/routes';
import type { Data } from './data.js';
import { PagewireFunction } from './pagewire-function.js';
import { DEFAULT_SETTINGS } from './settings.js';

/** Every admin route goes to the admin function, which routes it (contracts/routes.ts). */
export const ADMIN_PATH = `${ADMIN_PREFIX}/{proxy+}`;
/** Meta expects an answer within 5 s; the verifier only verifies and queues. */
export const VERIFIER_TIMEOUT = Duration.seconds(10);
/** The stage's default route throttle (requests per second): what a route without its own gets. */
export const STAGE_THROTTLE = { rateLimit: 500, burstLimit: 1000 } as const;

export interface Throttle {
  rateLimit: number;
  burstLimit: number;
}

/** Meta's webhook POSTs, unless context says otherwise (sized in settings.ts). */
export const DEFAULT_WEBHOOK_THROTTLE: Throttle = {
  rateLimit: DEFAULT_SETTINGS.webhookRateLimit,
  burstLimit: DEFAULT_SETTINGS.webhookBurstLimit,
};
/** Each route's own throttle, apart from the webhook POST's: small, and none shared with another. */
export const ROUTE_THROTTLES = {
  /** Meta's handshake: sent when the callback URL is set or verified again, never at volume. */
  [`GET ${WEBHOOK_PATH}`]: { rateLimit: 5, burstLimit: 10 },
  /** Uptime checks and load balancers. */
  [`GET ${HEALTH_PATH}`]: { rateLimit: 10, burstLimit: 20 },
  /** Operators and the CLI; bulk operations are one request each. */
  [`ANY ${ADMIN_PATH}`]: { rateLimit: 50, burstLimit: 100 },
} as const satisfies Record<string, Throttle>;

/** Facebook Login's public routes (SPEC §12): a person at a browser, a few times per connect. */
export const CONNECT_ROUTE_THROTTLES = {
  [`GET ${CONNECT_LOGIN_PATH}`]: { rateLimit: 5, burstLimit: 10 },
  [`GET ${CONNECT_CALLBACK_PATH}`]: { rateLimit: 5, burstLimit: 10 },
  [`POST ${CONNECT_CALLBACK_PATH}`]: { rateLimit: 5, burstLimit: 10 },
} as const satisfies Record<string, Throttle>;

/** One JSON line per request; no query string (the handshake carries the verify token there). */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  caller: '$context.identity.userArn',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
});

export interface IngestProps {
  data: Data;
  eventsQueue: sqs.IQueue;
  /** The admin API function, behind IAM. */
  admin: PagewireFunction;
  /** The webhook POST's throttle (default DEFAULT_WEBHOOK_THROTTLE). */
  webhookThrottle?: Throttle;
  /** The Facebook Login function (SPEC §12): its public routes, without IAM. */
  connectLogin?: PagewireFunction;
}

export class Ingest extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly verifier: PagewireFunction;
  readonly accessLogs: logs.LogGroup;
  /** Attach to the people or roles that run `pagewire --aws` (execute-api:Invoke on /admin/* only). */
  readonly adminInvokePolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { data, eventsQueue, admin } = props;

    this.verifier = new PagewireFunction(this, 'Verifier', {
      name: 'verifier',
      description: 'Pagewire: verifies Facebook webhooks (X-Hub-Signature-256) and queues every event',
      timeout: VERIFIER_TIMEOUT,
      runtimeSourceMaps: false,
      environment: {
        EVENTS_QUEUE_URL: eventsQueue.queueUrl,
        APP_SECRET_NAME: data.appSecret.secretName,
        BLOB_BUCKET: data.blobBucket.bucketName,
      },
    });
    // SendMessageBatch is authorised as sqs:SendMessage. No table, no KMS, nothing else.
    this.verifier.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [eventsQueue.queueArn] }),
    );
    data.grantAppSecretRead(this.verifier.role);
    data.grantBlobs(this.verifier.role, 'claims', ['s3:PutObject']);

    this.api = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Pagewire: Facebook webhooks (public, HMAC-signed) and the admin API (IAM)',
      createDefaultStage: false,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: STAGE_THROTTLE,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });

    const webhook = new HttpLambdaIntegration('Verifier', this.verifier.lambda);
    const publicRoutes = [
      ...this.api.addRoutes({
        path: WEBHOOK_PATH,
        methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
        integration: webhook,
      }),
      ...this.api.addRoutes({ path: HEALTH_PATH, methods: [apigwv2.HttpMethod.GET], integration: webhook }),
    ];
    for (const route of publicRoutes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Public by design: Meta cannot sign requests with SigV4 or send a token. POST webhooks are ' +
          'authenticated in the verifier by the X-Hub-Signature-256 HMAC over the raw body (fail closed), the ' +
          'GET handshake by the verify token; GET /health answers {"status":"ok"} and nothing else.',
      });
    }

    this.api.addRoutes({
      path: ADMIN_PATH,
      methods: [apigwv2.HttpMethod.ANY],
      integration: new HttpLambdaIntegration('Admin', admin.lambda),
      authorizer: new HttpIamAuthorizer(),
    });

    if (props.connectLogin) this.addConnectLoginRoutes(props.connectLogin);

    this.throttleRoutes(props.webhookThrottle ?? DEFAULT_WEBHOOK_THROTTLE, props.connectLogin !== undefined);

    this.adminInvokePolicy = new iam.ManagedPolicy(this, 'AdminInvokePolicy', {
      description: 'Pagewire: call the admin API (pagewire --aws, or any SigV4 client)',
      statements: [
        new iam.PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: [this.api.arnForExecuteApi('*', `${ADMIN_PREFIX}/*`, '$default')],
        }),
      ],
    });
    const apiLogicalId = Stack.of(this).getLogicalId(this.api.node.defaultChild as CfnElement);
    Validations.of(this.adminInvokePolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/$default/*/admin/*]`,
      reason:
        'The admin API is every method under /admin/ of this API only: the wildcards are the method and path.',
    });
  }

  /**
   * Per-route throttling (the HttpStage L2 only has the stage-wide default): RouteSettings on the stage,
   * keyed by route key. CloudFormation refuses settings for a route that does not exist yet, so the
   * stage waits for the routes.
   */
  private throttleRoutes(webhook: Throttle, connectLogin: boolean): void {
    const limits: Record<string, Throttle> = {
      [`POST ${WEBHOOK_PATH}`]: webhook,
      ...ROUTE_THROTTLES,
      ...(connectLogin ? CONNECT_ROUTE_THROTTLES : {}),
    };
    const cfnStage = this.stage.node.defaultChild as apigwv2.CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      Object.entries(limits).map(([routeKey, t]) => [
        routeKey,
        { ThrottlingRateLimit: t.rateLimit, ThrottlingBurstLimit: t.burstLimit },
      ]),
    );
    for (const route of this.api.node.children) {
      if (route instanceof apigwv2.HttpRoute) this.stage.node.addDependency(route);
    }
  }

  /**
   * Facebook Login's routes, public (SPEC §12): Facebook redirects a browser here, which cannot sign.
   * The state in the link authenticates, single use by a conditional write, checked in the function.
   */
  private addConnectLoginRoutes(fn: PagewireFunction): void {
    const integration = new HttpLambdaIntegration('ConnectLogin', fn.lambda);
    const routes = [
      ...this.api.addRoutes({ path: CONNECT_LOGIN_PATH, methods: [apigwv2.HttpMethod.GET], integration }),
      ...this.api.addRoutes({
        path: CONNECT_CALLBACK_PATH,
        methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
        integration,
      }),
    ];
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Public by design: Facebook Login redirects a browser here, which cannot sign with SigV4. The ' +
          'one-time state of an admin-created link (SHA-256 stored, 15 minutes, single use by a conditional ' +
          'write) authenticates each request in the function; the picker POST is CSRF-checked.',
      });
    }
  }

  /** `https://{api}.execute-api.{region}.amazonaws.com`, the base of every route. */
  get baseUrl(): string {
    return this.api.apiEndpoint;
  }
}
