/**
 * Media that lasts (SPEC §10): the bucket of attachment copies (private, encrypted, TLS only, access
 * logged, expiring after `mediaRetentionDays`), the standard SQS media queue with its dead-letter queue,
 * and the media function that copies. Grants: the worker may only put objects under `media/` (and abort
 * its own multipart uploads), the processor only send jobs, the admin function only read objects (the
 * presigned links it hands out are signed with its role).
 */
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECEIVE_COUNT, SQS_MAX_BATCH_ENTRIES } from '#contracts/limits';
import type { Data } from './data.js';
import { PagewireFunction } from './pagewire-function.js';

export const MEDIA_WORKER_TIMEOUT = Duration.seconds(120);
/** Every copy lives under this prefix (functions/media/media-key.ts). */
export const MEDIA_OBJECTS = 'media/*';

export interface MediaProps {
  data: Data;
  /** Days a copy is kept (context `mediaRetentionDays`). */
  retentionDays: number;
}

export class Media extends Construct {
  readonly bucket: s3.Bucket;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly worker: PagewireFunction;

  constructor(scope: Construct, id: string, props: MediaProps) {
    super(scope, id);
    const { data } = props;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Copies of people's attachments: kept with the table whose messages point at them.
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: data.blobAccessLogs,
      serverAccessLogsPrefix: 'media/',
      lifecycleRules: [
        {
          id: 'ExpireMediaCopies',
          expiration: Duration.days(props.retentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    const common = {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    } satisfies sqs.QueueProps;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...common,
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
    });
    // Standard, not FIFO: copies need no order. A failed copy comes back after the visibility timeout
    // (six worker timeouts, as Lambda advises), and after five receives the worker records it as failed.
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: Duration.seconds(MEDIA_WORKER_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.worker = new PagewireFunction(this, 'Worker', {
      name: 'media-worker',
      description: "Pagewire: copies attachments from Meta's CDN into the media bucket",
      timeout: MEDIA_WORKER_TIMEOUT,
      memorySize: 512,
      environment: {
        TABLE_NAME: data.table.tableName,
        MEDIA_BUCKET: this.bucket.bucketName,
      },
    });
    data.grantTableReadWrite(this.worker.role);
    this.grantObjects(this.worker.role, ['s3:PutObject', 's3:AbortMultipartUpload']);
    this.worker.lambda.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: SQS_MAX_BATCH_ENTRIES,
        reportBatchItemFailures: true,
        maxConcurrency: 10,
      }),
    );
  }

  /** The processor queues copies: sqs:SendMessage on the media queue, and its URL. */
  grantEnqueue(fn: PagewireFunction): void {
    // SendMessage only (grantSendMessages would add GetQueueAttributes and GetQueueUrl, never called).
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    fn.lambda.addEnvironment('MEDIA_QUEUE_URL', this.queue.queueUrl);
  }

  /**
   * The processor erases an unsent message's copies (SPEC §11): s3:DeleteObject under media/, and
   * s3:ListBucket only for keys under media/ (it lists the message's copies to delete them).
   */
  grantErase(fn: PagewireFunction): void {
    this.grantObjects(fn.role, ['s3:DeleteObject']);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'MediaCopiesList',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [MEDIA_OBJECTS] } },
      }),
    );
    fn.lambda.addEnvironment('MEDIA_BUCKET', this.bucket.bucketName);
  }

  /** The admin function links to copies: s3:GetObject under media/ only (it signs the links). */
  grantLinks(fn: PagewireFunction): void {
    this.grantObjects(fn.role, ['s3:GetObject']);
    fn.lambda.addEnvironment('MEDIA_BUCKET', this.bucket.bucketName);
  }

  private grantObjects(role: iam.Role, actions: string[]): void {
    // A statement of its own (sid), never merged with the blob bucket's grants of the same actions.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'MediaCopies',
        actions,
        resources: [this.bucket.arnForObjects(MEDIA_OBJECTS)],
      }),
    );
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    Validations.of(role.node.tryFindChild('DefaultPolicy') ?? role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${MEDIA_OBJECTS}]`,
      reason: `Copy keys derive from message ids at run time: the grant is every object under media/ of the media bucket, for ${actions.join(' and ')} only.`,
    });
  }
}
