/** testkit/iam.ts: the policy evaluation the bundle test relies on, on hand-written statements. */
import { describe, expect, it } from 'vitest';
import type { PolicyStatement } from '#testkit/cfn';
import { authorize, putEventsAuthorizations } from '#testkit/iam';

const KEY = 'arn:aws:kms:us-east-1:000000000000:key/1234';
const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/pagewire';
const pageIdOnly = {
  'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'pageId' },
  'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': 'pageId' },
};
const statements: PolicyStatement[] = [
  {
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:Query'],
    Resource: [TABLE, `${TABLE}/index/byTime`],
  },
  { Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY, Condition: pageIdOnly },
  { Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:s3:::blobs/claims/*' },
];
const keys = (...k: string[]) => ({ 'kms:EncryptionContextKeys': k });

describe('authorize', () => {
  it('matches actions case-insensitively and with wildcards, resources exactly or by wildcard', () => {
    expect(authorize(statements, { action: 'dynamodb:getitem', resource: TABLE }).allowed).toBe(true);
    expect(
      authorize(statements, { action: 's3:GetObject', resource: 'arn:aws:s3:::blobs/claims/a.json' }).allowed,
    ).toBe(true);
    expect(
      authorize(statements, { action: 's3:GetObject', resource: 'arn:aws:s3:::blobs/items/a' }).allowed,
    ).toBe(false);
    expect(authorize(statements, { action: 'dynamodb:PutItem', resource: TABLE }).allowed).toBe(false);
  });

  it('needs the index in the resource for a query on an index', () => {
    expect(
      authorize(statements, { action: 'dynamodb:Query', resource: `${TABLE}/index/byTime` }).allowed,
    ).toBe(true);
    expect(
      authorize(statements, { action: 'dynamodb:Query', resource: `${TABLE}/index/byType` }).allowed,
    ).toBe(false);
  });

  it('holds ForAnyValue/ForAllValues to the request context keys', () => {
    const decrypt = (context: Record<string, string[]>) =>
      authorize(statements, { action: 'kms:Decrypt', resource: KEY, context }).allowed;
    expect(decrypt(keys('pageId'))).toBe(true);
    expect(decrypt(keys('pageId', 'other'))).toBe(false);
    expect(decrypt(keys())).toBe(false);
    expect(decrypt({})).toBe(false);
  });

  it('holds StringLike s3:prefix to the listed prefix (a GetObject miss is checked with its key)', () => {
    const lister: PolicyStatement[] = [
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::blobs',
        Condition: { StringLike: { 's3:prefix': 'claims/*' } },
      },
    ];
    const list = (context: Record<string, string>) =>
      authorize(lister, { action: 's3:ListBucket', resource: 'arn:aws:s3:::blobs', context }).allowed;
    expect(list({ 's3:prefix': 'claims/abc.json' })).toBe(true);
    expect(list({ 's3:prefix': 'items/abc/def.json' })).toBe(false);
    expect(list({})).toBe(false);
  });

  it('fails closed on a condition operator it does not know, and lets an explicit Deny win', () => {
    const unknown: PolicyStatement[] = [
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: KEY,
        Condition: { NumericLessThan: { 'kms:x': '1' } },
      },
    ];
    expect(authorize(unknown, { action: 'kms:Decrypt', resource: KEY })).toEqual({
      allowed: false,
      why: 'no Allow statement matches (unsupported condition operators: NumericLessThan)',
    });
    const denied: PolicyStatement[] = [
      ...statements,
      { Effect: 'Deny', Action: 'dynamodb:*', Resource: '*' },
    ];
    expect(authorize(denied, { action: 'dynamodb:GetItem', resource: TABLE })).toEqual({
      allowed: false,
      why: 'explicitly denied',
    });
  });

  it('authorizes PutEvents once per entry on the bus it names (a name, an ARN, or none: the default bus)', () => {
    const BUS = 'arn:aws:events:us-east-1:000000000000:event-bus/Pagewire-pagewire';
    const grant: PolicyStatement[] = [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS }];
    const auths = putEventsAuthorizations([
      { EventBusName: 'Pagewire-pagewire', Source: 'pagewire', DetailType: 'message.received' },
      { EventBusName: BUS, Source: 'pagewire', DetailType: 'message.status' },
      { Source: 'pagewire', DetailType: 'message.sent' },
    ]);
    expect(auths).toEqual([
      {
        action: 'events:PutEvents',
        resource: BUS,
        context: { 'events:source': 'pagewire', 'events:detail-type': 'message.received' },
      },
      {
        action: 'events:PutEvents',
        resource: BUS,
        context: { 'events:source': 'pagewire', 'events:detail-type': 'message.status' },
      },
      {
        action: 'events:PutEvents',
        resource: 'arn:aws:events:us-east-1:000000000000:event-bus/default',
        context: { 'events:source': 'pagewire', 'events:detail-type': 'message.sent' },
      },
    ]);
    expect(auths.map((auth) => authorize(grant, auth).allowed)).toEqual([true, true, false]);
  });
});
