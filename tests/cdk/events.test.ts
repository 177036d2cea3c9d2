/**
 * Events out on AWS (SPEC §8, lib/events.ts): the bus, its archive, the tail log rule, the outputs,
 * least-privilege publish grants, and with `-c forwardUrl` the connection, API destination, forward
 * rule, retry policy, dead-letter queue and alarm. Two variants synthesized in this process without
 * bundling, through the real app (so cdk-nag's AwsSolutions checks run and must pass).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARD_KEY_HEADER } from '../../lib/events.js';
import { createPagewireApp } from '../../lib/pagewire-app.js';
import type { PagewireStack } from '../../lib/pagewire-stack.js';
import { settingsFromContext } from '../../lib/settings.js';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON, read freely by the assertions
type Json = Record<string, any>;

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const FORWARD_URL = 'https://consumer.example.com/pagewire/events';
const outdirs: string[] = [];

interface Variant {
  stack: PagewireStack;
  template: Template;
  id: (element: unknown) => string;
  nagViolations: unknown[];
}

function synthesize(context: Record<string, unknown>): Variant {
  const outdir = mkdtempSync(join(tmpdir(), 'pagewire-events-cdk-'));
  outdirs.push(outdir);
  const { app, stack } = createPagewireApp({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
  app.synth(); // an unacknowledged cdk-nag finding throws here
  return {
    stack,
    template: Template.fromStack(stack),
    id: (element) => stack.getLogicalId(element as CfnElement),
    nagViolations: new AwsSolutionsChecks(app).validateScope(app).violations,
  };
}

let plain: Variant;
let forwarding: Variant;

beforeAll(() => {
  plain = synthesize({});
  forwarding = synthesize({ forwardUrl: FORWARD_URL, eventArchiveDays: '30' });
}, 120_000);

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

const busRef = (v: Variant) => ({ Ref: v.id(v.stack.events.bus.node.defaultChild) });
const busArn = (v: Variant) => ({ 'Fn::GetAtt': [v.id(v.stack.events.bus.node.defaultChild), 'Arn'] });

/** Every IAM statement (of every policy) that allows events:PutEvents, with the role(s) it is attached to. */
function putEventsGrants(v: Variant): { roles: unknown[]; resource: unknown }[] {
  const policies = v.template.findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((policy: Json) =>
    (policy.Properties.PolicyDocument.Statement as Json[])
      .filter((st) => [st.Action].flat().some((a: string) => a === 'events:PutEvents' || a === 'events:*'))
      .map((st) => ({ roles: policy.Properties.Roles, resource: st.Resource })),
  );
}

const roleRef = (v: Variant, fn: 'processor' | 'admin' | 'ops' | 'pageCommands' | 'connect' | 'verifier') => {
  const f = {
    processor: v.stack.processing.processor,
    admin: v.stack.pageOperations.admin,
    ops: v.stack.pageOperations.ops,
    pageCommands: v.stack.pageOperations.pageCommands,
    connect: v.stack.connectLogin.fn,
    verifier: v.stack.ingest.verifier,
  }[fn];
  return { Ref: v.id(f.role.node.defaultChild) };
};

describe('the event bus', () => {
  it('is one custom bus named after the stack, with an archive of pagewire events for 14 days by default', () => {
    plain.template.resourceCountIs('AWS::Events::EventBus', 1);
    plain.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'Pagewire-pagewire' });
    plain.template.resourceCountIs('AWS::Events::Archive', 1);
    plain.template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: busArn(plain),
      EventPattern: { source: ['pagewire'] },
      RetentionDays: 14,
    });
    forwarding.template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 30 });
  });

  it('copies every pagewire event into a short-retention /aws/events/ log group only that rule writes', () => {
    const logGroupId = plain.id(plain.stack.events.logGroup.node.defaultChild);
    plain.template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/events/Pagewire-pagewire',
      RetentionInDays: 3,
    });
    plain.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: busRef(plain),
      EventPattern: { source: ['pagewire'] },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: Match.objectLike({
            'Fn::Join': Match.arrayWith([Match.arrayWith([':log-group:', { Ref: logGroupId }])]),
          }),
        }),
      ],
    });
    const policies = Object.values(plain.template.findResources('AWS::Logs::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    const doc = JSON.parse(JSON.stringify(policies[0]?.Properties.PolicyDocument));
    const text = JSON.stringify(doc);
    expect(text).toContain('events.amazonaws.com');
    expect(text).toContain('logs:PutLogEvents');
    expect(text).toContain('aws:SourceArn');
    // Only the seven functions: no custom-resource Lambda to install the policy (events-targets'
    // CloudWatchLogGroup would add one).
    expect(Object.keys(plain.template.findResources('AWS::Lambda::Function'))).toHaveLength(7);
  });

  it('outputs the bus name and the log group name', () => {
    plain.template.hasOutput('EventBusName', { Value: busRef(plain) });
    plain.template.hasOutput('EventLogGroupName', {
      Value: { Ref: plain.id(plain.stack.events.logGroup.node.defaultChild) },
    });
  });
});

describe('publish grants', () => {
  it('let exactly the processor, admin, ops, page-commands, media and connect functions PutEvents, on this bus only', () => {
    for (const v of [plain, forwarding]) {
      const grants = putEventsGrants(v);
      for (const grant of grants) expect(grant.resource).toEqual(busArn(v));
      const roles = grants.flatMap((g) => g.roles as unknown[]);
      expect(roles).toHaveLength(6);
      expect(roles).toEqual(
        expect.arrayContaining(
          (['processor', 'admin', 'ops', 'pageCommands', 'connect'] as const).map((fn) => roleRef(v, fn)),
        ),
      );
      expect(roles).toContainEqual({ Ref: v.id(v.stack.media.worker.role.node.defaultChild) });
      expect(roles).not.toContainEqual(roleRef(v, 'verifier'));
    }
  });

  it('give those functions EVENT_BUS_NAME, and the verifier none', () => {
    const env = (fn: { lambda: unknown }) =>
      (
        plain.template.findResources('AWS::Lambda::Function')[
          plain.id((fn.lambda as { node: { defaultChild: unknown } }).node.defaultChild)
        ] as Json
      ).Properties.Environment.Variables;
    const { processing, pageOperations, ingest } = plain.stack;
    for (const fn of [
      processing.processor,
      pageOperations.admin,
      pageOperations.ops,
      pageOperations.pageCommands,
      plain.stack.connectLogin.fn,
    ]) {
      expect(env(fn).EVENT_BUS_NAME).toEqual(busRef(plain));
    }
    expect(env(ingest.verifier).EVENT_BUS_NAME).toBeUndefined();
  });
});

describe('without forwardUrl', () => {
  it('has no connection, API destination, forward rule, dead-letter queue or key', () => {
    plain.template.resourceCountIs('AWS::Events::Connection', 0);
    plain.template.resourceCountIs('AWS::Events::ApiDestination', 0);
    expect(plain.stack.events.forward).toBeUndefined();
    const outputs = plain.template.findOutputs('*');
    expect(outputs.ForwardKeySecretName).toBeUndefined();
    // The bus's only rule is the log rule (the other rule of the stack is the health-check schedule).
    expect(
      Object.keys(
        plain.template.findResources('AWS::Events::Rule', { Properties: { EventBusName: busRef(plain) } }),
      ),
    ).toHaveLength(1);
  });
});

describe('with forwardUrl', () => {
  /** The logical id of the one resource of `type`. */
  const only = (type: string) => {
    const ids = Object.keys(forwarding.template.findResources(type));
    expect(ids, type).toHaveLength(1);
    return ids[0] as string;
  };
  const forward = () => {
    const f = forwarding.stack.events.forward;
    if (!f) throw new Error('no forward constructs');
    return f;
  };

  it('creates the key secret (output) and a connection sending it as x-pagewire-key', () => {
    const secretId = forwarding.id(forward().keySecret.node.defaultChild);
    forwarding.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 40, ExcludePunctuation: true }),
    });
    forwarding.template.hasOutput('ForwardKeySecretName', {
      Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
    forwarding.template.resourceCountIs('AWS::Events::Connection', 1);
    forwarding.template.hasResourceProperties('AWS::Events::Connection', {
      AuthorizationType: 'API_KEY',
      AuthParameters: {
        ApiKeyAuthParameters: {
          ApiKeyName: FORWARD_KEY_HEADER,
          ApiKeyValue: Match.objectLike({
            'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: secretId }])]),
          }),
        },
      },
    });
    expect(FORWARD_KEY_HEADER).toBe('x-pagewire-key');
  });

  it('POSTs to forwardUrl through an API destination', () => {
    forwarding.template.hasResourceProperties('AWS::Events::ApiDestination', {
      InvocationEndpoint: FORWARD_URL,
      HttpMethod: 'POST',
      ConnectionArn: { 'Fn::GetAtt': [only('AWS::Events::Connection'), 'Arn'] },
    });
  });

  it('forwards $.detail of every pagewire event with the 24 h / 185 attempts retry policy and a DLQ', () => {
    const dlqArn = { 'Fn::GetAtt': [forwarding.id(forward().deadLetterQueue.node.defaultChild), 'Arn'] };
    forwarding.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: busRef(forwarding),
      EventPattern: { source: ['pagewire'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [only('AWS::Events::ApiDestination'), 'Arn'] },
          InputPath: '$.detail',
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
          DeadLetterConfig: { Arn: dlqArn },
          RoleArn: Match.anyValue(),
        }),
      ],
    });
  });

  it('keeps the dead letters in an encrypted, TLS-only queue EventBridge alone may send to', () => {
    const dlqId = forwarding.id(forward().deadLetterQueue.node.defaultChild);
    forwarding.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    const policies = Object.values(
      forwarding.template.findResources('AWS::SQS::QueuePolicy', {
        Properties: { Queues: [{ Ref: dlqId }] },
      }),
    ).map((p: Json) => JSON.stringify(p.Properties.PolicyDocument));
    expect(policies).toHaveLength(1);
    expect(policies[0]).toContain('"aws:SecureTransport":"false"');
    expect(policies[0]).toContain('events.amazonaws.com');
  });

  it('alarms on any dead letter, to the alarm topic', () => {
    forwarding.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [forwarding.id(forward().deadLetterQueue.node.defaultChild), 'QueueName'] },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: forwarding.id(forwarding.stack.monitoring.alarmTopic.node.defaultChild) }],
    });
  });

  it('passes cdk-nag (AwsSolutions) with and without forwarding', () => {
    expect(plain.nagViolations).toEqual([]);
    expect(forwarding.nagViolations).toEqual([]);
  });
});

describe('context keys', () => {
  const ctx = (values: Record<string, string>) => (key: string) => values[key];

  it('default to a 14-day archive and no forwarding', () => {
    expect(settingsFromContext(() => undefined)).toMatchObject({
      eventArchiveDays: 14,
      forwardUrl: undefined,
    });
    expect(settingsFromContext(ctx({ eventArchiveDays: '90', forwardUrl: FORWARD_URL }))).toMatchObject({
      eventArchiveDays: 90,
      forwardUrl: FORWARD_URL,
    });
  });

  it('refuse a forwardUrl that is not https, has credentials or is no URL, and archive days out of range', () => {
    expect(() => settingsFromContext(ctx({ forwardUrl: 'http://consumer.example.com/' }))).toThrow(/https/);
    expect(() => settingsFromContext(ctx({ forwardUrl: 'https://u:p@consumer.example.com/' }))).toThrow(
      /without user or password/,
    );
    expect(() => settingsFromContext(ctx({ forwardUrl: 'consumer.example.com' }))).toThrow(/not a URL/);
    expect(() => settingsFromContext(ctx({ eventArchiveDays: '0' }))).toThrow(/1 to 3650/);
    expect(() => settingsFromContext(ctx({ eventArchiveDays: 'two weeks' }))).toThrow(/1 to 3650/);
  });
});
