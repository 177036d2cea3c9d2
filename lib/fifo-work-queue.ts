/**
 * A FIFO work queue and its FIFO dead-letter queue, as both Pagewire queues need them: deduplication
 * ids set by the sender (never content-based), high-throughput FIFO (dedup scope and throughput per
 * message group), SQS-managed encryption, TLS only, a visibility timeout of six consumer timeouts,
 * five receives before a message is set aside, and redrive back from the DLQ allowed.
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECEIVE_COUNT, SQS_MAX_PAYLOAD_BYTES } from '#contracts/limits';

export { MAX_RECEIVE_COUNT };
/** SQS accepts 1 MiB messages since 2025; the verifier sizes its batches by the same figure. */
export const MAX_MESSAGE_BYTES = SQS_MAX_PAYLOAD_BYTES;

export interface FifoWorkQueueProps {
  /** The timeout of the function that consumes the queue; the visibility timeout is six times it. */
  consumerTimeout: Duration;
}

export class FifoWorkQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: FifoWorkQueueProps) {
    super(scope, id);
    const common = {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    } satisfies sqs.QueueProps;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...common,
      // `aws sqs start-message-move-task` moves dead letters back to the work queue.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }
}
