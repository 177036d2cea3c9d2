/**
 * The events pipeline behind the webhook: the events FIFO queue (group = conversation) with its
 * dead-letter queue, and the processor that stores each event, fed by an event source mapping with
 * partial batch responses and a concurrency cap.
 */
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SQS_MAX_BATCH_ENTRIES } from '#contracts/limits';
import type { Data } from './data.js';
import { FifoWorkQueue } from './fifo-work-queue.js';
import type { ConversationLock } from './lock-cache.js';
import { PagewireFunction } from './pagewire-function.js';
import type { PagewireSettings } from './settings.js';

export const PROCESSOR_TIMEOUT = Duration.seconds(60);
/** FIFO event sources take at most one SQS batch (10 records) and no batching window. */
export const PROCESSOR_BATCH_SIZE = SQS_MAX_BATCH_ENTRIES;

export interface ProcessingProps {
  data: Data;
  settings: PagewireSettings;
  /** With `-c lock=redis`: the processor runs in the lock's VPC and takes the lock. */
  lock?: ConversationLock;
}

export class Processing extends Construct {
  readonly eventsQueue: sqs.Queue;
  readonly eventsDeadLetterQueue: sqs.Queue;
  readonly processor: PagewireFunction;

  constructor(scope: Construct, id: string, props: ProcessingProps) {
    super(scope, id);
    const { data, settings, lock } = props;

    const events = new FifoWorkQueue(this, 'Events', { consumerTimeout: PROCESSOR_TIMEOUT });
    this.eventsQueue = events.queue;
    this.eventsDeadLetterQueue = events.deadLetterQueue;

    this.processor = new PagewireFunction(this, 'Processor', {
      name: 'processor',
      description: 'Pagewire: stores queued webhook events, in order per conversation',
      timeout: PROCESSOR_TIMEOUT,
      environment: {
        TABLE_NAME: data.table.tableName,
        KMS_KEY_ID: data.tokenKey.keyArn,
        APP_SECRET_NAME: data.appSecret.secretName,
        GRAPH_API_VERSION: settings.graphApiVersion,
        BLOB_BUCKET: data.blobBucket.bucketName,
        ...(lock ? { LOCK_REDIS_URL: lock.redisUrl } : {}),
      },
      ...(lock ? lock.clientPlacement : {}),
    });
    data.grantTableReadWrite(this.processor.role);
    data.grantTokenUnsealing(this.processor.role);
    data.grantAppSecretRead(this.processor.role);
    // Claim checks in; parts of stored items too large for DynamoDB out and back.
    data.grantBlobs(this.processor.role, 'claims', ['s3:GetObject']);
    data.grantBlobs(this.processor.role, 'items', ['s3:GetObject', 's3:PutObject']);

    this.processor.lambda.addEventSource(
      new SqsEventSource(this.eventsQueue, {
        batchSize: PROCESSOR_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: settings.processorMaxConcurrency,
      }),
    );
  }
}
