import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerCredentials } from '../commons/app-credentials.js';
import { SqsEventQueue } from '../commons/aws/sqs-event-queue.js';
import { loadConfig, required } from '../commons/config.js';
import { lambda } from '../commons/lambda.js';
import { createVerifier } from './verify-webhook.js';

const config = loadConfig();

export const handler = lambda(
  createVerifier({
    queue: new SqsEventQueue(new SQSClient({}), required(config.eventsQueueUrl, 'EVENTS_QUEUE_URL')),
    credentials: new SecretsManagerCredentials(required(config.appSecretName, 'APP_SECRET_NAME')),
  }),
);
