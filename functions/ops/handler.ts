import { dynamoTable } from '#adapters/aws/dynamodb';
import { eventBridgePublisher } from '#adapters/aws/eventbridge-publisher';
import { kmsSealer } from '#adapters/aws/kms-token-sealer';
import { secretsCredentials } from '#adapters/aws/secrets-credentials';
import { sqsQueue } from '#adapters/aws/sqs-event-queue';
import { configOf } from '#app/config';
import { composeOps } from '#app/ops';
import { OpsEnv, readEnv } from '#contracts/env';

const env = readEnv(OpsEnv);
export const handler = composeOps(configOf(env), {
  table: dynamoTable(),
  sealer: kmsSealer(env.KMS_KEY_ID),
  credentials: secretsCredentials(env.APP_SECRET_NAME),
  commandsQueue: sqsQueue(env.PAGE_COMMANDS_QUEUE_URL),
  publisher: eventBridgePublisher(env.EVENT_BUS_NAME),
});
