/**
 * What Pagewire keeps: the single DynamoDB table (the exact layout of
 * functions/store/table.ts), the KMS key that seals page tokens, the Secrets
 * Manager secret holding the Facebook app's credentials, and the blob bucket (the BlobStore port:
 * claim checks under `claims/`, oversize parts of stored items under `items/`). Access is granted
 * per function, per action and per key prefix, never `*`.
 */
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { LINK_SEAL_PREFIX } from '#contracts/connect-link';
import { CLAIM_PREFIX } from '#contracts/queue';
import { tableDefinition } from '#store/table';

/** Every DynamoDB action the repositories send (the …-repository.ts files), nothing more. */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:Query',
] as const;

/** The encryption context key every sealed page token carries (kms-token-sealer.ts). */
export const TOKEN_CONTEXT_KEY = 'pageId';
const PAGE_ID_CONTEXT = `kms:EncryptionContext:${TOKEN_CONTEXT_KEY}`;
/** The contexts of Facebook Login links' user tokens (`link-{linkId}`), never a page's. */
const LINK_CONTEXTS = `${LINK_SEAL_PREFIX}*`;

/** Blob key prefixes: claim checks of the events queue, and parts of stored items too large for DynamoDB. */
export const BLOB_PREFIXES = { claims: CLAIM_PREFIX, items: 'items/' } as const;
export type BlobPrefix = keyof typeof BLOB_PREFIXES;
/** A claim check is read while its queue message lives: SQS keeps a message at most 14 days. */
export const CLAIM_RETENTION = Duration.days(14);
/** How long the blob bucket's server access logs are kept. */
export const BLOB_ACCESS_LOG_RETENTION = Duration.days(365);

export class Data extends Construct {
  readonly table: dynamodb.Table;
  readonly tokenKey: kms.Key;
  readonly appSecret: secretsmanager.Secret;
  readonly blobBucket: s3.Bucket;
  readonly blobAccessLogs: s3.Bucket;
  private readonly indexNames: string[];

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const definition = tableDefinition('pagewire');
    const attributeType = (name: string | undefined): dynamodb.Attribute => {
      const found = definition.AttributeDefinitions?.find((a) => a.AttributeName === name);
      if (!name || !found) throw new Error(`table-schema.ts: attribute ${name} is not defined`);
      const types: Record<string, dynamodb.AttributeType> = {
        S: dynamodb.AttributeType.STRING,
        N: dynamodb.AttributeType.NUMBER,
        B: dynamodb.AttributeType.BINARY,
      };
      const type = types[found.AttributeType as string];
      if (!type) throw new Error(`table-schema.ts: attribute ${name} has type ${found.AttributeType}`);
      return { name, type };
    };
    const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) => ({
      partitionKey: attributeType(schema?.find((k) => k.KeyType === 'HASH')?.AttributeName),
      sortKey: schema?.some((k) => k.KeyType === 'RANGE')
        ? attributeType(schema.find((k) => k.KeyType === 'RANGE')?.AttributeName)
        : undefined,
    });

    this.table = new dynamodb.Table(this, 'Table', {
      ...keyOf(definition.KeySchema),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Connect links (SPEC §12) expire by it: a day after the link did (store/table.ts).
      timeToLiveAttribute: 'ttl',
    });
    for (const gsi of definition.GlobalSecondaryIndexes ?? []) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.IndexName as string,
        ...keyOf(gsi.KeySchema),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    for (const lsi of definition.LocalSecondaryIndexes ?? []) {
      this.table.addLocalSecondaryIndex({
        indexName: lsi.IndexName as string,
        sortKey: keyOf(lsi.KeySchema).sortKey as dynamodb.Attribute,
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    this.indexNames = [
      ...(definition.GlobalSecondaryIndexes ?? []),
      ...(definition.LocalSecondaryIndexes ?? []),
    ].map((index) => index.IndexName as string);

    // Sealed tokens outlive a stack deletion with the table: so does the key that opens them.
    this.tokenKey = new kms.Key(this, 'PageTokenKey', {
      description: 'Pagewire: seals page access tokens (encryption context {pageId})',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      alias: `alias/${Stack.of(this).stackName}/page-tokens`,
    });

    // A placeholder the admin replaces with put-secret-value: no appSecret yet = webhooks fail closed.
    this.appSecret = new secretsmanager.Secret(this, 'AppSecret', {
      description: 'Pagewire: the Facebook app, as JSON {"appId","appSecret","verifyToken"}',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ appId: '', appSecret: '' }),
        generateStringKey: 'verifyToken',
        excludePunctuation: true,
        passwordLength: 32,
      },
    });
    Validations.of(this.appSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The secret holds the Facebook app's id, app secret and webhook verify token: they are issued and " +
        "rotated in Meta's app dashboard, then set here with put-secret-value; a rotation Lambda cannot do that.",
    });

    // Holds message content: private, encrypted, TLS only, retained with the table it completes.
    const privateBucket = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    };
    this.blobAccessLogs = new s3.Bucket(this, 'BlobAccessLogs', {
      ...privateBucket,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: BLOB_ACCESS_LOG_RETENTION }],
    });
    Validations.of(this.blobAccessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives the server access logs of the blob bucket; logging it as well would only log ' +
        'its own log deliveries.',
    });
    this.blobBucket = new s3.Bucket(this, 'Blobs', {
      ...privateBucket,
      serverAccessLogsBucket: this.blobAccessLogs,
      serverAccessLogsPrefix: 'blobs/',
      // `items/` holds parts of stored messages and is kept as long as the table keeps them.
      lifecycleRules: [
        { id: 'ExpireClaimChecks', prefix: BLOB_PREFIXES.claims, expiration: CLAIM_RETENTION },
      ],
    });
  }

  /**
   * Object actions on one key prefix of the blob bucket, nothing else: the verifier writes claim
   * checks, the processor reads them and writes and reads item parts, the admin function reads item parts.
   */
  grantBlobs(
    grantee: iam.IGrantable,
    prefix: BlobPrefix,
    actions: Array<'s3:GetObject' | 's3:PutObject'>,
  ): void {
    const pattern = `${BLOB_PREFIXES[prefix]}*`;
    iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.blobBucket.arnForObjects(pattern)] });
    if (actions.includes('s3:GetObject')) this.grantBlobMisses(grantee, prefix);
    const bucketId = Stack.of(this).getLogicalId(this.blobBucket.node.defaultChild as CfnElement);
    const policy =
      grantee.grantPrincipal instanceof iam.Role
        ? grantee.grantPrincipal.node.tryFindChild('DefaultPolicy')
        : undefined;
    Validations.of(policy ?? (grantee.grantPrincipal as unknown as Construct)).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${pattern}]`,
      reason:
        `Object keys are content hashes and item ids, unknown until run time: the grant is every object under ` +
        `${BLOB_PREFIXES[prefix]} of the blob bucket, for ${actions.join(' and ')} only.`,
    });
  }

  /** The repositories' DynamoDB actions on the table and its indexes. */
  grantTableReadWrite(grantee: iam.IGrantable): void {
    const arn = this.table.tableArn;
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_ACTIONS],
      resourceArns: [arn, ...this.indexNames.map((name) => `${arn}/index/${name}`)],
    });
  }

  /**
   * s3:ListBucket on the blob bucket, for the functions that read blobs. Without it S3 answers a missing
   * key with 403 AccessDenied instead of 404 NoSuchKey (GetObject reference), so a claim check whose blob
   * has expired would look like a permission fault: retried to the dead-letter queue instead of
   * quarantined. With it, the blob store sees "missing". Listing shows keys only (content hashes), and
   * only under the prefix the function reads (`s3:prefix`; S3 checks a miss's ListBucket with its key).
   */
  private grantBlobMisses(grantee: iam.IGrantable, prefix: BlobPrefix): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.blobBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': `${BLOB_PREFIXES[prefix]}*` } },
    });
  }

  /** kms:Encrypt, only with a `pageId` encryption context: the admin function seals tokens on connect. */
  grantTokenSealing(grantee: iam.IGrantable): void {
    this.grantTokenKey(grantee, ['kms:Encrypt'], { StringNotLike: { [PAGE_ID_CONTEXT]: LINK_CONTEXTS } });
  }

  /** kms:Decrypt, only with a `pageId` encryption context: every function that calls the Graph API. */
  grantTokenUnsealing(grantee: iam.IGrantable): void {
    this.grantTokenKey(grantee, ['kms:Decrypt'], { StringNotLike: { [PAGE_ID_CONTEXT]: LINK_CONTEXTS } });
  }

  /**
   * kms:Encrypt and kms:Decrypt of Facebook Login links' user tokens only (context `link-{linkId}`):
   * the connect function. The page-token grants above refuse that context, so no other function can
   * open a user's long-lived token.
   */
  grantLinkTokens(grantee: iam.IGrantable): void {
    this.grantTokenKey(grantee, ['kms:Encrypt', 'kms:Decrypt'], {
      StringLike: { [PAGE_ID_CONTEXT]: LINK_CONTEXTS },
    });
  }

  /** secretsmanager:GetSecretValue on the app secret (Powertools Parameters reads and caches it). */
  grantAppSecretRead(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.appSecret.secretArn],
    });
  }

  private grantTokenKey(grantee: iam.IGrantable, actions: string[], which: Record<string, unknown>): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions,
        resources: [this.tokenKey.keyArn],
        conditions: {
          // The context holds pageId (ForAnyValue) and nothing else (ForAllValues): exactly {pageId}.
          'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': TOKEN_CONTEXT_KEY },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': TOKEN_CONTEXT_KEY },
          ...which,
        },
      }),
    );
  }
}
