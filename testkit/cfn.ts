/**
 * Reads a synthesized CloudFormation template the way a deployment would resolve it, with fake ids:
 * `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Select`, `Fn::Split` and the pseudo parameters, so a function's
 * environment and its role's policy become plain strings naming loopback fakes. An intrinsic it does
 * not know throws: a silently unresolved value would test nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
type Json = any;

export interface CfnResource {
  Type: string;
  Properties?: Json;
  Metadata?: Record<string, unknown>;
}

export interface Template {
  Resources: Record<string, CfnResource>;
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface DeployedFunction {
  /** e.g. `IngestVerifierFunction3E685BD4`. */
  logicalId: string;
  /** The folder holding the bundle (`index.mjs`). */
  bundleDir: string;
  handler: string;
  timeoutSeconds: number;
  environment: Record<string, string>;
  /** Every statement of every policy attached to the function's role. */
  statements: PolicyStatement[];
}

/** What the fakes serve, named as the template resolves them. */
export interface FakeNames {
  /** The base URL queue URLs start with (the SQS fake's). */
  queueBase: string;
}

export class ResolvedTemplate {
  constructor(
    readonly template: Template,
    private readonly names: FakeNames,
  ) {}

  static read(outdir: string, stackName: string, names: FakeNames): ResolvedTemplate {
    const text = readFileSync(join(outdir, `${stackName}.template.json`), 'utf8');
    return new ResolvedTemplate(JSON.parse(text) as Template, names);
  }

  resourcesOfType(type: string): Array<[string, CfnResource]> {
    return Object.entries(this.template.Resources).filter(([, r]) => r.Type === type);
  }

  resource(logicalId: string): CfnResource {
    const found = this.template.Resources[logicalId];
    if (!found) throw new Error(`no resource ${logicalId} in the template`);
    return found;
  }

  /** Resolves every intrinsic in `value` to plain JSON. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const [key, ...others] = Object.keys(value);
    if (key !== undefined && others.length === 0 && (key === 'Ref' || key.startsWith('Fn::'))) {
      return this.intrinsic(key, value[key] ?? null);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }

  private intrinsic(name: string, arg: Json): Json {
    switch (name) {
      case 'Ref':
        return this.ref(arg);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
        return this.getAtt(id, attribute);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg;
        return (this.resolve(parts) as string[]).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg;
        const items = this.resolve(list) as string[];
        const i = Number(this.resolve(index));
        if (!(i in items)) throw new Error(`Fn::Select: no item ${i} in ${JSON.stringify(items)}`);
        return items[i];
      }
      case 'Fn::Split': {
        const [separator, source] = arg;
        return String(this.resolve(source)).split(separator);
      }
      default:
        throw new Error(`cfn.ts does not resolve ${name}`);
    }
  }

  private ref(id: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': 'Pagewire',
    };
    const known = pseudo[id];
    if (known !== undefined) return known;
    const r = this.resource(id);
    switch (r.Type) {
      case 'AWS::SQS::Queue':
        return `${this.names.queueBase}/${ACCOUNT}/${queueName(id, r)}`;
      case 'AWS::DynamoDB::Table':
        return tableName(id);
      case 'AWS::KMS::Key':
        return keyId(id);
      case 'AWS::SecretsManager::Secret':
        return secretArn(id);
      case 'AWS::S3::Bucket':
        return bucketName(id);
      case 'AWS::Events::EventBus':
        return this.busName(id, r);
      default:
        return id;
    }
  }

  private getAtt(id: string, attribute: string): string {
    const r = this.resource(id);
    const key = `${r.Type} ${attribute}`;
    switch (key) {
      case 'AWS::SQS::Queue Arn':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName(id, r)}`;
      case 'AWS::SQS::Queue QueueName':
        return queueName(id, r);
      case 'AWS::DynamoDB::Table Arn':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName(id)}`;
      case 'AWS::KMS::Key Arn':
        return keyArn(id);
      case 'AWS::S3::Bucket Arn':
        return `arn:aws:s3:::${bucketName(id)}`;
      case 'AWS::Events::EventBus Arn':
        return busArn(this.busName(id, r));
      case 'AWS::Events::EventBus Name':
        return this.busName(id, r);
      // The HTTP API's base URL (PUBLIC_BASE_URL of the functions that build links on it).
      case 'AWS::ApiGatewayV2::Api ApiEndpoint':
        return `https://${id.toLowerCase()}.execute-api.${REGION}.amazonaws.com`;
      default:
        if (attribute === 'Arn')
          return `arn:aws:${(r.Type.split('::')[1] ?? '').toLowerCase()}:${REGION}:${ACCOUNT}:${id}`;
        throw new Error(`cfn.ts does not resolve Fn::GetAtt ${id}.${attribute} (${r.Type})`);
    }
  }

  /** A custom bus is named by its `Name` property (required by CloudFormation). */
  private busName(id: string, r: CfnResource): string {
    const name = this.resolve(r.Properties?.Name);
    if (typeof name !== 'string' || !name) throw new Error(`the event bus ${id} has no Name`);
    return name;
  }

  /** Every Lambda function with its bundle, resolved environment and role policy. */
  functions(outdir: string): DeployedFunction[] {
    return this.resourcesOfType('AWS::Lambda::Function').flatMap(([logicalId, r]) => {
      const key = r.Properties?.Code?.S3Key;
      if (typeof key !== 'string' || !key.endsWith('.zip')) return [];
      const roleId = r.Properties.Role?.['Fn::GetAtt']?.[0];
      const statements = this.resourcesOfType('AWS::IAM::Policy')
        .filter(([, p]) => (p.Properties.Roles as Json[]).some((role) => role.Ref === roleId))
        .flatMap(([, p]) => this.resolve(p.Properties.PolicyDocument.Statement) as PolicyStatement[]);
      return [
        {
          logicalId,
          bundleDir: join(outdir, `asset.${key.slice(0, -'.zip'.length)}`),
          handler: r.Properties.Handler,
          timeoutSeconds: r.Properties.Timeout ?? 3,
          environment: this.resolve(r.Properties.Environment?.Variables ?? {}),
          statements,
        },
      ];
    });
  }
}

function queueName(id: string, r: CfnResource): string {
  return r.Properties?.FifoQueue ? `${id}.fifo` : id;
}

export const tableName = (id: string) => `pagewire-${id}`;
export const bucketName = (id: string) => `pagewire-${id.toLowerCase()}`;

/** An event bus's ARN from its name (`default` for the account's default bus). */
export const busArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;

/** A stable fake key id (a UUID) per logical id. */
export function keyId(id: string): string {
  const hex = Buffer.from(id.padEnd(16, '0').slice(0, 16)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const keyArn = (id: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId(id)}`;

/** CloudFormation names an unnamed secret `<logical id>-<random>`; its ARN adds `-<6 characters>`. */
export const secretArn = (id: string) =>
  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-Gen3rated-AbCdEf`;
