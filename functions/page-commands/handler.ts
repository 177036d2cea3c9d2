import { awsCredentials, awsDocumentClient, awsTokenSealer } from '../commons/aws/aws-adapters.js';
import { loadConfig } from '../commons/config.js';
import { lambda } from '../commons/lambda.js';
import { pageOpsDeps } from '../commons/pages/page-ops-deps.js';
import { createPageCommandsProcessor } from './process-page-commands.js';

const config = loadConfig();
const deps = pageOpsDeps(config, awsDocumentClient(), awsTokenSealer(config), awsCredentials(config));

export const handler = lambda(
  createPageCommandsProcessor({ pages: deps.pages, operations: deps.bulk.operations }),
);
