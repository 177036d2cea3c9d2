import { awsCredentials, awsDocumentClient, awsTokenSealer } from '#adapters/aws/aws-adapters';
import { loadConfig } from '#app/config';
import { pageOpsDeps } from '#app/page-ops';
import { createPageCommandsProcessor } from '#pages/command-consumer';
import { lambda } from '#runtime/lambda';

const config = loadConfig();
const deps = pageOpsDeps(config, awsDocumentClient(), awsTokenSealer(config), awsCredentials(config));

export const handler = lambda(
  createPageCommandsProcessor({ pages: deps.pages, operations: deps.bulk.operations }),
);
