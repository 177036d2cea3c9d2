import { s3Blobs } from '#adapters/aws/s3-blobs';
import { secretsCredentials } from '#adapters/aws/secrets-credentials';
import { sqsQueue } from '#adapters/aws/sqs-event-queue';
import { configOf } from '#app/config';
import { composeVerifier } from '#app/verifier';
import { readEnv, VerifierEnv } from '#contracts/env';

const env = readEnv(VerifierEnv);
export const handler = composeVerifier(configOf(env), {
  eventsQueue: sqsQueue(env.EVENTS_QUEUE_URL),
  credentials: secretsCredentials(env.APP_SECRET_NAME),
  blobs: s3Blobs(env.BLOB_BUCKET),
});
