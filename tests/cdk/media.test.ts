/**
 * Media that lasts on AWS (SPEC §10, lib/media.ts): the private, encrypted, TLS-only media bucket with
 * its lifecycle from `-c mediaRetentionDays`, the standard media queue with a dead-letter queue and its
 * alarm, and least-privilege grants (the worker puts objects, the processor sends jobs, the admin
 * function reads objects to sign links; nothing more, no s3:*). Synthesized without bundling through the
 * real app, so cdk-nag's AwsSolutions checks run and must pass.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPagewireApp } from '../../lib/pagewire-app.js';
import type { PagewireFunction } from '../../lib/pagewire-function.js';
import type { PagewireStack } from '../../lib/pagewire-stack.js';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON, read freely by the assertions
type Json = Record<string, any>;

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const outdirs: string[] = [];

interface Variant {
  stack: PagewireStack;
  template: Template;
  id: (element: unknown) => string;
  nagViolations: unknown[];
}

function synthesize(context: Record<string, unknown>): Variant {
  const outdir = mkdtempSync(join(tmpdir(), 'pagewire-media-cdk-'));
  outdirs.push(outdir);
  const { app, stack } = createPagewireApp({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
  app.synth();
  return {
    stack,
    template: Template.fromStack(stack),
    id: (element) => stack.getLogicalId(element as CfnElement),
    nagViolations: new AwsSolutionsChecks(app).validateScope(app).violations,
  };
}

let plain: Variant;
let shorter: Variant;

beforeAll(() => {
  plain = synthesize({});
  shorter = synthesize({ mediaRetentionDays: '30' });
}, 120_000);
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

const bucketId = (v: Variant) => v.id(v.stack.media.bucket.node.defaultChild);

/** Every statement of every policy attached to the function's role. */
function statementsOf(v: Variant, fn: PagewireFunction): Json[] {
  const role = { Ref: v.id(fn.role.node.defaultChild) };
  return Object.values(v.template.findResources('AWS::IAM::Policy'))
    .filter((p: Json) => JSON.stringify(p.Properties.Roles).includes(JSON.stringify(role)))
    .flatMap((p: Json) => p.Properties.PolicyDocument.Statement as Json[]);
}

/** The actions a role has on the media bucket (its objects or itself). */
function mediaActions(v: Variant, fn: PagewireFunction): string[] {
  return statementsOf(v, fn)
    .filter((st) => JSON.stringify(st.Resource).includes(bucketId(v)))
    .flatMap((st) => [st.Action].flat())
    .sort();
}

describe('the media bucket', () => {
  it('blocks public access, is encrypted, logs access, and expires copies after mediaRetentionDays (365 by default)', () => {
    plain.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'media/' }),
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ Id: 'ExpireMediaCopies', ExpirationInDays: 365, Status: 'Enabled' })],
      },
    });
    shorter.template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'media/' }),
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
    });
  });

  it('denies every request not over TLS', () => {
    plain.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId(plain) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('the media queue', () => {
  it('is a standard, encrypted, TLS-only queue with a dead-letter queue after 5 receives and an alarm on it', () => {
    const queueId = plain.id(plain.stack.media.queue.node.defaultChild);
    const dlqId = plain.id(plain.stack.media.deadLetterQueue.node.defaultChild);
    const queue = plain.template.findResources('AWS::SQS::Queue')[queueId] as Json;
    expect(queue.Properties.FifoQueue).toBeUndefined();
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(queue.Properties.VisibilityTimeout).toBe(720);
    plain.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    plain.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
    });
    plain.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });
});

describe('grants', () => {
  it('let the worker only put objects under media/ (and abort its uploads): no s3:*, no read', () => {
    const worker = plain.stack.media.worker;
    expect(mediaActions(plain, worker)).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    const objects = statementsOf(plain, worker).find((st) => [st.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(objects?.Resource)).toContain(`"${bucketId(plain)}","Arn"]},"/media/*"`);
    const all = statementsOf(plain, worker).flatMap((st) => [st.Action].flat());
    expect(
      all.filter((a) => a === 's3:*' || a.startsWith('kms:') || a.startsWith('secretsmanager:')),
    ).toEqual([]);
    expect(all).toContain('events:PutEvents');
    expect(all).toContain('sqs:ReceiveMessage');
  });

  it('let the processor send jobs to the media queue, and on the bucket only erase an unsent message’s copies', () => {
    const processor = plain.stack.processing.processor;
    const queueArn = { 'Fn::GetAtt': [plain.id(plain.stack.media.queue.node.defaultChild), 'Arn'] };
    const send = statementsOf(plain, processor).find(
      (st) => JSON.stringify(st.Resource) === JSON.stringify(queueArn),
    );
    expect([send?.Action].flat()).toEqual(['sqs:SendMessage']);
    expect(mediaActions(plain, processor)).toEqual(['s3:DeleteObject', 's3:ListBucket']);
    const statements = statementsOf(plain, processor);
    const del = statements.find((st) => [st.Action].flat().includes('s3:DeleteObject'));
    expect(JSON.stringify(del?.Resource)).toContain(`"${bucketId(plain)}","Arn"]},"/media/*"`);
    const list = statements.find(
      (st) =>
        [st.Action].flat().includes('s3:ListBucket') && JSON.stringify(st.Resource).includes(bucketId(plain)),
    );
    expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': ['media/*'] } });
  });

  it('let the admin function only read objects (to sign links), and the verifier nothing', () => {
    expect(mediaActions(plain, plain.stack.pageOperations.admin)).toEqual(['s3:GetObject']);
    expect(mediaActions(plain, plain.stack.ingest.verifier)).toEqual([]);
    expect(mediaActions(plain, plain.stack.pageOperations.ops)).toEqual([]);
  });

  it('passes cdk-nag with no unacknowledged finding', () => {
    expect(plain.nagViolations).toEqual([]);
  });
});
