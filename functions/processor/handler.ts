import { awsBlobStore, awsCredentials, awsDocumentClient, awsTokenSealer } from '#adapters/aws/aws-adapters';
import { conversationLockFromEnv } from '#adapters/redis/lock-from-env';
import { loadConfig } from '#app/config';
import { processorDeps } from '#app/processor';
import { createEventsProcessor } from '#conversations/process-events';
import { lambda } from '#runtime/lambda';

const config = loadConfig();

export const handler = lambda(
  createEventsProcessor(
    processorDeps(
      config,
      awsDocumentClient(),
      awsTokenSealer(config),
      awsCredentials(config),
      awsBlobStore(config),
    ),
    await conversationLockFromEnv(process.env),
  ),
);
