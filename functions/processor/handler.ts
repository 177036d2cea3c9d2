import { dynamoTable } from '#adapters/aws/dynamodb';
import { eventBridgePublisher } from '#adapters/aws/eventbridge-publisher';
import { kmsSealer } from '#adapters/aws/kms-token-sealer';
import { s3Blobs } from '#adapters/aws/s3-blobs';
import { s3Media } from '#adapters/aws/s3-media';
import { secretsCredentials } from '#adapters/aws/secrets-credentials';
import { sqsMediaQueue } from '#adapters/aws/sqs-media';
import { lockFromUrl } from '#adapters/redis/lock-from-url';
import { configOf } from '#app/config';
import { composeProcessor } from '#app/processor';
import { ProcessorEnv, readEnv } from '#contracts/env';

const env = readEnv(ProcessorEnv);
export const handler = composeProcessor(configOf(env), {
  table: dynamoTable(),
  sealer: kmsSealer(env.KMS_KEY_ID),
  credentials: secretsCredentials(env.APP_SECRET_NAME),
  blobs: s3Blobs(env.BLOB_BUCKET),
  lock: await lockFromUrl({ url: env.LOCK_REDIS_URL, ttlMs: env.LOCK_TTL_MS }),
  publisher: eventBridgePublisher(env.EVENT_BUS_NAME),
  mediaQueue: env.MEDIA_QUEUE_URL ? sqsMediaQueue(env.MEDIA_QUEUE_URL) : undefined,
  media: env.MEDIA_BUCKET ? s3Media(env.MEDIA_BUCKET) : undefined,
});
