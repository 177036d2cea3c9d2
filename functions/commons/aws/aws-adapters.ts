import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerCredentials } from '../app-credentials.js';
import { type Config, required } from '../config.js';
import { documentClient } from '../store/document-client.js';
import { KmsTokenSealer } from './kms-token-sealer.js';
import { S3BlobStore } from './s3-blob-store.js';
import { deadLetterQueuesFromEnv, SqsDeadLetters } from './sqs-dead-letters.js';
import { SqsEventQueue } from './sqs-event-queue.js';

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
  sqsClient ??= new SQSClient({});
  return sqsClient;
}

export const awsBlobStore = (config: Config) =>
  new S3BlobStore(new S3Client({}), required(config.blobBucket, 'BLOB_BUCKET'));
