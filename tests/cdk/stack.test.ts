/**
 * The CDK stack (issue 4), asserted on the synthesized templates. Each variant (no lock; `lock=redis`
 * with every other context key set too) is synthesized once, bundles included, and shared by the tests.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CfnElement, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableDefinition } from '#store/table';
import { readAssemblyReport, type StackReport } from '../../lib/assembly-report.js';
import { createPagewireApp } from '../../lib/pagewire-app.js';
import type { PagewireFunction } from '../../lib/pagewire-function.js';
import type { PagewireStack } from '../../lib/pagewire-stack.js';
import { settingsFromContext } from '../../lib/settings.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON, walked freely by the assertions
type Json = Record<string, any>;
type FunctionKey = 'verifier' | 'processor' | 'admin' | 'ops' | 'pageCommands';

interface Variant {
  stack: PagewireStack;
  template: Template;
  json: Json;
  outdir: string;
  assembly: StackReport;
  validationReport: Json;
  nagViolations: unknown[];
  /** Logical ids, so assertions name resources the way the template does. */
  id: (element: unknown) => string;
  fn: Record<FunctionKey, PagewireFunction>;
}

const outdirs: string[] = [];

function synthesize(context: Record<string, unknown>): Variant {
  const outdir = mkdtempSync(join(tmpdir(), 'pagewire-cdk-'));
  outdirs.push(outdir);
  const { app, stack } = createPagewireApp({ outdir, context: { ...cdkJson.context, ...context } });
  // The nag plugin runs inside synth: an unacknowledged finding throws here.
  const cloudAssembly = app.synth();
  const json = cloudAssembly.getStackByName(stack.stackName).template as Json;
  const nag = new AwsSolutionsChecks(app).validateScope(app);
  return {
    stack,
    template: Template.fromJSON(json),
    json,
    outdir,
    assembly: readAssemblyReport(outdir).find((r) => r.stackName === stack.stackName) as StackReport,
    validationReport: JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')),
    nagViolations: nag.violations,
    id: (element) => stack.getLogicalId(element as CfnElement),
    fn: {
      verifier: stack.ingest.verifier,
      processor: stack.processing.processor,
      admin: stack.pageOperations.admin,
      ops: stack.pageOperations.ops,
      pageCommands: stack.pageOperations.pageCommands,
    },
  };
}

const LOCK_CONTEXT = {
  lock: 'redis',
  alarmEmail: 'ops@example.com',
  graphApiVersion: 'v25.0',
  healthCheckSchedule: 'rate(6 hours)',
  processorMaxConcurrency: '200',
  natGateways: '2',
  webhookRateLimit: '300',
  webhookBurstLimit: '600',
};

let plain: Variant;
let locked: Variant;

beforeAll(() => {
  plain = synthesize({});
  locked = synthesize(LOCK_CONTEXT);
}, 180_000);

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

// ---- helpers over the template -----------------------------------------------------------------

const resources = (v: Variant, type: string): [string, Json][] =>
  Object.entries(v.json.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);

const resource = (v: Variant, logicalId: string): Json => v.json.Resources[logicalId];

const lambdaId = (v: Variant, key: FunctionKey) => v.id(v.fn[key].lambda.node.defaultChild);
const lambdaProps = (v: Variant, key: FunctionKey): Json => resource(v, lambdaId(v, key)).Properties;
const envOf = (v: Variant, key: FunctionKey): Json => lambdaProps(v, key).Environment.Variables;

/** Every statement of the policies attached to the function's role. */
function statementsOf(v: Variant, key: FunctionKey): Json[] {
  const roleId = v.id(v.fn[key].role.node.defaultChild);
  return resources(v, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
}

const actionsOf = (statement: Json): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

const allActions = (v: Variant, key: FunctionKey) => statementsOf(v, key).flatMap(actionsOf).sort();

const getAtt = (logicalId: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attribute] });

const ALL_FUNCTIONS: FunctionKey[] = ['verifier', 'processor', 'admin', 'ops', 'pageCommands'];

/** The ARN pattern of the blob bucket's objects under `prefix` (e.g. `claims/*`), as the template writes it. */
const blobObjects = (v: Variant, pattern: string) => ({
  'Fn::Join': ['', [getAtt(v.id(v.stack.data.blobBucket.node.defaultChild)), `/${pattern}`]],
});

// ---- the app and its checks --------------------------------------------------------------------

describe('settings from context', () => {
  it('defaults to no lock, hourly health check, max concurrency 50, the Graph version of config.ts', () => {
    const s = settingsFromContext(() => undefined);
    expect(s).toMatchObject({
      lock: 'none',
      healthCheckSchedule: 'rate(1 hour)',
      processorMaxConcurrency: 50,
      natGateways: 1,
      graphApiVersion: 'v24.0',
    });
  });

  it('refuses values that would deploy something else', () => {
    const ctx = (values: Record<string, string>) => (key: string) => values[key];
    expect(() => settingsFromContext(ctx({ lock: 'memcached' }))).toThrow(/lock=redis/);
    expect(() => settingsFromContext(ctx({ processorMaxConcurrency: '1' }))).toThrow(/2 to 1000/);
    expect(() => settingsFromContext(ctx({ processorMaxConcurrency: '1001' }))).toThrow(/2 to 1000/);
    expect(() => settingsFromContext(ctx({ alarmEmail: 'nobody' }))).toThrow(/e-mail/);
    expect(() => settingsFromContext(ctx({ graphApiVersion: '24' }))).toThrow(/v24\.0/);
    expect(() => settingsFromContext(ctx({ healthCheckSchedule: 'hourly' }))).toThrow(/rate\(1 hour\)/);
  });

  it('webhook throttle: 1000/s with bursts of 2000 by default, whole numbers within the account limits', () => {
    const ctx = (values: Record<string, string>) => (key: string) => values[key];
    expect(settingsFromContext(() => undefined)).toMatchObject({
      webhookRateLimit: 1000,
      webhookBurstLimit: 2000,
    });
    expect(settingsFromContext(ctx({ webhookRateLimit: '50', webhookBurstLimit: '80' }))).toMatchObject({
      webhookRateLimit: 50,
      webhookBurstLimit: 80,
    });
    for (const bad of ['0', '10001', '2.5', 'fast'])
      expect(() => settingsFromContext(ctx({ webhookRateLimit: bad }))).toThrow(
        /webhookRateLimit.*1 to 10000/,
      );
    for (const bad of ['0', '5001', '-1'])
      expect(() => settingsFromContext(ctx({ webhookBurstLimit: bad }))).toThrow(
        /webhookBurstLimit.*1 to 5000/,
      );
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding, with or without the lock', () => {
    for (const v of [plain, locked]) {
      expect(v.nagViolations).toEqual([]);
      const failing = (v.validationReport.pluginReports as Json[]).filter((r) => r.violations?.length > 0);
      expect(failing).toEqual([]);
    }
  });

  it('runs on every synth of the app: an unacknowledged finding fails it', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'pagewire-cdk-nag-'));
    outdirs.push(outdir);
    // Skip bundling: only the nag verdict matters here.
    const { app, stack } = createPagewireApp({
      outdir,
      context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    });
    new sqs.Queue(stack, 'QueueWithoutDlqOrTls');
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it('acknowledges only these findings, each with a written reason', () => {
    for (const v of [plain, locked]) {
      const acknowledged = new Map<string, string>();
      for (const construct of v.stack.node.findAll()) {
        for (const entry of construct.node.metadata) {
          if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
            expect(reason.length, `${id} on ${construct.node.path}`).toBeGreaterThan(20);
            acknowledged.set(id.replace(/^annotation::/i, ''), reason);
          }
        }
      }
      // Ours: the AwsSolutions ones (aws-cdk-lib acknowledges some of its own CloudFormation-Validate rules).
      const ids = [...acknowledged.keys()]
        .filter((id) => id.startsWith('AwsSolutions-'))
        .map((id) => id.replace(/<[^>]+>/g, '<…>'))
        .sort();
      expect(ids).toEqual([
        'AwsSolutions-APIG4',
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-IAM5[Resource::<…>/claims/*]',
        'AwsSolutions-IAM5[Resource::<…>/items/*]',
        'AwsSolutions-IAM5[Resource::arn:<…>:execute-api:<…>:<…>:<…>/$default/*/admin/*]',
        'AwsSolutions-S1',
        'AwsSolutions-SMG4',
      ]);
    }
  });
});

// ---- HTTP API ------------------------------------------------------------------------------------

describe('HTTP API', () => {
  const integrationOf = (v: Variant, routeKey: string): Json => {
    const route = resources(v, 'AWS::ApiGatewayV2::Route').find(
      ([, r]) => r.Properties.RouteKey === routeKey,
    );
    expect(route, routeKey).toBeDefined();
    return (route as [string, Json])[1].Properties;
  };
  const integrationTarget = (v: Variant, target: Json): string => {
    const integrationId = target['Fn::Join'][1][1].Ref as string;
    return resource(v, integrationId).Properties.IntegrationUri['Fn::GetAtt'][0];
  };

  it('routes the webhook and /health publicly to the verifier', () => {
    for (const key of ['GET /webhooks/facebook', 'POST /webhooks/facebook', 'GET /health']) {
      const route = integrationOf(plain, key);
      expect(route.AuthorizationType ?? 'NONE').toBe('NONE');
      expect(integrationTarget(plain, route.Target)).toBe(lambdaId(plain, 'verifier'));
    }
  });

  it('puts every /admin/{proxy+} route behind IAM, to the admin function, and nothing else under /admin', () => {
    const route = integrationOf(plain, 'ANY /admin/{proxy+}');
    expect(route.AuthorizationType).toBe('AWS_IAM');
    expect(integrationTarget(plain, route.Target)).toBe(lambdaId(plain, 'admin'));
    const routeKeys = resources(plain, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
    expect(routeKeys.sort()).toEqual([
      'ANY /admin/{proxy+}',
      'GET /health',
      'GET /webhooks/facebook',
      'POST /webhooks/facebook',
    ]);
    plain.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: getAtt(lambdaId(plain, 'admin')),
      Principal: 'apigateway.amazonaws.com',
    });
  });

  it('throttles the $default stage and writes JSON access logs to a log group with retention', () => {
    const [[, stage]] = resources(plain, 'AWS::ApiGatewayV2::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
    const logGroupId = stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
    expect(resource(plain, logGroupId).Properties.RetentionInDays).toBeGreaterThan(0);
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey' });
    expect(JSON.stringify(format)).not.toContain('querystring');
  });

  it('throttles each route on its own: Meta’s webhook POST sized from context, the rest small and apart', () => {
    const settingsOf = (v: Variant) => {
      const [[, stage]] = resources(v, 'AWS::ApiGatewayV2::Stage');
      return stage;
    };
    const limits = (rate: number, burst: number) => ({
      ThrottlingRateLimit: rate,
      ThrottlingBurstLimit: burst,
    });
    const expected = {
      'GET /webhooks/facebook': limits(5, 10),
      'GET /health': limits(10, 20),
      'ANY /admin/{proxy+}': limits(50, 100),
    };
    expect(settingsOf(plain).Properties.RouteSettings).toEqual({
      'POST /webhooks/facebook': limits(1000, 2000),
      ...expected,
    });
    expect(settingsOf(locked).Properties.RouteSettings).toEqual({
      'POST /webhooks/facebook': limits(300, 600),
      ...expected,
    });
    // Every route has its own limits, and the stage is created after the routes it names (CloudFormation
    // refuses settings for a route key it cannot find).
    const routes = resources(plain, 'AWS::ApiGatewayV2::Route');
    expect(Object.keys(settingsOf(plain).Properties.RouteSettings).sort()).toEqual(
      routes.map(([, r]) => r.Properties.RouteKey).sort(),
    );
    expect(settingsOf(plain).DependsOn).toEqual(expect.arrayContaining(routes.map(([id]) => id)));
  });

  it('offers a managed policy that may invoke /admin/* only', () => {
    const [[, policy]] = resources(plain, 'AWS::IAM::ManagedPolicy');
    const [statement] = policy.Properties.PolicyDocument.Statement;
    expect(statement.Action).toBe('execute-api:Invoke');
    expect(JSON.stringify(statement.Resource)).toContain('/$default/*/admin/*');
  });
});

// ---- functions -----------------------------------------------------------------------------------

describe('functions', () => {
  const POWERTOOLS = {
    POWERTOOLS_SERVICE_NAME: 'pagewire',
    POWERTOOLS_METRICS_NAMESPACE: 'Pagewire',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
  const COMMON = [...Object.keys(POWERTOOLS), 'NODE_OPTIONS'];

  it('run Node.js 24 on ARM, ESM bundles with source maps, X-Ray pass-through, own log group with retention', () => {
    for (const v of [plain, locked]) {
      expect(resources(v, 'AWS::Lambda::Function').length).toBeGreaterThanOrEqual(5);
      for (const key of ALL_FUNCTIONS) {
        const props = lambdaProps(v, key);
        expect(props).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'PassThrough' },
        });
        expect(envOf(v, key)).toMatchObject(POWERTOOLS);
        // Source maps at run time everywhere but the verifier (its cold start is on Facebook's clock).
        expect(envOf(v, key).NODE_OPTIONS).toBe(key === 'verifier' ? undefined : '--enable-source-maps');
        const logGroupId = props.LoggingConfig.LogGroup.Ref;
        expect(resource(v, logGroupId).Properties.RetentionInDays).toBe(30);
        expect(v.fn[key].role.node.defaultChild).toBeDefined();
        // Own role, no AWS managed policy (AWSLambdaBasicExecutionRole grants logs on every group).
        const role = resource(v, v.id(v.fn[key].role.node.defaultChild));
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    }
  });

  it('get only the environment each one reads (config.ts)', () => {
    const keys = (key: FunctionKey) =>
      Object.keys(envOf(plain, key))
        .filter((k) => !COMMON.includes(k))
        .sort();
    const graphCaller = ['APP_SECRET_NAME', 'GRAPH_API_VERSION', 'KMS_KEY_ID', 'TABLE_NAME'];
    expect(keys('verifier')).toEqual(['APP_SECRET_NAME', 'BLOB_BUCKET', 'EVENTS_QUEUE_URL']);
    expect(keys('processor')).toEqual([...graphCaller, 'BLOB_BUCKET'].sort());
    expect(keys('pageCommands')).toEqual(graphCaller);
    expect(keys('ops')).toEqual(
      [...graphCaller, 'PAGE_COMMANDS_QUEUE_URL', 'PAGE_OPS_CONCURRENCY', 'PAGE_OPS_FAN_OUT_ABOVE'].sort(),
    );
    expect(keys('admin')).toEqual(
      [
        ...graphCaller,
        'BLOB_BUCKET',
        'COMMAND_WAIT_MS',
        'EVENTS_DLQ_ARN',
        'EVENTS_DLQ_URL',
        'EVENTS_QUEUE_ARN',
        'HUMAN_AGENT_REPLIES',
        'PAGE_COMMANDS_DLQ_ARN',
        'PAGE_COMMANDS_DLQ_URL',
        'PAGE_COMMANDS_QUEUE_ARN',
        'PAGE_COMMANDS_QUEUE_URL',
        'PAGE_OPS_CONCURRENCY',
        'PAGE_OPS_FAN_OUT_ABOVE',
      ].sort(),
    );
    expect(envOf(plain, 'processor').GRAPH_API_VERSION).toBe('v24.0');
    expect(envOf(locked, 'processor').GRAPH_API_VERSION).toBe('v25.0');
    expect(envOf(plain, 'admin').HUMAN_AGENT_REPLIES).toBe('false');
  });

  it('read the app credentials from the secret at run time, never from environment values', () => {
    const secretId = plain.id(plain.stack.data.appSecret.node.defaultChild);
    for (const key of ALL_FUNCTIONS) {
      const env = envOf(plain, key);
      expect(JSON.stringify(env.APP_SECRET_NAME)).toContain(secretId);
      for (const name of Object.keys(env)) expect(name).not.toMatch(/^FB_|APP_SECRET$|VERIFY_TOKEN/);
    }
  });

  it('bundle the AWS SDK into minified ESM with a source map, at reasonable sizes', () => {
    const bundles = plain.assembly.bundles.filter((b) => b.runtime === 'nodejs24.x');
    expect(bundles.map((b) => b.name).sort()).toEqual([
      'Ingest/Verifier',
      'PageOperations/Admin',
      'PageOperations/Ops',
      'PageOperations/PageCommandsConsumer',
      'Processing/Processor',
    ]);
    for (const bundle of bundles) {
      expect(Object.keys(bundle.files).sort(), bundle.name).toEqual(['index.mjs', 'index.mjs.map']);
      expect(bundle.codeBytes, bundle.name).toBeGreaterThan(100 * 1024);
      expect(bundle.codeBytes, bundle.name).toBeLessThan(1.5 * 1024 * 1024);
      expect(bundle.files['index.mjs.map'], bundle.name).toBeLessThan(3 * 1024 * 1024);
    }
    const verifier = plain.fn.verifier.lambda.node.defaultChild as CfnElement;
    const key = plain.json.Resources[plain.id(verifier)].Properties.Code.S3Key as string;
    const code = readFileSync(join(plain.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs'), 'utf8');
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(code).toMatch(/sourceMappingURL=index\.mjs\.map/);
    // Minified: long lines (a readable bundle averages well under 100 characters a line).
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
  });

  it('keep the template well inside the CloudFormation limits', () => {
    for (const v of [plain, locked]) {
      expect(v.assembly.templateBytes).toBeLessThan(500 * 1024);
      expect(v.assembly.resourceCount).toBeLessThan(250);
    }
  });
});

// ---- queues --------------------------------------------------------------------------------------

describe('queues', () => {
  const queues = (v: Variant) => ({
    events: [v.stack.processing.eventsQueue, v.stack.processing.eventsDeadLetterQueue, 'processor'] as const,
    commands: [
      v.stack.pageOperations.commandsQueue,
      v.stack.pageOperations.commandsDeadLetterQueue,
      'pageCommands',
    ] as const,
  });

  it('are FIFO with sender dedup ids, high-throughput mode, SSE, a FIFO DLQ after 5 receives, redrive allowed', () => {
    for (const [queue, dlq, consumer] of Object.values(queues(plain))) {
      const queueId = plain.id(queue.node.defaultChild);
      const dlqId = plain.id(dlq.node.defaultChild);
      const props = resource(plain, queueId).Properties;
      expect(props).toMatchObject({
        FifoQueue: true,
        ContentBasedDeduplication: false,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: getAtt(dlqId), maxReceiveCount: 5 },
      });
      const consumerTimeout = lambdaProps(plain, consumer).Timeout as number;
      expect(props.VisibilityTimeout).toBeGreaterThanOrEqual(6 * consumerTimeout);
      expect(resource(plain, dlqId).Properties).toMatchObject({
        FifoQueue: true,
        SqsManagedSseEnabled: true,
        RedriveAllowPolicy: { redrivePermission: 'allowAll' },
      });
      for (const id of [queueId, dlqId]) {
        plain.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    }
  });

  it('feed their consumers in batches of 10 with partial batch responses and a concurrency cap', () => {
    const mappingOf = (v: Variant, key: FunctionKey) =>
      resources(v, 'AWS::Lambda::EventSourceMapping').find(
        ([, m]) => m.Properties.FunctionName.Ref === lambdaId(v, key),
      )?.[1].Properties;
    for (const [v, concurrency] of [
      [plain, 50],
      [locked, 200],
    ] as const) {
      const events = mappingOf(v, 'processor');
      expect(events).toMatchObject({
        EventSourceArn: getAtt(v.id(v.stack.processing.eventsQueue.node.defaultChild)),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: concurrency },
      });
      expect(events?.MaximumBatchingWindowInSeconds).toBeUndefined();
      expect(mappingOf(v, 'pageCommands')).toMatchObject({
        EventSourceArn: getAtt(v.id(v.stack.pageOperations.commandsQueue.node.defaultChild)),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });
});

// ---- data ----------------------------------------------------------------------------------------

describe('data', () => {
  it('is one DynamoDB table with exactly the keys and indexes of table-schema.ts', () => {
    const [[, table]] = resources(plain, 'AWS::DynamoDB::Table');
    const definition = tableDefinition('x');
    const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) =>
      String(a.AttributeName).localeCompare(String(b.AttributeName));
    expect([...table.Properties.AttributeDefinitions].sort(byName)).toEqual(
      [...(definition.AttributeDefinitions ?? [])].sort(byName),
    );
    expect(table.Properties.KeySchema).toEqual(definition.KeySchema);
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(definition.GlobalSecondaryIndexes);
    expect(table.Properties.LocalSecondaryIndexes).toEqual(definition.LocalSecondaryIndexes);
  });

  it('is on demand, with point-in-time recovery and deletion protection, retained', () => {
    const [[, table]] = resources(plain, 'AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it('seals tokens with a rotating KMS key that outlives the stack', () => {
    const [[, key]] = resources(plain, 'AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
  });

  it('keeps blobs in a private, encrypted, TLS-only, retained bucket; claim checks expire after 14 days, items never', () => {
    const template = plain.template;
    const blobsId = plain.id(plain.stack.data.blobBucket.node.defaultChild);
    const logsId = plain.id(plain.stack.data.blobAccessLogs.node.defaultChild);
    const privateBucket = {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    };
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        ...privateBucket,
        LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'blobs/' },
        LifecycleConfiguration: {
          Rules: [{ Id: 'ExpireClaimChecks', Prefix: 'claims/', ExpirationInDays: 14, Status: 'Enabled' }],
        },
      }),
    });
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        ...privateBucket,
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365 })] },
      }),
    });
    for (const bucketId of [blobsId, logsId]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
          ]),
        }),
      });
    }
    expect(resources(plain, 'AWS::S3::Bucket')).toHaveLength(2);
    // Only claim checks expire: item parts live as long as the messages they belong to.
    const rules = resource(plain, blobsId).Properties.LifecycleConfiguration.Rules as Json[];
    expect(rules.map((r) => r.Prefix)).toEqual(['claims/']);
  });

  it('creates the app secret as a JSON placeholder: appId, appSecret (empty: fail closed), a generated verifyToken', () => {
    const [[, secret]] = resources(plain, 'AWS::SecretsManager::Secret');
    const generate = secret.Properties.GenerateSecretString;
    expect(JSON.parse(generate.SecretStringTemplate)).toEqual({ appId: '', appSecret: '' });
    expect(generate.GenerateStringKey).toBe('verifyToken');
  });
});

// ---- least privilege ------------------------------------------------------------------------------

describe('permissions', () => {
  const tokenKeyArn = (v: Variant) => getAtt(v.id(v.stack.data.tokenKey.node.defaultChild));
  const kmsStatements = (v: Variant, key: FunctionKey) =>
    statementsOf(v, key).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));

  it('lets the verifier send to the events queue, read the secret and write claim checks, and nothing else', () => {
    const statements = statementsOf(plain, 'verifier');
    const logs = getAtt(plain.id(plain.fn.verifier.logGroup.node.defaultChild));
    expect(statements).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: logs },
      { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' },
      {
        Action: 'sqs:SendMessage',
        Effect: 'Allow',
        Resource: getAtt(plain.id(plain.stack.processing.eventsQueue.node.defaultChild)),
      },
      {
        Action: 'secretsmanager:GetSecretValue',
        Effect: 'Allow',
        Resource: { Ref: plain.id(plain.stack.data.appSecret.node.defaultChild) },
      },
      { Action: 's3:PutObject', Effect: 'Allow', Resource: blobObjects(plain, 'claims/*') },
    ]);
  });

  it('grants the blob bucket by prefix: claim checks to verifier and processor, item parts to processor and admin', () => {
    const s3Grants = (v: Variant, key: FunctionKey) =>
      statementsOf(v, key)
        .filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')))
        .map((st) => ({ actions: actionsOf(st).sort(), resource: st.Resource }));
    for (const v of [plain, locked]) {
      expect(s3Grants(v, 'verifier')).toEqual([
        { actions: ['s3:PutObject'], resource: blobObjects(v, 'claims/*') },
      ]);
      expect(s3Grants(v, 'processor')).toEqual([
        { actions: ['s3:GetObject'], resource: blobObjects(v, 'claims/*') },
        { actions: ['s3:GetObject', 's3:PutObject'], resource: blobObjects(v, 'items/*') },
      ]);
      expect(s3Grants(v, 'admin')).toEqual([
        { actions: ['s3:GetObject'], resource: blobObjects(v, 'items/*') },
      ]);
      expect(s3Grants(v, 'ops')).toEqual([]);
      expect(s3Grants(v, 'pageCommands')).toEqual([]);
    }
    // No bucket-wide grant anywhere, and nobody may delete or list.
    const text = JSON.stringify(resources(plain, 'AWS::IAM::Policy'));
    expect(text).not.toMatch(/"s3:(\*|DeleteObject|ListBucket|GetObject\*|PutObject\*)"/);
  });

  it('hands BLOB_BUCKET to the functions that use the bucket, naming it', () => {
    const bucket = { Ref: plain.id(plain.stack.data.blobBucket.node.defaultChild) };
    for (const key of ['verifier', 'processor', 'admin'] as const)
      expect(envOf(plain, key).BLOB_BUCKET).toEqual(bucket);
  });

  it('lets only the admin function encrypt, and every Graph caller decrypt, only with a pageId context', () => {
    const condition = {
      'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'pageId' },
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': 'pageId' },
    };
    for (const v of [plain, locked]) {
      for (const key of ALL_FUNCTIONS) {
        const statements = kmsStatements(v, key);
        const actions = statements.flatMap(actionsOf).sort();
        const expected =
          key === 'verifier' ? [] : key === 'admin' ? ['kms:Decrypt', 'kms:Encrypt'] : ['kms:Decrypt'];
        expect(actions, key).toEqual(expected);
        for (const s of statements) {
          expect(s.Condition, key).toEqual(condition);
          expect(s.Resource, key).toEqual(tokenKeyArn(v));
        }
      }
    }
    // The key policy itself grants nothing to the functions (identity policies only).
    const [[, key]] = resources(plain, 'AWS::KMS::Key');
    expect(JSON.stringify(key.Properties.KeyPolicy)).not.toContain('lambda');
  });

  it('grants the table by action and by name: no Scan, no Delete, no index wildcard', () => {
    const tableId = plain.id(plain.stack.data.table.node.defaultChild);
    for (const key of ['processor', 'admin', 'ops', 'pageCommands'] as const) {
      const statements = statementsOf(plain, key).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('dynamodb:')),
      );
      expect(statements.flatMap(actionsOf).sort(), key).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      const resourcesText = JSON.stringify(statements.map((s) => s.Resource));
      expect(resourcesText).toContain(tableId);
      expect(resourcesText).toContain('/index/byType');
      expect(resourcesText).toContain('/index/byTime');
      expect(resourcesText).not.toContain('/index/*');
    }
    expect(allActions(plain, 'verifier').some((a) => a.startsWith('dynamodb:'))).toBe(false);
  });

  it('lets admin and ops (only) send page commands; wildcards only where AWS has no resource-level permission', () => {
    const commandsArn = getAtt(plain.id(plain.stack.pageOperations.commandsQueue.node.defaultChild));
    const eventsArn = getAtt(plain.id(plain.stack.processing.eventsQueue.node.defaultChild));
    for (const key of ALL_FUNCTIONS) {
      const sends = statementsOf(plain, key).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
      if (key === 'ops') expect(sends.map((s) => s.Resource)).toEqual([commandsArn]);
      // The admin function also redrives dead letters, which sends to their queue (see below).
      // The admin function also redrives dead letters, which sends to their queue (see below).
      else if (key === 'admin') expect(sends.flatMap((s) => s.Resource)).toEqual([commandsArn, eventsArn]);
      else if (key !== 'verifier') expect(sends).toEqual([]);
    }
    for (const v of [plain, locked]) {
      for (const key of ALL_FUNCTIONS) {
        for (const s of statementsOf(v, key).filter((st) => JSON.stringify(st.Resource).includes('*'))) {
          // Blob objects are granted by key prefix (claims/*, items/*), tested above.
          const blobPrefix = [blobObjects(v, 'claims/*'), blobObjects(v, 'items/*')].some(
            (r) => JSON.stringify(r) === JSON.stringify(s.Resource),
          );
          for (const action of actionsOf(s))
            expect(action).toMatch(
              blobPrefix ? /^s3:(Get|Put)Object$/ : /^(xray:|ec2:.*(NetworkInterface|Subnets|PrivateIp))/,
            );
        }
      }
    }
  });

  it('lets only the admin function count and redrive each dead-letter queue, back to its own queue', () => {
    const v = plain;
    const arn = (q: { node: { defaultChild?: unknown } }) => getAtt(v.id(q.node.defaultChild));
    const url = (q: { node: { defaultChild?: unknown } }) => ({ Ref: v.id(q.node.defaultChild) });
    const { processing, pageOperations } = v.stack;
    const pairs = [
      ['EVENTS', processing.eventsQueue, processing.eventsDeadLetterQueue],
      ['PAGE_COMMANDS', pageOperations.commandsQueue, pageOperations.commandsDeadLetterQueue],
    ] as const;
    const env = envOf(v, 'admin');
    for (const [prefix, queue, dlq] of pairs) {
      expect(env[`${prefix}_DLQ_URL`]).toEqual(url(dlq));
      expect(env[`${prefix}_DLQ_ARN`]).toEqual(arn(dlq));
      expect(env[`${prefix}_QUEUE_ARN`]).toEqual(arn(queue));
    }
    // Every (action, resource) pair of the admin role's SQS statements, whatever way CDK merged them.
    const granted = statementsOf(v, 'admin')
      .flatMap((st) =>
        actionsOf(st)
          .filter((a) => a.startsWith('sqs:'))
          .flatMap((a) => [st.Resource].flat().map((r: Json) => `${a} ${JSON.stringify(r)}`)),
      )
      .sort();
    const onDeadLetterQueue = [
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ListMessageMoveTasks',
      'sqs:ReceiveMessage',
      'sqs:StartMessageMoveTask',
    ];
    const expected = pairs.flatMap(([, queue, dlq]) => [
      ...onDeadLetterQueue.map((a) => `${a} ${JSON.stringify(arn(dlq))}`),
      `sqs:SendMessage ${JSON.stringify(arn(queue))}`,
    ]);
    expect(granted).toEqual(expected.sort());
    for (const key of ALL_FUNCTIONS.filter((k) => k !== 'admin')) {
      expect(
        allActions(v, key).filter((a) => /MessageMoveTask/.test(a)),
        key,
      ).toEqual([]);
    }
    // Each dead-letter queue allows the move back to its source.
    for (const [, , dlq] of pairs) {
      expect(resource(v, v.id(dlq.node.defaultChild)).Properties.RedriveAllowPolicy).toEqual({
        redrivePermission: 'allowAll',
      });
    }
  });
});

// ---- page operations -----------------------------------------------------------------------------

describe('page operations', () => {
  it('runs the health check on the schedule through the ops function with check-and-repair', () => {
    for (const [v, schedule] of [
      [plain, 'rate(1 hour)'],
      [locked, 'rate(6 hours)'],
    ] as const) {
      const [[, rule]] = resources(v, 'AWS::Events::Rule');
      expect(rule.Properties.ScheduleExpression).toBe(schedule);
      expect(rule.Properties.State).toBe('ENABLED');
      const [target] = rule.Properties.Targets;
      expect(target.Arn).toEqual(getAtt(lambdaId(v, 'ops')));
      expect(JSON.parse(target.Input)).toEqual({ action: 'check-and-repair' });
      v.template.hasResourceProperties('AWS::Lambda::Permission', {
        FunctionName: getAtt(lambdaId(v, 'ops')),
        Principal: 'events.amazonaws.com',
      });
    }
  });

  it('gives the ops function time for a whole bulk run and the admin function less than API Gateway', () => {
    expect(lambdaProps(plain, 'ops').Timeout).toBe(900);
    expect(lambdaProps(plain, 'admin').Timeout).toBeLessThan(30);
  });
});

// ---- monitoring ------------------------------------------------------------------------------------

describe('monitoring', () => {
  const alarms = (v: Variant) => resources(v, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as Json);
  const topicId = (v: Variant) => v.id(v.stack.monitoring.alarmTopic.node.defaultChild);

  it('sends every alarm to the SNS topic, by e-mail only when alarmEmail is set', () => {
    for (const v of [plain, locked]) {
      for (const alarm of alarms(v)) expect(alarm.AlarmActions).toEqual([{ Ref: topicId(v) }]);
    }
    expect(resources(plain, 'AWS::SNS::Subscription')).toEqual([]);
    locked.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId(locked) },
    });
  });

  it('alarms on both DLQs, the age of the oldest event, and errors of each function', () => {
    const list = alarms(plain);
    for (const dlq of [
      plain.stack.processing.eventsDeadLetterQueue,
      plain.stack.pageOperations.commandsDeadLetterQueue,
    ]) {
      expect(
        list.some(
          (a) =>
            a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
            JSON.stringify(a.Dimensions).includes(plain.id(dlq.node.defaultChild)) &&
            a.Threshold === 1,
        ),
      ).toBe(true);
    }
    const age = list.find((a) => a.MetricName === 'ApproximateAgeOfOldestMessage');
    expect(JSON.stringify(age?.Dimensions)).toContain(
      plain.id(plain.stack.processing.eventsQueue.node.defaultChild),
    );
    for (const key of ALL_FUNCTIONS) {
      expect(
        list.some(
          (a) =>
            a.MetricName === 'Errors' &&
            a.Namespace === 'AWS/Lambda' &&
            JSON.stringify(a.Dimensions).includes(lambdaId(plain, key)),
        ),
        key,
      ).toBe(true);
    }
  });

  it('alarms on pages needing reauth, failed subscription repairs and quarantined events, on the dimension Powertools publishes', () => {
    for (const metric of ['PagesReauthRequired', 'SubscriptionRepairsFailed', 'EventsQuarantined']) {
      plain.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Pagewire',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: 'pagewire' }],
        Statistic: 'Sum',
        Threshold: 1,
      });
    }
    for (const key of ALL_FUNCTIONS) expect(envOf(plain, key).POWERTOOLS_SERVICE_NAME).toBe('pagewire');
  });

  it('draws the dashboard: webhook flow, queue age, dead letters, reauth, Graph errors by class, retries', () => {
    const [[, dashboard]] = resources(plain, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of [
      'WebhooksReceived',
      'EventsQueued',
      'EventsStored',
      'DuplicatesDropped',
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesVisible',
      'EventsQuarantined',
      'PagesReauthRequired',
      'GraphErrors_auth',
      'GraphErrors_throttle',
      'GraphErrors_transient',
      'GraphErrors_permanent',
      'GraphRetries',
    ]) {
      expect(body, metric).toContain(metric);
    }
  });
});

// ---- outputs -----------------------------------------------------------------------------------------

describe('outputs', () => {
  it('print the webhook URL, admin API URL, secret name, ops function, dashboard and function names', () => {
    const outputs = plain.json.Outputs as Record<string, Json>;
    for (const name of [
      'WebhookUrl',
      'AdminApiUrl',
      'AppSecretName',
      'OpsFunctionName',
      'DashboardName',
      'VerifierFunctionName',
      'ProcessorFunctionName',
      'AdminFunctionName',
      'PageCommandsFunctionName',
      'AdminInvokePolicyArn',
      'AlarmTopicArn',
    ]) {
      expect(outputs[name], name).toBeDefined();
    }
    expect(JSON.stringify(outputs.WebhookUrl.Value)).toContain('/webhooks/facebook');
    expect(outputs.OpsFunctionName.Value).toEqual({ Ref: lambdaId(plain, 'ops') });
  });
});

// ---- the lock option ------------------------------------------------------------------------------------

describe('conversation lock', () => {
  it('does not exist without -c lock=redis: no VPC, no cache, processor outside a VPC', () => {
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::EC2::NatGateway',
      'AWS::EC2::SecurityGroup',
      'AWS::ElastiCache::ServerlessCache',
    ]) {
      expect(resources(plain, type), type).toEqual([]);
    }
    expect(lambdaProps(plain, 'processor').VpcConfig).toBeUndefined();
    expect(envOf(plain, 'processor').LOCK_REDIS_URL).toBeUndefined();
  });

  it('adds a VPC with private subnets behind the configured number of NAT gateways, with flow logs', () => {
    expect(resources(locked, 'AWS::EC2::VPC')).toHaveLength(1);
    expect(resources(locked, 'AWS::EC2::NatGateway')).toHaveLength(2);
    expect(resources(locked, 'AWS::EC2::FlowLog')).toHaveLength(1);
    const privateSubnets = locked.stack.lock?.vpc.privateSubnets ?? [];
    expect(privateSubnets.length).toBe(2);
    for (const subnet of privateSubnets) {
      const routes = resources(locked, 'AWS::EC2::Route').filter(
        ([, r]) => r.Properties.RouteTableId.Ref === locked.id(subnet.node.findChild('RouteTable')),
      );
      expect(routes.some(([, r]) => r.Properties.NatGatewayId)).toBe(true);
    }
  });

  it('runs ElastiCache Serverless Valkey in the private subnets, reachable on 6379 from the processor only', () => {
    const lock = locked.stack.lock;
    if (!lock) throw new Error('no lock in the lock variant');
    const [[cacheId, cache]] = resources(locked, 'AWS::ElastiCache::ServerlessCache');
    const cacheSg = locked.id(lock.cacheSecurityGroup.node.defaultChild);
    const processorSg = locked.id(lock.clientSecurityGroup.node.defaultChild);
    expect(cache.Properties).toMatchObject({
      Engine: 'valkey',
      SecurityGroupIds: [getAtt(cacheSg, 'GroupId')],
      SubnetIds: lock.vpc.privateSubnets.map((s) => ({ Ref: locked.id(s.node.defaultChild) })),
    });
    const ingress = [
      ...resources(locked, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties),
      ...(resource(locked, cacheSg).Properties.SecurityGroupIngress ?? []),
    ].filter((r: Json) => JSON.stringify(r.GroupId ?? getAtt(cacheSg, 'GroupId')).includes(cacheSg));
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 6379,
        ToPort: 6379,
        SourceSecurityGroupId: getAtt(processorSg, 'GroupId'),
      }),
    ]);
    expect(resource(locked, cacheSg).Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' }),
    ]);

    const processor = lambdaProps(locked, 'processor');
    expect(processor.VpcConfig.SecurityGroupIds).toEqual([getAtt(processorSg, 'GroupId')]);
    expect(processor.VpcConfig.SubnetIds).toEqual(
      lock.vpc.privateSubnets.map((s) => ({ Ref: locked.id(s.node.defaultChild) })),
    );
    expect(envOf(locked, 'processor').LOCK_REDIS_URL).toEqual({
      'Fn::Join': ['', ['rediss://', getAtt(cacheId, 'Endpoint.Address'), ':6379']],
    });
    // Only the processor is in the VPC and knows the lock.
    for (const key of ['verifier', 'admin', 'ops', 'pageCommands'] as const) {
      expect(lambdaProps(locked, key).VpcConfig, key).toBeUndefined();
      expect(envOf(locked, key).LOCK_REDIS_URL, key).toBeUndefined();
    }
  });
});
