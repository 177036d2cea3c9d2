import { awsBlobStore, awsCredentials, awsEventsQueue } from '#adapters/aws/aws-adapters';
import { loadConfig } from '#app/config';
import { createVerifier } from '#ingest/verify-webhook';
import { hotPathLambda } from '#runtime/lambda';

const config = loadConfig();

export const handler = hotPathLambda(
  createVerifier({
    queue: awsEventsQueue(config),
    credentials: awsCredentials(config),
    blobs: awsBlobStore(config),
  }),
);
