/**
 * testkit/aws-fakes/eventbridge.ts behind the AWS gateway, called by the real EventBridge client: the
 * answer's shape per entry, the failures on demand the bundle test relies on, and the IAM gate.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeFake } from '#testkit/aws-fakes/eventbridge';
import { AwsGateway } from '#testkit/aws-fakes/gateway';
import { busArn } from '#testkit/cfn';

const BUS = 'Pagewire-pagewire';
const ALLOWED = 'AKIDALLOWED';
const fake = new EventBridgeFake([BUS]);
const gateway = new AwsGateway({ events: fake }, (principal) => principal === ALLOWED);
const clients: EventBridgeClient[] = [];

function client(principal = ALLOWED): EventBridgeClient {
  const c = new EventBridgeClient({
    endpoint: gateway.url,
    region: 'us-east-1',
    credentials: { accessKeyId: principal, secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}

const entry = (detail: string, over: Record<string, string> = {}) => ({
  EventBusName: BUS,
  Source: 'pagewire',
  DetailType: 'message.received',
  Detail: detail,
  ...over,
});

beforeAll(async () => {
  await gateway.start();
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await gateway.stop();
});

describe('the EventBridge fake', () => {
  it('answers one result per entry, in order: an EventId, or the error EventBridge gives', async () => {
    const out = await client().send(
      new PutEventsCommand({
        Entries: [
          entry('{"id":"a"}'),
          entry('{"id":"b"}', { EventBusName: 'no-such-bus' }),
          entry('not json'),
          entry('{"id":"c"}', { EventBusName: busArn(BUS) }),
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries).toEqual([
      { EventId: expect.any(String) },
      { ErrorCode: 'NotFoundException', ErrorMessage: 'Event bus no-such-bus does not exist.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { EventId: expect.any(String) },
    ]);
    expect(fake.accepted.map((e) => e.Detail)).toEqual(['{"id":"a"}', '{"id":"c"}']);
    expect(fake.calls.at(-1)?.principal).toBe(ALLOWED);
  });

  it('fails the matching entries on demand until healed', async () => {
    fake.failEntries('ThrottlingException', (e) => e.Detail === '{"id":"slow"}');
    const failing = await client().send(
      new PutEventsCommand({ Entries: [entry('{"id":"slow"}'), entry('{"id":"fast"}')] }),
    );
    expect(failing.FailedEntryCount).toBe(1);
    expect(failing.Entries?.[0]).toEqual({ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' });
    fake.heal();
    const healed = await client().send(new PutEventsCommand({ Entries: [entry('{"id":"slow"}')] }));
    expect(healed).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
    expect(fake.failed.map((e) => e.Detail)).toContain('{"id":"slow"}');
  });

  it('refuses a caller IAM does not allow, before recording anything', async () => {
    const calls = fake.calls.length;
    await expect(
      client('AKIDDENIED').send(new PutEventsCommand({ Entries: [entry('{"id":"x"}')] })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(fake.calls).toHaveLength(calls);
    expect(gateway.callsBy('AKIDDENIED')).toMatchObject([
      {
        service: 'events',
        operation: 'PutEvents',
        authorizations: [{ action: 'events:PutEvents', resource: busArn(BUS) }],
      },
    ]);
  });
});
