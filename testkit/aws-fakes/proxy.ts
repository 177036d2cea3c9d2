/**
 * Recording proxies for the AWS fakes that already exist as servers (dynalite for DynamoDB, the SQS
 * fake): the request goes through unchanged, and its IAM authorizations are read from its JSON body.
 */
import { request as httpRequest } from 'node:http';
import type { Authorization } from '../iam.js';
import type { AwsAnswer, AwsRequest, FakeService, Gate, Handled } from './types.js';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';

/** Forwards a request to `base` and answers what it answers. */
export function forward(base: string, request: AwsRequest): Promise<AwsAnswer> {
  const target = new URL(request.path, base);
  return new Promise((resolve, reject) => {
    const headers = { ...request.headers, host: target.host, 'content-length': String(request.body.length) };
    const outgoing = httpRequest(target, { method: request.method, headers }, async (res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const answerHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined && k !== 'connection' && k !== 'transfer-encoding') answerHeaders[k] = String(v);
      }
      resolve({ status: res.statusCode ?? 502, headers: answerHeaders, body: Buffer.concat(chunks) });
    });
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

const tableArn = (table: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`;

/** DynamoDB (JSON 1.0, `DynamoDB_20120810.*`) through dynalite. */
export class DynamoProxy implements FakeService {
  constructor(private readonly dynaliteUrl: string) {}

  async handle(request: AwsRequest, gate: Gate): Promise<Handled> {
    const input = JSON.parse(request.body.toString('utf8') || '{}');
    const authorizations = dynamoAuthorizations(request.operation, input);
    const answer = gate(authorizations, request) ?? (await forward(this.dynaliteUrl, request));
    return { operation: request.operation, authorizations, answer };
  }
}

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

// biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON input
export function dynamoAuthorizations(operation: string, input: any): Authorization[] {
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.keys(input.RequestItems ?? {}).map((t) => ({
      action: `dynamodb:${operation}`,
      resource: tableArn(t),
    }));
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    // biome-ignore lint/suspicious/noExplicitAny: DynamoDB JSON input
    return (input.TransactItems ?? []).flatMap((item: any) =>
      Object.entries(item).map(([kind, part]) => ({
        action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`,
        resource: tableArn((part as { TableName: string }).TableName),
      })),
    );
  }
  const index = input.IndexName ? `/index/${input.IndexName}` : '';
  return [{ action: `dynamodb:${operation}`, resource: `${tableArn(input.TableName)}${index}` }];
}

/** The batch actions IAM authorizes as their single-message action. */
const SQS_ACTIONS: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** SQS (JSON 1.0, `AmazonSQS.*`) through the SQS fake; the queue named by `QueueUrl`'s last segment. */
export class SqsProxy implements FakeService {
  constructor(private readonly sqsUrl: string) {}

  async handle(request: AwsRequest, gate: Gate): Promise<Handled> {
    const input = JSON.parse(request.body.toString('utf8') || '{}') as {
      QueueUrl?: string;
      QueueName?: string;
    };
    const queue =
      input.QueueName ??
      String(input.QueueUrl ?? '')
        .split('/')
        .at(-1);
    const action = `sqs:${SQS_ACTIONS[request.operation] ?? request.operation}`;
    const authorizations = [{ action, resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}` }];
    const answer = gate(authorizations, request) ?? (await forward(this.sqsUrl, request));
    return { operation: request.operation, authorizations, answer };
  }
}
