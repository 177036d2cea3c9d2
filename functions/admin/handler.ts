import {
  awsBlobStore,
  awsCommandsQueue,
  awsCredentials,
  awsDeadLetters,
  awsDocumentClient,
  awsTokenSealer,
} from '#adapters/aws/aws-adapters';
import { adminDeps } from '#app/admin';
import { loadConfig } from '#app/config';
import { lambda } from '#runtime/lambda';
import { createAdminApi } from './routes.js';

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
