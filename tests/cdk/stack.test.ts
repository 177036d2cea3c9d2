/**
 * The CDK stack (issue 4), asserted with aws-cdk-lib/assertions (`Template`, `Match`) on the synthesized
 * templates. Two variants (no lock; `lock=redis` with every other context key set too) are synthesized
 * in this process WITHOUT bundling (`aws:cdk:bundling-stacks: []`): fast, and they keep the construct
 * tree, so assertions name resources by the logical ids of the constructs. The bundle assertions read the
 * run's synth of the plain variant WITH bundling (testkit/plain-synth.ts), shared with the bundle test:
 * made once, in a child process started by the globalSetup, in parallel with the in-process synths.
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
import { first, present } from '#testkit/pick';
import { plainSynth } from '#testkit/plain-synth';
import { readAssemblyReport, type StackReport } from '../../lib/assembly-report.js';
import { createPagewireApp, STACK_NAME } from '../../lib/pagewire-app.js';
import type { PagewireFunction } from '../../lib/pagewire-function.js';
import type { PagewireStack } from '../../lib/pagewire-stack.js';
import { settingsFromContext } from '../../lib/settings.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON, read freely by the assertions
type Json = Record<string, any>;
type FunctionKey = 'verifier' | 'processor' | 'admin' | 'ops' | 'pageCommands' | 'connect';

interface Variant {
  stack: PagewireStack;
  template: Template;
  assembly: StackReport;
  validationReport: Json;
  nagViolations: unknown[];
  /** Logical ids, so assertions name resources the way the template does. */
  id: (element: unknown) => string;
  fn: Record<FunctionKey, PagewireFunction>;
}

/** The plain variant synthesized with bundling (the run's shared synth). */
interface Bundled {
  outdir: string;
  template: Template;
  assembly: StackReport;
}

const outdirs: string[] = [];
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  outdirs.push(dir);
  return dir;
}

function synthesize(context: Record<string, unknown>): Variant {
  const outdir = tempDir('pagewire-cdk-');
  const { app, stack } = createPagewireApp({
    outdir,
    context: { ...cdkJson.context, ...NO_BUNDLING, ...context },
  });
  // The nag plugin runs inside synth: an unacknowledged finding throws here.
  app.synth();
  const nag = new AwsSolutionsChecks(app).validateScope(app);
  return {
    stack,
    template: Template.fromStack(stack),
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
      connect: stack.connectLogin.fn,
    },
  };
}

async function readBundled(): Promise<Bundled> {
  const outdir = await plainSynth();
  const assembly = readAssemblyReport(outdir).find((r) => r.stackName === STACK_NAME) as StackReport;
  return {
    outdir,
    assembly,
    template: Template.fromJSON(JSON.parse(readFileSync(assembly.templateFile, 'utf8'))),
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
let bundled: Bundled;

beforeAll(async () => {
  plain = synthesize({});
  locked = synthesize(LOCK_CONTEXT);
  bundled = await readBundled();
}, 180_000);

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

// ---- helpers over the template -----------------------------------------------------------------

/** Every resource of a type, by logical id (optionally those matching `props`, as `findResources` takes it). */
const resources = (v: Variant, type: string, props?: Json): Record<string, Json> =>
  v.template.findResources(type, props);

/** The one resource of `type` with this logical id. */
function resource(v: Variant, type: string, logicalId: string): Json {
  const found = resources(v, type)[logicalId];
  expect(found, `${type} ${logicalId}`).toBeDefined();
  return present(found, `${type} ${logicalId}`);
}

/** The only resource of `type` (the test fails if there are more). */
function only(v: Variant, type: string): [string, Json] {
  v.template.resourceCountIs(type, 1);
  return Object.entries(resources(v, type))[0] as [string, Json];
}

const lambdaId = (v: Variant, key: FunctionKey) => v.id(v.fn[key].lambda.node.defaultChild);
const roleId = (v: Variant, key: FunctionKey) => v.id(v.fn[key].role.node.defaultChild);
const lambdaProps = (v: Variant, key: FunctionKey): Json =>
  resource(v, 'AWS::Lambda::Function', lambdaId(v, key)).Properties;
const envOf = (v: Variant, key: FunctionKey): Json => lambdaProps(v, key).Environment.Variables;
const idOf = (v: Variant, construct: { node: { defaultChild?: unknown } }) =>
  v.id(construct.node.defaultChild);

/** Every statement of the policies attached to the function's role. */
function statementsOf(v: Variant, key: FunctionKey): Json[] {
  const policies = resources(v, 'AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId(v, key) }]) },
  });
  // The media bucket's grants (sid MediaCopies) are tested in tests/cdk/media.test.ts.
  return Object.values(policies)
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
    .filter((st) => st.Sid !== 'MediaCopies');
}

const actionsOf = (statement: Json): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

const allActions = (v: Variant, key: FunctionKey) => statementsOf(v, key).flatMap(actionsOf).sort();

const getAtt = (logicalId: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attribute] });

const ALL_FUNCTIONS: FunctionKey[] = ['verifier', 'processor', 'admin', 'ops', 'pageCommands', 'connect'];

/** The ARN pattern of the blob bucket's objects under `prefix` (e.g. `claims/*`), as the template writes it. */
const blobObjects = (v: Variant, pattern: string) => ({
  'Fn::Join': ['', [getAtt(idOf(v, v.stack.data.blobBucket)), `/${pattern}`]],
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
        'AwsSolutions-IAM5[Resource::<…>/media/*]',
        'AwsSolutions-IAM5[Resource::arn:<…>:execute-api:<…>:<…>:<…>/$default/*/admin/*]',
        'AwsSolutions-S1',
        'AwsSolutions-SMG4',
      ]);
    }
  });
});

// ---- HTTP API ------------------------------------------------------------------------------------

describe('HTTP API', () => {
  /** The route with this key goes to `fn` (through an integration whose URI is the function's ARN). */
  const expectRoute = (v: Variant, routeKey: string, fn: FunctionKey, authorization: string) => {
    const integrations = Object.keys(
      resources(v, 'AWS::ApiGatewayV2::Integration', {
        Properties: { IntegrationUri: getAtt(lambdaId(v, fn)) },
      }),
    );
    expect(integrations.length, fn).toBeGreaterThan(0);
    v.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: routeKey,
      AuthorizationType: authorization,
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: Match.anyValue() }]] },
    });
    const route = first(
      Object.values(resources(v, 'AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } })),
      `route ${routeKey}`,
    );
    expect(integrations, routeKey).toContain(route.Properties.Target['Fn::Join']?.[1]?.[1]?.Ref);
  };
  const routeKeys = (v: Variant) =>
    Object.values(resources(v, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey as string);
  const stageOf = (v: Variant) => only(v, 'AWS::ApiGatewayV2::Stage')[1];

  it('routes the webhook and /health publicly to the verifier', () => {
    for (const key of ['GET /webhooks/facebook', 'POST /webhooks/facebook', 'GET /health'])
      expectRoute(plain, key, 'verifier', 'NONE');
  });

  it('routes Facebook Login publicly to the connect function (SPEC §12)', () => {
    for (const key of [
      'GET /connect/facebook',
      'GET /connect/facebook/callback',
      'POST /connect/facebook/callback',
    ])
      expectRoute(plain, key, 'connect', 'NONE');
  });

  it('puts every /admin/{proxy+} route behind IAM, to the admin function, and nothing else under /admin', () => {
    expectRoute(plain, 'ANY /admin/{proxy+}', 'admin', 'AWS_IAM');
    plain.template.resourceCountIs('AWS::ApiGatewayV2::Route', 7);
    expect(routeKeys(plain).sort()).toEqual([
      'ANY /admin/{proxy+}',
      'GET /connect/facebook',
      'GET /connect/facebook/callback',
      'GET /health',
      'GET /webhooks/facebook',
      'POST /connect/facebook/callback',
      'POST /webhooks/facebook',
    ]);
    // Exactly these go without an authorizer: Meta's webhook, /health and Facebook Login's routes.
    const open = Object.values(resources(plain, 'AWS::ApiGatewayV2::Route'))
      .filter((r) => r.Properties.AuthorizationType !== 'AWS_IAM')
      .map((r) => r.Properties.RouteKey)
      .sort();
    expect(open).toEqual([
      'GET /connect/facebook',
      'GET /connect/facebook/callback',
      'GET /health',
      'GET /webhooks/facebook',
      'POST /connect/facebook/callback',
      'POST /webhooks/facebook',
    ]);
    plain.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: getAtt(lambdaId(plain, 'admin')),
      Principal: 'apigateway.amazonaws.com',
    });
  });

  it('throttles the $default stage and writes JSON access logs to a log group with retention', () => {
    plain.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 }),
    });
    const settings = stageOf(plain).Properties.AccessLogSettings;
    const logGroupId = settings.DestinationArn['Fn::GetAtt'][0];
    expect(resource(plain, 'AWS::Logs::LogGroup', logGroupId).Properties.RetentionInDays).toBeGreaterThan(0);
    const format = JSON.parse(settings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey' });
    expect(JSON.stringify(format)).not.toContain('querystring');
  });

  it('throttles each route on its own: Meta’s webhook POST sized from context, the rest small and apart', () => {
    const limits = (rate: number, burst: number) => ({
      ThrottlingRateLimit: rate,
      ThrottlingBurstLimit: burst,
    });
    const expected = {
      'GET /webhooks/facebook': limits(5, 10),
      'GET /health': limits(10, 20),
      'ANY /admin/{proxy+}': limits(50, 100),
      'GET /connect/facebook': limits(5, 10),
      'GET /connect/facebook/callback': limits(5, 10),
      'POST /connect/facebook/callback': limits(5, 10),
    };
    plain.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.exact({ 'POST /webhooks/facebook': limits(1000, 2000), ...expected }),
    });
    locked.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.exact({ 'POST /webhooks/facebook': limits(300, 600), ...expected }),
    });
    // Every route has its own limits, and the stage is created after the routes it names (CloudFormation
    // refuses settings for a route key it cannot find).
    expect(Object.keys(stageOf(plain).Properties.RouteSettings).sort()).toEqual(routeKeys(plain).sort());
    for (const routeId of Object.keys(resources(plain, 'AWS::ApiGatewayV2::Route')))
      plain.template.hasResource('AWS::ApiGatewayV2::Stage', { DependsOn: Match.arrayWith([routeId]) });
  });

  it('offers a managed policy that may invoke /admin/* only', () => {
    const [, policy] = only(plain, 'AWS::IAM::ManagedPolicy');
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
      expect(Object.keys(resources(v, 'AWS::Lambda::Function')).length).toBeGreaterThanOrEqual(5);
      for (const key of ALL_FUNCTIONS) {
        const logGroupId = idOf(v, v.fn[key].logGroup);
        // Each function has its own role: matching on it pins the assertion to this function.
        v.template.hasResourceProperties('AWS::Lambda::Function', {
          Role: getAtt(roleId(v, key)),
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'PassThrough' },
          LoggingConfig: Match.objectLike({ LogGroup: { Ref: logGroupId } }),
          Environment: {
            Variables: Match.objectLike({
              ...POWERTOOLS,
              // Source maps at run time everywhere but the verifier (its cold start is on Facebook's clock).
              NODE_OPTIONS: key === 'verifier' ? Match.absent() : '--enable-source-maps',
            }),
          },
        });
        expect(resource(v, 'AWS::Logs::LogGroup', logGroupId).Properties.RetentionInDays).toBe(30);
        // Own role, no AWS managed policy (AWSLambdaBasicExecutionRole grants logs on every group).
        expect(resource(v, 'AWS::IAM::Role', roleId(v, key)).Properties.ManagedPolicyArns).toBeUndefined();
      }
    }
  });

  it('get only the environment each one reads (config.ts)', () => {
    const keys = (key: FunctionKey) =>
      Object.keys(envOf(plain, key))
        .filter((k) => !COMMON.includes(k))
        .sort();
    // EVENT_BUS_NAME: the functions that call Graph are also the ones that publish events (lib/events.ts).
    const graphCaller = [
      'APP_SECRET_NAME',
      'EVENT_BUS_NAME',
      'GRAPH_API_VERSION',
      'KMS_KEY_ID',
      'TABLE_NAME',
    ];
    expect(keys('verifier')).toEqual(['APP_SECRET_NAME', 'BLOB_BUCKET', 'EVENTS_QUEUE_URL']);
    expect(keys('processor')).toEqual(
      [...graphCaller, 'BLOB_BUCKET', 'MEDIA_BUCKET', 'MEDIA_QUEUE_URL'].sort(),
    );
    expect(keys('pageCommands')).toEqual(graphCaller);
    expect(keys('ops')).toEqual(
      [
        ...graphCaller,
        'PAGE_COMMANDS_QUEUE_URL',
        'PAGE_OPS_CONCURRENCY',
        'PAGE_OPS_FAN_OUT_ABOVE',
        'WEBHOOK_URL',
      ].sort(),
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
        'MEDIA_BUCKET',
        'PAGE_COMMANDS_DLQ_ARN',
        'PAGE_COMMANDS_DLQ_URL',
        'PAGE_COMMANDS_QUEUE_ARN',
        'PAGE_COMMANDS_QUEUE_URL',
        'PAGE_OPS_CONCURRENCY',
        'PAGE_OPS_FAN_OUT_ABOVE',
        'WEBHOOK_URL',
        'PUBLIC_BASE_URL',
      ].sort(),
    );
    expect(keys('connect')).toEqual(
      [...graphCaller, 'COMMAND_WAIT_MS', 'PAGE_COMMANDS_QUEUE_URL', 'PUBLIC_BASE_URL'].sort(),
    );
    // Links and the redirect_uri are built on the API's own URL.
    expect(JSON.stringify(envOf(plain, 'connect').PUBLIC_BASE_URL)).toContain(
      idOf(plain, plain.stack.ingest.api),
    );
    const env = (v: Variant, key: FunctionKey, variables: Json) =>
      v.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: getAtt(roleId(v, key)),
        Environment: { Variables: Match.objectLike(variables) },
      });
    env(plain, 'processor', { GRAPH_API_VERSION: 'v24.0' });
    env(locked, 'processor', { GRAPH_API_VERSION: 'v25.0' });
    env(plain, 'admin', { HUMAN_AGENT_REPLIES: 'false' });
  });

  it("give the admin and ops functions this stack's webhook URL (the API's URL + the webhook path)", () => {
    const apiId = idOf(plain, plain.stack.ingest.api);
    const output = plain.template.findOutputs('WebhookUrl').WebhookUrl?.Value;
    // The API's endpoint (`https://{api id}.execute-api.{region}.amazonaws.com`, resolved at deploy) + the path.
    expect(output).toEqual({ 'Fn::Join': ['', [getAtt(apiId, 'ApiEndpoint'), '/webhooks/facebook']] });
    for (const key of ['admin', 'ops'] as const) expect(envOf(plain, key).WEBHOOK_URL).toEqual(output);
  });

  it('read the app credentials from the secret at run time, never from environment values', () => {
    const secretId = idOf(plain, plain.stack.data.appSecret);
    for (const key of ALL_FUNCTIONS) {
      const env = envOf(plain, key);
      expect(JSON.stringify(env.APP_SECRET_NAME)).toContain(secretId);
      for (const name of Object.keys(env)) expect(name).not.toMatch(/^FB_|APP_SECRET$|VERIFY_TOKEN/);
    }
  });

  it('bundle the AWS SDK into minified ESM with a source map, at reasonable sizes', () => {
    const bundles = bundled.assembly.bundles.filter((b) => b.runtime === 'nodejs24.x');
    expect(bundles.map((b) => b.name).sort()).toEqual([
      'ConnectLogin/Connect',
      'Ingest/Verifier',
      'Media/Worker',
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
    // Logical ids are the same in every synth of the app (pinned below), so the in-process tree names it.
    const verifier = present(
      bundled.template.findResources('AWS::Lambda::Function')[lambdaId(plain, 'verifier')],
      'verifier',
    );
    const key = verifier.Properties.Code.S3Key as string;
    const code = readFileSync(
      join(bundled.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs'),
      'utf8',
    );
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(code).toMatch(/sourceMappingURL=index\.mjs\.map/);
    // Minified: long lines (a readable bundle averages well under 100 characters a line).
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
  });

  it('keep the template well inside the CloudFormation limits', () => {
    for (const assembly of [plain.assembly, locked.assembly, bundled.assembly]) {
      expect(assembly.templateBytes).toBeLessThan(500 * 1024);
      expect(assembly.resourceCount).toBeLessThan(250);
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
      const queueId = idOf(plain, queue);
      const dlqId = idOf(plain, dlq);
      expect(resource(plain, 'AWS::SQS::Queue', queueId).Properties).toMatchObject({
        FifoQueue: true,
        ContentBasedDeduplication: false,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: getAtt(dlqId), maxReceiveCount: 5 },
      });
      const consumerTimeout = lambdaProps(plain, consumer).Timeout as number;
      const visibility = resource(plain, 'AWS::SQS::Queue', queueId).Properties.VisibilityTimeout;
      expect(visibility).toBeGreaterThanOrEqual(6 * consumerTimeout);
      expect(resource(plain, 'AWS::SQS::Queue', dlqId).Properties).toMatchObject({
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
    for (const [v, concurrency] of [
      [plain, 50],
      [locked, 200],
    ] as const) {
      v.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: lambdaId(v, 'processor') },
        EventSourceArn: getAtt(idOf(v, v.stack.processing.eventsQueue)),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: concurrency },
        MaximumBatchingWindowInSeconds: Match.absent(),
      });
      v.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: lambdaId(v, 'pageCommands') },
        EventSourceArn: getAtt(idOf(v, v.stack.pageOperations.commandsQueue)),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });
});

// ---- data ----------------------------------------------------------------------------------------

describe('data', () => {
  it('is one DynamoDB table with exactly the keys and indexes of table-schema.ts', () => {
    const [, table] = only(plain, 'AWS::DynamoDB::Table');
    const definition = tableDefinition('x');
    const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) =>
      String(a.AttributeName).localeCompare(String(b.AttributeName));
    // Attribute definitions in any order; keys and indexes exactly.
    expect([...table.Properties.AttributeDefinitions].sort(byName)).toEqual(
      [...(definition.AttributeDefinitions ?? [])].sort(byName),
    );
    plain.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: Match.exact(definition.KeySchema),
      GlobalSecondaryIndexes: definition.GlobalSecondaryIndexes
        ? Match.exact(definition.GlobalSecondaryIndexes)
        : Match.absent(),
      LocalSecondaryIndexes: definition.LocalSecondaryIndexes
        ? Match.exact(definition.LocalSecondaryIndexes)
        : Match.absent(),
    });
  });

  it('is on demand, with point-in-time recovery and deletion protection, retained', () => {
    plain.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    plain.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('seals tokens with a rotating KMS key that outlives the stack', () => {
    plain.template.resourceCountIs('AWS::KMS::Key', 1);
    plain.template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ EnableKeyRotation: true }),
      DeletionPolicy: 'Retain',
    });
  });

  it('keeps blobs in a private, encrypted, TLS-only, retained bucket; claim checks expire after 14 days, items never', () => {
    const template = plain.template;
    const blobsId = idOf(plain, plain.stack.data.blobBucket);
    const logsId = idOf(plain, plain.stack.data.blobAccessLogs);
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
    // The third is the media bucket (tests/cdk/media.test.ts).
    template.resourceCountIs('AWS::S3::Bucket', 3);
    // Only claim checks expire: item parts live as long as the messages they belong to.
    const rules = resource(plain, 'AWS::S3::Bucket', blobsId).Properties.LifecycleConfiguration
      .Rules as Json[];
    expect(rules.map((r) => r.Prefix)).toEqual(['claims/']);
  });

  it('creates the app secret as a JSON placeholder: appId, appSecret (empty: fail closed), a generated verifyToken', () => {
    const [, secret] = only(plain, 'AWS::SecretsManager::Secret');
    plain.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: Match.serializedJson({ appId: '', appSecret: '' }),
        GenerateStringKey: 'verifyToken',
      }),
    });
    expect(secret.Properties.SecretString).toBeUndefined();
  });
});

// ---- least privilege ------------------------------------------------------------------------------

describe('permissions', () => {
  const tokenKeyArn = (v: Variant) => getAtt(idOf(v, v.stack.data.tokenKey));
  const kmsStatements = (v: Variant, key: FunctionKey) =>
    statementsOf(v, key).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));

  it('lets the verifier send to the events queue, read the secret and write claim checks, and nothing else', () => {
    const statements = statementsOf(plain, 'verifier');
    const logs = getAtt(idOf(plain, plain.fn.verifier.logGroup));
    expect(statements).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: logs },
      { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' },
      {
        Action: 'sqs:SendMessage',
        Effect: 'Allow',
        Resource: getAtt(idOf(plain, plain.stack.processing.eventsQueue)),
      },
      {
        Action: 'secretsmanager:GetSecretValue',
        Effect: 'Allow',
        Resource: { Ref: idOf(plain, plain.stack.data.appSecret) },
      },
      { Action: 's3:PutObject', Effect: 'Allow', Resource: blobObjects(plain, 'claims/*') },
    ]);
  });

  it('grants the blob bucket by prefix: claim checks to verifier and processor, item parts to processor and admin', () => {
    const s3Grants = (v: Variant, key: FunctionKey) =>
      statementsOf(v, key)
        .filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')))
        .filter((st) => JSON.stringify(st.Resource).includes(idOf(v, v.stack.data.blobBucket)))
        .map((st) => ({ actions: actionsOf(st).sort(), resource: st.Resource, condition: st.Condition }));
    for (const v of [plain, locked]) {
      expect(s3Grants(v, 'verifier')).toEqual([
        { actions: ['s3:PutObject'], resource: blobObjects(v, 'claims/*') },
      ]);
      // ListBucket (keys only) for the readers, only under the prefix each reads: S3 then answers a
      // missing blob 404, not 403.
      const list = (prefix: string) => ({
        actions: ['s3:ListBucket'],
        resource: getAtt(idOf(v, v.stack.data.blobBucket)),
        condition: { StringLike: { 's3:prefix': prefix } },
      });
      expect(s3Grants(v, 'processor')).toEqual([
        { actions: ['s3:GetObject'], resource: blobObjects(v, 'claims/*') },
        list('claims/*'),
        { actions: ['s3:GetObject', 's3:PutObject'], resource: blobObjects(v, 'items/*') },
        list('items/*'),
      ]);
      expect(s3Grants(v, 'admin')).toEqual([
        { actions: ['s3:GetObject'], resource: blobObjects(v, 'items/*') },
        list('items/*'),
      ]);
      expect(s3Grants(v, 'ops')).toEqual([]);
      expect(s3Grants(v, 'pageCommands')).toEqual([]);
    }
    // No wildcard action anywhere, and nobody may delete a blob (only an unsent message's media copies).
    const policies = Object.values(plain.template.findResources('AWS::IAM::Policy'));
    const text = JSON.stringify(policies);
    expect(text).not.toMatch(/"s3:(\*|GetObject\*|PutObject\*)"/);
    const deletes = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((st) => actionsOf(st).includes('s3:DeleteObject'));
    expect(deletes.map((st) => JSON.stringify(st.Resource))).toEqual([
      expect.stringContaining(idOf(plain, plain.stack.media.bucket)),
    ]);
  });

  it('hands BLOB_BUCKET to the functions that use the bucket, naming it', () => {
    const bucket = { Ref: idOf(plain, plain.stack.data.blobBucket) };
    for (const key of ['verifier', 'processor', 'admin'] as const)
      plain.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: getAtt(roleId(plain, key)),
        Environment: { Variables: Match.objectLike({ BLOB_BUCKET: bucket }) },
      });
  });

  it('lets only the admin and connect functions encrypt, every Graph caller decrypt, only with a pageId context; a login link’s user token only the connect function', () => {
    const exactlyPageId = {
      'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'pageId' },
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': 'pageId' },
    };
    const pages = { ...exactlyPageId, StringNotLike: { 'kms:EncryptionContext:pageId': 'link-*' } };
    const links = { ...exactlyPageId, StringLike: { 'kms:EncryptionContext:pageId': 'link-*' } };
    for (const v of [plain, locked]) {
      for (const key of ALL_FUNCTIONS) {
        const statements = kmsStatements(v, key).map((s) => ({
          actions: actionsOf(s).sort(),
          condition: s.Condition,
          resource: s.Resource,
        }));
        const grant = (actions: string[], condition: unknown) => ({
          actions,
          condition,
          resource: tokenKeyArn(v),
        });
        const expected =
          key === 'verifier'
            ? []
            : key === 'admin'
              ? [grant(['kms:Decrypt', 'kms:Encrypt'], pages)]
              : key === 'connect'
                ? [grant(['kms:Encrypt'], pages), grant(['kms:Decrypt', 'kms:Encrypt'], links)]
                : [grant(['kms:Decrypt'], pages)];
        expect(statements, key).toEqual(expect.arrayContaining(expected));
        expect(statements, key).toHaveLength(expected.length);
      }
    }
    // The key policy itself grants nothing to the functions (identity policies only).
    const [, key] = only(plain, 'AWS::KMS::Key');
    expect(JSON.stringify(key.Properties.KeyPolicy)).not.toContain('lambda');
  });

  it('grants the table by action and by name: no Scan, no Delete, no index wildcard', () => {
    const tableId = idOf(plain, plain.stack.data.table);
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

  it('lets admin, ops and connect (only) send page commands; wildcards only where AWS has no resource-level permission', () => {
    const commandsArn = getAtt(idOf(plain, plain.stack.pageOperations.commandsQueue));
    const mediaArn = getAtt(idOf(plain, plain.stack.media.queue));
    const eventsArn = getAtt(idOf(plain, plain.stack.processing.eventsQueue));
    for (const key of ALL_FUNCTIONS) {
      const sends = statementsOf(plain, key).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
      if (key === 'ops' || key === 'connect') expect(sends.map((s) => s.Resource)).toEqual([commandsArn]);
      // The admin function also redrives dead letters, which sends to their queue (see below).
      else if (key === 'admin') expect(sends.flatMap((s) => s.Resource)).toEqual([commandsArn, eventsArn]);
      // The processor queues attachment copies (SPEC §10).
      else if (key === 'processor') expect(sends.map((s) => s.Resource)).toEqual([mediaArn]);
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
    const arn = (q: { node: { defaultChild?: unknown } }) => getAtt(idOf(v, q));
    const url = (q: { node: { defaultChild?: unknown } }) => ({ Ref: idOf(v, q) });
    const { processing, pageOperations } = v.stack;
    const pairs = [
      ['EVENTS', processing.eventsQueue, processing.eventsDeadLetterQueue],
      ['PAGE_COMMANDS', pageOperations.commandsQueue, pageOperations.commandsDeadLetterQueue],
    ] as const;
    for (const [prefix, queue, dlq] of pairs) {
      v.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: getAtt(roleId(v, 'admin')),
        Environment: {
          Variables: Match.objectLike({
            [`${prefix}_DLQ_URL`]: url(dlq),
            [`${prefix}_DLQ_ARN`]: arn(dlq),
            [`${prefix}_QUEUE_ARN`]: arn(queue),
          }),
        },
      });
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
      expect(resource(v, 'AWS::SQS::Queue', idOf(v, dlq)).Properties.RedriveAllowPolicy).toEqual({
        redrivePermission: 'allowAll',
      });
    }
  });
});

// ---- page operations -----------------------------------------------------------------------------

describe('page operations', () => {
  it('runs the health check on the schedule through the ops function: the doctor, repairing', () => {
    for (const [v, schedule] of [
      [plain, 'rate(1 hour)'],
      [locked, 'rate(6 hours)'],
    ] as const) {
      // One schedule; the event bus's rules are tests/cdk/events.test.ts's.
      const schedules = v.template.findResources('AWS::Events::Rule', {
        Properties: { ScheduleExpression: Match.anyValue() },
      });
      expect(Object.keys(schedules)).toHaveLength(1);
      v.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: schedule,
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: getAtt(lambdaId(v, 'ops')),
            Input: Match.serializedJson({ action: 'doctor' }),
          }),
        ],
      });
      v.template.hasResourceProperties('AWS::Lambda::Permission', {
        FunctionName: getAtt(lambdaId(v, 'ops')),
        Principal: 'events.amazonaws.com',
      });
    }
  });

  it('gives the ops function time for a whole bulk run and the admin function less than API Gateway', () => {
    plain.template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(roleId(plain, 'ops')),
      Timeout: 900,
    });
    expect(lambdaProps(plain, 'admin').Timeout).toBeLessThan(30);
  });
});

// ---- monitoring ------------------------------------------------------------------------------------

describe('monitoring', () => {
  const alarms = (v: Variant) =>
    Object.values(resources(v, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties as Json);
  const topicId = (v: Variant) => idOf(v, v.stack.monitoring.alarmTopic);
  /** An alarm on `metric` of this namespace whose dimension names the resource with `logicalId`. */
  const alarmOn = (v: Variant, namespace: string, metric: string, logicalId: string, extra: Json = {}) =>
    v.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: namespace,
      MetricName: metric,
      Dimensions: Match.arrayWith([Match.objectLike({ Value: Match.objectEquals({ Ref: logicalId }) })]),
      ...extra,
    });

  it('sends every alarm to the SNS topic, by e-mail only when alarmEmail is set', () => {
    for (const v of [plain, locked]) {
      expect(alarms(v).length).toBeGreaterThan(0);
      for (const alarm of alarms(v)) expect(alarm.AlarmActions).toEqual([{ Ref: topicId(v) }]);
    }
    plain.template.resourceCountIs('AWS::SNS::Subscription', 0);
    locked.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId(locked) },
    });
  });

  it('alarms on both DLQs, the age of the oldest event, and errors of each function', () => {
    for (const dlq of [
      plain.stack.processing.eventsDeadLetterQueue,
      plain.stack.pageOperations.commandsDeadLetterQueue,
    ]) {
      // Queue dimensions name the queue by its QueueName attribute.
      plain.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(idOf(plain, dlq), 'QueueName') }],
        Threshold: 1,
      });
    }
    plain.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        { Name: 'QueueName', Value: getAtt(idOf(plain, plain.stack.processing.eventsQueue), 'QueueName') },
      ],
    });
    for (const key of ALL_FUNCTIONS) alarmOn(plain, 'AWS/Lambda', 'Errors', lambdaId(plain, key));
  });

  it('alarms on pages needing reauth, failed subscription repairs, quarantined events and new page warnings, on the dimension Powertools publishes', () => {
    for (const metric of [
      'PagesReauthRequired',
      'SubscriptionRepairsFailed',
      'EventsQuarantined',
      'PageWarnings',
    ]) {
      plain.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Pagewire',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: 'pagewire' }],
        Statistic: 'Sum',
        Threshold: 1,
      });
    }
    for (const key of ALL_FUNCTIONS)
      plain.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: getAtt(roleId(plain, key)),
        Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'pagewire' }) },
      });
  });

  it('draws the dashboard: webhook flow, queue age, dead letters, reauth, Graph errors by class, retries', () => {
    const [, dashboard] = only(plain, 'AWS::CloudWatch::Dashboard');
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

// ---- logical ids -------------------------------------------------------------------------------------

describe('logical ids', () => {
  // A changed logical id makes CloudFormation replace the resource: the table, key, bucket and secret
  // are retained (orphaned, a new empty one made), queues lose their messages. Construct ids stay put.
  it('keep the ids of the stateful resources, the functions and the alarms', () => {
    const ids = (type: string) => Object.keys(resources(plain, type)).sort();
    expect({
      table: ids('AWS::DynamoDB::Table'),
      key: ids('AWS::KMS::Key'),
      buckets: ids('AWS::S3::Bucket'),
      secret: ids('AWS::SecretsManager::Secret'),
      queues: ids('AWS::SQS::Queue'),
      functions: ids('AWS::Lambda::Function'),
      alarms: ids('AWS::CloudWatch::Alarm'),
      topic: ids('AWS::SNS::Topic'),
      dashboard: ids('AWS::CloudWatch::Dashboard'),
    }).toMatchInlineSnapshot(`
      {
        "alarms": [
          "MonitoringAdminErrorsAlarm17582CB0",
          "MonitoringApiServerErrorsAlarm1E458124",
          "MonitoringConnectErrorsAlarmED6781FD",
          "MonitoringEventsDeadLettersAlarm0DD6A47A",
          "MonitoringEventsQuarantinedAlarmE57FB6F3",
          "MonitoringEventsQueueAgeAlarmD1339061",
          "MonitoringMediaDeadLettersAlarm78A7D111",
          "MonitoringMediaErrorsAlarm91EBEEB7",
          "MonitoringOpsErrorsAlarm7D26CAFA",
          "MonitoringPageCommandsDeadLettersAlarmA1F34C91",
          "MonitoringPageCommandsErrorsAlarm33F56567",
          "MonitoringPageWarningsAlarm83BA0235",
          "MonitoringPagesReauthRequiredAlarm73FDF861",
          "MonitoringProcessorErrorsAlarm9BEA9977",
          "MonitoringSubscriptionRepairsFailedAlarmE70CEFA8",
          "MonitoringVerifierErrorsAlarm6FA94370",
        ],
        "buckets": [
          "DataBlobAccessLogs0C60BA0F",
          "DataBlobsA9860EC7",
          "MediaBucket4022EBBF",
        ],
        "dashboard": [
          "MonitoringDashboard0C3675C6",
        ],
        "functions": [
          "ConnectLoginConnectFunctionE57FB6D4",
          "IngestVerifierFunction3E685BD4",
          "MediaWorkerFunction288ABF10",
          "PageOperationsAdminFunction6DCFFAB4",
          "PageOperationsOpsFunctionB47C6835",
          "PageOperationsPageCommandsConsumerFunctionF83247C0",
          "ProcessingProcessorFunctionE9370182",
        ],
        "key": [
          "DataPageTokenKeyFA5ABF9D",
        ],
        "queues": [
          "MediaDeadLetterQueueF0B25637",
          "MediaQueue21D3DC00",
          "PageOperationsPageCommandsDeadLetterQueueAD4224C3",
          "PageOperationsPageCommandsQueueA4DC8396",
          "ProcessingEventsDeadLetterQueue81B91CAD",
          "ProcessingEventsQueue5940445A",
        ],
        "secret": [
          "DataAppSecret2DDDDC2B",
        ],
        "table": [
          "DataTableFDBAD0F2",
        ],
        "topic": [
          "MonitoringAlarmTopicAF62D4F1",
        ],
      }
    `);
    expect(ids('AWS::ElastiCache::ServerlessCache')).toEqual([]);
    expect(Object.keys(resources(locked, 'AWS::ElastiCache::ServerlessCache'))).toMatchInlineSnapshot(`
      [
        "ConversationLockCacheD918B8C8",
      ]
    `);
  });
});

// ---- outputs -----------------------------------------------------------------------------------------

describe('outputs', () => {
  it('print the webhook URL, admin API URL, secret name, ops function, dashboard and function names', () => {
    const outputs = plain.template.findOutputs('*');
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
    expect(JSON.stringify(outputs.WebhookUrl?.Value)).toContain('/webhooks/facebook');
    plain.template.hasOutput('OpsFunctionName', { Value: { Ref: lambdaId(plain, 'ops') } });
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
      plain.template.resourceCountIs(type, 0);
    }
    expect(lambdaProps(plain, 'processor').VpcConfig).toBeUndefined();
    expect(envOf(plain, 'processor').LOCK_REDIS_URL).toBeUndefined();
  });

  it('adds a VPC with private subnets behind the configured number of NAT gateways, with flow logs', () => {
    locked.template.resourceCountIs('AWS::EC2::VPC', 1);
    locked.template.resourceCountIs('AWS::EC2::NatGateway', 2);
    locked.template.resourceCountIs('AWS::EC2::FlowLog', 1);
    const privateSubnets = locked.stack.lock?.vpc.privateSubnets ?? [];
    expect(privateSubnets.length).toBe(2);
    for (const subnet of privateSubnets) {
      locked.template.hasResourceProperties('AWS::EC2::Route', {
        RouteTableId: { Ref: locked.id(subnet.node.findChild('RouteTable')) },
        NatGatewayId: Match.anyValue(),
      });
    }
  });

  it('runs ElastiCache Serverless Valkey in the private subnets, reachable on 6379 from the processor only', () => {
    const lock = locked.stack.lock;
    if (!lock) throw new Error('no lock in the lock variant');
    const [cacheId] = only(locked, 'AWS::ElastiCache::ServerlessCache');
    const cacheSg = idOf(locked, lock.cacheSecurityGroup);
    const processorSg = idOf(locked, lock.clientSecurityGroup);
    locked.template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      SecurityGroupIds: [getAtt(cacheSg, 'GroupId')],
      SubnetIds: lock.vpc.privateSubnets.map((s) => ({ Ref: idOf(locked, s) })),
    });
    const cacheGroup = resource(locked, 'AWS::EC2::SecurityGroup', cacheSg);
    const ingress = [
      ...Object.values(resources(locked, 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties),
      ...(cacheGroup.Properties.SecurityGroupIngress ?? []),
    ].filter((r: Json) => JSON.stringify(r.GroupId ?? getAtt(cacheSg, 'GroupId')).includes(cacheSg));
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 6379,
        ToPort: 6379,
        SourceSecurityGroupId: getAtt(processorSg, 'GroupId'),
      }),
    ]);
    expect(cacheGroup.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' }),
    ]);

    locked.template.hasResourceProperties('AWS::Lambda::Function', {
      Role: getAtt(roleId(locked, 'processor')),
      VpcConfig: {
        SecurityGroupIds: [getAtt(processorSg, 'GroupId')],
        SubnetIds: lock.vpc.privateSubnets.map((s) => ({ Ref: idOf(locked, s) })),
      },
      Environment: {
        Variables: Match.objectLike({
          LOCK_REDIS_URL: { 'Fn::Join': ['', ['rediss://', getAtt(cacheId, 'Endpoint.Address'), ':6379']] },
        }),
      },
    });
    // Only the processor is in the VPC and knows the lock.
    for (const key of ['verifier', 'admin', 'ops', 'pageCommands'] as const) {
      expect(lambdaProps(locked, key).VpcConfig, key).toBeUndefined();
      expect(envOf(locked, key).LOCK_REDIS_URL, key).toBeUndefined();
    }
  });
});
