/**
 * One Pagewire Lambda: `functions/<name>/handler.ts` bundled by the local esbuild (no Docker) into a
 * minified ESM file with a source map, the AWS SDK inside the bundle, on the current Node.js runtime
 * for ARM. Its own role starts empty: it may write its own log group and X-Ray segments, and every
 * other permission is granted by name by the construct that owns the resource.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The runtime every function runs on (handlers are async with two parameters: fine for Node 24). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Powertools Metrics publishes with the dimension `service`: one name, so every function's counts add up. */
export const SERVICE_NAME = 'pagewire';
export const METRICS_NAMESPACE = 'Pagewire';

/** ESM output still meets the odd CommonJS `require` of a dependency: give it one. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __pagewireCreateRequire } from 'node:module';" +
  'const require = __pagewireCreateRequire(import.meta.url);';

export interface PagewireFunctionProps {
  /** The folder under `functions/` holding `handler.ts`. */
  name: 'verifier' | 'processor' | 'admin' | 'ops' | 'page-commands' | 'media-worker' | 'connect';
  description: string;
  timeout: Duration;
  memorySize?: number;
  /** Only the variables this function reads (functions/app/config.ts). */
  environment: Record<string, string>;
  logRetention?: logs.RetentionDays;
  vpc?: ec2.IVpc;
  vpcSubnets?: ec2.SubnetSelection;
  securityGroups?: ec2.ISecurityGroup[];
  /**
   * Resolve stack traces through the bundle's source map at run time (`--enable-source-maps`). It
   * costs 10–13 ms of cold start (npm run bench); the verifier, small and on Facebook's clock, goes without.
   */
  runtimeSourceMaps?: boolean;
}

export class PagewireFunction extends Construct {
  readonly lambda: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: PagewireFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Not AWSLambdaBasicExecutionRole (log writes to every log group): this function's group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Pagewire ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    if (props.vpc) {
      // What AWSLambdaVPCAccessExecutionRole grants, inline: Lambda manages the function's ENIs.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    this.lambda = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, 'functions', props.name, 'handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // Pass-through: traced when the caller samples the request. Active tracing records a trace per
      // invocation at low volume, which npm run bench prices above the rest of the bill together.
      tracing: lambda.Tracing.PASS_THROUGH,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      awsSdkConnectionReuse: false,
      environment: {
        ...(props.runtimeSourceMaps === false ? {} : { NODE_OPTIONS: '--enable-source-maps' }),
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        platform: 'node',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        bundleAwsSDK: true,
        externalModules: [],
        banner: ESM_REQUIRE_BANNER,
        tsconfig: join(REPO_ROOT, 'tsconfig.json'),
        forceDockerBundling: false,
        logLevel: LogLevel.WARNING,
      },
    });

    const policy = this.role.node.tryFindChild('DefaultPolicy');
    Validations.of(policy ?? this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: props.vpc
        ? 'xray:PutTraceSegments/PutTelemetryRecords and ec2:Describe* support no resource-level permissions, ' +
          'and Lambda manages the ENIs of a VPC function in subnets it picks (the actions of ' +
          'AWSLambdaVPCAccessExecutionRole, inline); every other statement names its resource.'
        : 'xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions; every other ' +
          'statement names its resource.',
    });
  }

  get functionName(): string {
    return this.lambda.functionName;
  }
}
