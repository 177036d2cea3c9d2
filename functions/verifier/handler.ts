import { awsBlobStore, awsCredentials, awsEventsQueue } from '../commons/aws/aws-adapters.js';
import { loadConfig } from '../commons/config.js';
import { hotPathLambda } from '../commons/lambda.js';
import { createVerifier } from './verify-webhook.js';

const config = loadConfig();

export const handler = hotPathLambda(
  createVerifier({
    queue: awsEventsQueue(config),
    credentials: awsCredentials(config),
    blobs: awsBlobStore(config),
  }),
);
