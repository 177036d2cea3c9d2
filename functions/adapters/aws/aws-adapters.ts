import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type Config, required } from '#app/config';
import type { BlobStore } from '#ports/ports';
import { documentClient } from './dynamodb.js';
import { KmsTokenSealer } from './kms-token-sealer.js';
import { SecretsManagerCredentials } from './secrets-credentials.js';
import { deadLetterQueuesFromEnv, SqsDeadLetters } from './sqs-dead-letters.js';
import { SQS_CLIENT_CONFIG, SqsEventQueue } from './sqs-event-queue.js';

/*
 * The AWS side of the ports, one function each, built once per container from the function's
 * environment. Separate functions (not one object) so the bundler leaves out the clients a handler
 * does not use: the verifier carries neither DynamoDB nor KMS, and a function is never handed a client
 * it has no permission for.
 */

export const awsDocumentClient = () => documentClient();

export const awsTokenSealer = (config: Config) =>
  new KmsTokenSealer(new KMSClient({}), required(config.kmsKeyId, 'KMS_KEY_ID'));

export const awsCredentials = (config: Config) =>
  new SecretsManagerCredentials(required(config.appSecretName, 'APP_SECRET_NAME'));

export const awsEventsQueue = (config: Config) =>
  new SqsEventQueue(sqs(), required(config.eventsQueueUrl, 'EVENTS_QUEUE_URL'));

export const awsCommandsQueue = (config: Config) =>
  new SqsEventQueue(sqs(), required(config.pageCommandsQueueUrl, 'PAGE_COMMANDS_QUEUE_URL'));

/** The dead letters of the queues named by `EVENTS_DLQ_*` and `PAGE_COMMANDS_DLQ_*` (admin function). */
export const awsDeadLetters = () => new SqsDeadLetters(sqs(), deadLetterQueuesFromEnv());

let sqsClient: SQSClient | undefined;
function sqs(): SQSClient {
  sqsClient ??= new SQSClient(SQS_CLIENT_CONFIG);
  return sqsClient;
}

/**
 * The S3 blob store. The S3 client loads on first use: the verifier needs it only for the rare claim
 * check, and its cold start is on Facebook's clock (the S3 client is about a third of a bundle).
 */
export const awsBlobStore = (config: Config): BlobStore => {
  const bucket = required(config.blobBucket, 'BLOB_BUCKET');
  let store: Promise<BlobStore> | undefined;
  const load = () => {
    store ??= Promise.all([import('./s3-client.js'), import('./s3-blob-store.js')]).then(
      ([{ S3Client }, { S3BlobStore }]) => new S3BlobStore(new S3Client({}), bucket),
    );
    return store;
  };
  return {
    put: async (key, body) => (await load()).put(key, body),
    get: async (key) => (await load()).get(key),
  };
};
