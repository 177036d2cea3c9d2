import {
  awsCommandsQueue,
  awsCredentials,
  awsDocumentClient,
  awsTokenSealer,
} from '#adapters/aws/aws-adapters';
import { loadConfig } from '#app/config';
import { pageOpsDeps } from '#app/page-ops';
import { createOps } from '#pages/run-ops';
import { lambda } from '#runtime/lambda';

const config = loadConfig();
const deps = pageOpsDeps(
  config,
  awsDocumentClient(),
  awsTokenSealer(config),
  awsCredentials(config),
  awsCommandsQueue(config),
);

export const handler = lambda(createOps(deps.bulk));
