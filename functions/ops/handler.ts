import {
  awsCommandsQueue,
  awsCredentials,
  awsDocumentClient,
  awsTokenSealer,
} from '../commons/aws/aws-adapters.js';
import { loadConfig } from '../commons/config.js';
import { lambda } from '../commons/lambda.js';
import { pageOpsDeps } from '../commons/pages/page-ops-deps.js';
import { createOps } from './run-ops.js';

const config = loadConfig();
const deps = pageOpsDeps(
  config,
  awsDocumentClient(),
  awsTokenSealer(config),
  awsCredentials(config),
  awsCommandsQueue(config),
);

export const handler = lambda(createOps(deps.bulk));
