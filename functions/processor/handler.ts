import {
  awsBlobStore,
  awsCredentials,
  awsDocumentClient,
  awsTokenSealer,
} from '../commons/aws/aws-adapters.js';
import { loadConfig } from '../commons/config.js';
import { lambda } from '../commons/lambda.js';
import { conversationLockFromEnv } from '../commons/lock/lock-from-env.js';
import { createEventsProcessor } from './process-events.js';
import { processorDeps } from './processor-deps.js';

const config = loadConfig();

export const handler = lambda(
  createEventsProcessor(
    processorDeps(config, awsDocumentClient(), awsTokenSealer(config), awsCredentials(config)),
    await conversationLockFromEnv(process.env),
    awsBlobStore(config),
  ),
);
