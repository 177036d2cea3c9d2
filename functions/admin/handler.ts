import {
  awsBlobStore,
  awsCommandsQueue,
  awsCredentials,
  awsDeadLetters,
  awsDocumentClient,
  awsTokenSealer,
} from '../commons/aws/aws-adapters.js';
import { loadConfig } from '../commons/config.js';
import { lambda } from '../commons/lambda.js';
import { createAdminApi } from './admin-api.js';
import { adminDeps } from './admin-deps.js';

const config = loadConfig();

export const handler = lambda(
  createAdminApi({
    ...adminDeps(
      config,
      awsDocumentClient(),
      awsTokenSealer(config),
      awsCredentials(config),
      awsCommandsQueue(config),
      awsBlobStore(config),
    ),
    deadLetters: awsDeadLetters(),
  }),
);
