import { dynamoTable } from '#adapters/aws/dynamodb';
import { eventBridgePublisher } from '#adapters/aws/eventbridge-publisher';
import { kmsSealer } from '#adapters/aws/kms-token-sealer';
import { s3Blobs } from '#adapters/aws/s3-blobs';
import { s3Media } from '#adapters/aws/s3-media';
import { secretsCredentials } from '#adapters/aws/secrets-credentials';
import { sqsDeadLetters } from '#adapters/aws/sqs-dead-letters';
import { sqsQueue } from '#adapters/aws/sqs-event-queue';
import { composeAdmin } from '#app/admin';
import { configOf } from '#app/config';
import { AdminEnv, readEnv } from '#contracts/env';

const env = readEnv(AdminEnv);
export const handler = composeAdmin(configOf(env), {
  table: dynamoTable(),
  sealer: kmsSealer(env.KMS_KEY_ID),
  credentials: secretsCredentials(env.APP_SECRET_NAME),
  commandsQueue: sqsQueue(env.PAGE_COMMANDS_QUEUE_URL),
  blobs: s3Blobs(env.BLOB_BUCKET),
  deadLetters: sqsDeadLetters(),
  publisher: eventBridgePublisher(env.EVENT_BUS_NAME),
  media: env.MEDIA_BUCKET ? s3Media(env.MEDIA_BUCKET) : undefined,
});
