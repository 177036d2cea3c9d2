import { dynamoTable } from '#adapters/aws/dynamodb';
import { eventBridgePublisher } from '#adapters/aws/eventbridge-publisher';
import { kmsSealer } from '#adapters/aws/kms-token-sealer';
import { secretsCredentials } from '#adapters/aws/secrets-credentials';
import { configOf } from '#app/config';
import { composePageCommands } from '#app/page-commands';
import { PageCommandsEnv, readEnv } from '#contracts/env';

const env = readEnv(PageCommandsEnv);
export const handler = composePageCommands(configOf(env), {
  table: dynamoTable(),
  sealer: kmsSealer(env.KMS_KEY_ID),
  credentials: secretsCredentials(env.APP_SECRET_NAME),
  publisher: eventBridgePublisher(env.EVENT_BUS_NAME),
});
