import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerCredentials } from '../app-credentials.js';
import { type Config, required } from '../config.js';
import { documentClient } from '../store/document-client.js';
import { KmsTokenSealer } from './kms-token-sealer.js';
import { SqsEventQueue } from './sqs-event-queue.js';

/**
 * The AWS side of the ports, built once per container from the function's environment. Each
 * handler takes only what it uses, so a function is never handed a client it has no permission for.
 */
export const aws = {
  doc: () => documentClient(),
  sealer: (config: Config) => new KmsTokenSealer(new KMSClient({}), required(config.kmsKeyId, 'KMS_KEY_ID')),
  credentials: (config: Config) =>
    new SecretsManagerCredentials(required(config.appSecretName, 'APP_SECRET_NAME')),
  eventsQueue: (config: Config) =>
    new SqsEventQueue(sqs(), required(config.eventsQueueUrl, 'EVENTS_QUEUE_URL')),
  commandsQueue: (config: Config) =>
    new SqsEventQueue(sqs(), required(config.pageCommandsQueueUrl, 'PAGE_COMMANDS_QUEUE_URL')),
};

let sqsClient: SQSClient | undefined;
function sqs(): SQSClient {
  sqsClient ??= new SQSClient({});
  return sqsClient;
}
