/**
 * Cold-start prototype (bench/cold-start.ts bundles it): the verifier entry importing only the clients it
 * uses. functions/verifier/handler.ts takes `aws` from aws-adapters.ts, whose one object references the
 * KMS and DynamoDB clients too, so esbuild cannot drop them from the verifier's bundle.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerCredentials } from '../../functions/commons/app-credentials.js';
import { SqsEventQueue } from '../../functions/commons/aws/sqs-event-queue.js';
import { loadConfig, required } from '../../functions/commons/config.js';
import { lambda } from '../../functions/commons/lambda.js';
import { createVerifier } from '../../functions/verifier/verify-webhook.js';

const config = loadConfig();

export const handler = lambda(
  createVerifier({
    queue: new SqsEventQueue(new SQSClient({}), required(config.eventsQueueUrl, 'EVENTS_QUEUE_URL')),
    credentials: new SecretsManagerCredentials(required(config.appSecretName, 'APP_SECRET_NAME')),
  }),
);
