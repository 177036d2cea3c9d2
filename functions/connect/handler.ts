import { dynamoTable } from '#adapters/aws/dynamodb';
import { eventBridgePublisher } from '#adapters/aws/eventbridge-publisher';
import { kmsSealer } from '#adapters/aws/kms-token-sealer';
import { secretsCredentials } from '#adapters/aws/secrets-credentials';
import { sqsQueue } from '#adapters/aws/sqs-event-queue';
import { configOf } from '#app/config';
import { composeConnectLogin } from '#app/connect-login';
import { ConnectLoginEnv, readEnv } from '#contracts/env';

const env = readEnv(ConnectLoginEnv);
export const handler = composeConnectLogin(configOf(env), {
  table: dynamoTable(),
  sealer: kmsSealer(env.KMS_KEY_ID),
  credentials: secretsCredentials(env.APP_SECRET_NAME),
  commandsQueue: sqsQueue(env.PAGE_COMMANDS_QUEUE_URL),
  publisher: eventBridgePublisher(env.EVENT_BUS_NAME),
});
