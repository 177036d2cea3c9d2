/**
 * A synthesized stack "deployed" on loopback: the template's table created in dynalite, its queues in
 * the SQS fake, its KMS key, secret and bucket in small fakes, all behind one AWS gateway, and the
 * Graph API sandbox standing in for Meta. `run(fn)` starts a function's real bundle in a child process
 * with the environment the template gives it, pointed at these fakes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite } from '#local/dynalite';
import { type Sandbox, startSandbox } from '#local/graph-sandbox/demo';
import { type DeployedFunction, keyArn, ResolvedTemplate, secretArn } from '../cfn.js';
import { type GraphCall, GraphFaults } from '../graph-faults.js';
import { authorize } from '../iam.js';
import { type FakeSqsMessage, SqsFake } from '../sqs-fake.js';
import { EventBridgeFake } from './eventbridge.js';
import { type AwsCall, AwsGateway } from './gateway.js';
import { KmsFake } from './kms.js';
import { DynamoProxy, SqsProxy } from './proxy.js';
import { S3Fake } from './s3.js';
import { SecretsFake } from './secrets.js';
import type { FakeService } from './types.js';

const RUNNER = new URL('../bundle-runner.mjs', import.meta.url).pathname;
export const VERIFY_TOKEN = 'bundle-test-verify-token';

export interface Deployment {
  template: ResolvedTemplate;
  functions: DeployedFunction[];
  gateway: AwsGateway;
  sqs: SqsFake;
  s3: S3Fake;
  /** The template's event buses; records every PutEvents and fails entries on demand. */
  events: EventBridgeFake;
  graph: Sandbox;
  /** Every call the bundles made to the Graph emulator. */
  graphCalls: GraphCall[];
  dynamo: DynamoDBClient;
  /** The function whose logical id starts with this prefix, e.g. `IngestVerifier`. */
  fn(prefix: string): DeployedFunction;
  run(fn: DeployedFunction): Promise<BundleProcess>;
  /** Each call the function made that its role does not allow, with IAM's reason. */
  denied(fn: DeployedFunction): Array<AwsCall & { why: string }>;
  stop(): Promise<void>;
}

export async function deploy(outdir: string, stackName = 'Pagewire'): Promise<Deployment> {
  const sqs = new SqsFake();
  await sqs.start();
  const dynalite = await startDynalite();
  const graph = await startSandbox();
  const graphCalls = new GraphFaults(graph.fake).calls;
  // Queue URLs name the gateway: the SQS client sends to the host of the QueueUrl it is given.
  const services: Record<string, FakeService> = {};
  const principals = new Map<string, DeployedFunction>();
  // As on AWS, a call the caller's role does not allow fails (and stays recorded for `denied`).
  const gateway = new AwsGateway(services, (principal, auths) => {
    const fn = principals.get(principal);
    return !!fn && auths.every((auth) => authorize(fn.statements, auth).allowed);
  });
  const gatewayUrl = await gateway.start();
  const template = ResolvedTemplate.read(outdir, stackName, { queueBase: gatewayUrl });
  const functions = template.functions(outdir).filter((f) => existsSync(join(f.bundleDir, 'index.mjs')));
  for (const f of functions) principals.set(principalOf(f), f);

  for (const [id] of template.resourcesOfType('AWS::SQS::Queue')) {
    sqs.createQueue(String(template.resolve({ 'Fn::GetAtt': [id, 'QueueName'] })));
  }
  const secrets = new Map(
    template
      .resourcesOfType('AWS::SecretsManager::Secret')
      .map(([id]) => [
        secretArn(id),
        JSON.stringify({ appId: graph.appId, appSecret: graph.appSecret, verifyToken: VERIFY_TOKEN }),
      ]),
  );
  const s3 = new S3Fake({
    buckets: template.resourcesOfType('AWS::S3::Bucket').map(([id]) => String(template.resolve({ Ref: id }))),
    mayList: (principal, bucketArn, key) => {
      const f = principals.get(principal);
      // As S3 does for a missing key: ListBucket with the key as the listed prefix.
      const auth = { action: 's3:ListBucket', resource: bucketArn, context: { 's3:prefix': key } };
      return !!f && authorize(f.statements, auth).allowed;
    },
  });
  const events = new EventBridgeFake(
    template.resourcesOfType('AWS::Events::EventBus').map(([id]) => String(template.resolve({ Ref: id }))),
  );
  Object.assign(services, {
    dynamodb: new DynamoProxy(dynalite.endpoint),
    sqs: new SqsProxy(sqs.url),
    kms: new KmsFake(template.resourcesOfType('AWS::KMS::Key').map(([id]) => keyArn(id))),
    secretsmanager: new SecretsFake(secrets),
    s3,
    events,
  });

  const dynamo = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  for (const [id, r] of template.resourcesOfType('AWS::DynamoDB::Table')) {
    await dynamo.send(
      new CreateTableCommand(tableInput(String(template.resolve({ Ref: id })), r.Properties)),
    );
  }

  const home = mkdtempSync(join(tmpdir(), 'pagewire-bundle-home-'));
  const processes: BundleProcess[] = [];
  return {
    template,
    functions,
    gateway,
    sqs,
    s3,
    events,
    graph,
    graphCalls,
    dynamo,
    fn(prefix) {
      const [found, ...more] = functions.filter((f) => f.logicalId.startsWith(prefix));
      if (!found || more.length)
        throw new Error(`${more.length + (found ? 1 : 0)} functions start with ${prefix}`);
      return found;
    },
    async run(fn) {
      const env = {
        ...fn.environment,
        PATH: process.env.PATH ?? '',
        HOME: home,
        // Nothing from this machine's AWS setup reaches the bundle: files, metadata service, keys.
        AWS_CONFIG_FILE: join(home, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: principalOf(fn),
        AWS_SECRET_ACCESS_KEY: 'bundle-test-secret',
        AWS_ENDPOINT_URL: gatewayUrl,
        // Named as well: the EventBridge client's endpoint rules differ from the other services'.
        AWS_ENDPOINT_URL_EVENTBRIDGE: gatewayUrl,
        AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        GRAPH_API_URL: graph.url,
      };
      const bundle = new BundleProcess(fn, env);
      processes.push(bundle);
      return bundle;
    },
    denied(fn) {
      return gateway.callsBy(principalOf(fn)).flatMap((call) =>
        (call.authorizations.length ? call.authorizations : [{ action: '?', resource: '?' }]).flatMap(
          (auth) => {
            const verdict = authorize(fn.statements, auth);
            return verdict.allowed ? [] : [{ ...call, authorizations: [auth], why: verdict.why }];
          },
        ),
      );
    },
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
      dynamo.destroy();
      await Promise.all([gateway.stop(), sqs.stop(), graph.fake.stop(), dynalite.stop()]);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The access key id a function signs with, so the gateway knows who called. */
export const principalOf = (fn: DeployedFunction) => `AKIDBUNDLE${fn.logicalId.toUpperCase()}`;

/** CreateTable input from the template's `AWS::DynamoDB::Table` properties (the deployed definition). */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
function tableInput(TableName: string, p: any) {
  const index = (i: { IndexName: string; KeySchema: unknown; Projection: unknown }) => ({
    IndexName: i.IndexName,
    KeySchema: i.KeySchema,
    Projection: i.Projection,
  });
  return {
    TableName,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    BillingMode: p.BillingMode,
    GlobalSecondaryIndexes: p.GlobalSecondaryIndexes?.map(index),
    LocalSecondaryIndexes: p.LocalSecondaryIndexes?.map(index),
  };
}

export interface Invocation {
  result?: unknown;
  error?: { name: string; message: string };
}

/** One function's bundle in its own Node.js process (testkit/bundle-runner.mjs). */
export class BundleProcess {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, (answer: Invocation) => void>();
  private next = 0;
  /** Everything the bundle wrote to stdout and stderr (its logs, as on CloudWatch). */
  output = '';
  private readonly exited: Promise<void>;

  constructor(
    readonly fn: DeployedFunction,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [RUNNER, fn.bundleDir, fn.logicalId], {
      env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding('utf8').on('data', (text: string) => {
        this.output += text;
      });
    }
    const answers = this.child.stdio[3] as Readable;
    createInterface({ input: answers }).on('line', (line) => {
      const { id, ...answer } = JSON.parse(line) as Invocation & { id: number };
      this.pending.get(id)?.(answer);
      this.pending.delete(id);
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        for (const settle of this.pending.values()) {
          settle({ error: { name: 'ProcessExited', message: `exit ${code}: ${this.output.slice(-2000)}` } });
        }
        this.pending.clear();
        resolve();
      }),
    );
  }

  invoke(event: unknown): Promise<Invocation> {
    const id = ++this.next;
    const answer = new Promise<Invocation>((resolve) => this.pending.set(id, resolve));
    this.child.stdin?.write(`${JSON.stringify({ id, event, timeoutMs: this.fn.timeoutSeconds * 1000 })}\n`);
    return answer;
  }

  /** Ends the process: at once when an invocation is still running (a failed test), else after its queue. */
  async stop(): Promise<void> {
    this.child.stdin?.end();
    if (this.pending.size > 0) this.child.kill();
    await this.exited;
  }
}

/** Queued messages as Lambda's SQS event source delivers a FIFO batch to a function. */
export function sqsEventOf(messages: FakeSqsMessage[], queueArn: string) {
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: `receipt-${m.messageId}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1764633600000',
        SenderId: 'AROAFAKE',
        ApproximateFirstReceiveTimestamp: '1764633600000',
        SequenceNumber: m.sequenceNumber,
        MessageGroupId: m.groupId,
        MessageDeduplicationId: m.dedupId,
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(m.body, 'utf8').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'us-east-1',
    })),
  };
}
