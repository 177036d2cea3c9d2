import { aws } from '../commons/aws/aws-adapters.js';
import { loadConfig } from '../commons/config.js';
import { lambda } from '../commons/lambda.js';
import { lockFromEnv } from '../commons/lock/redis-lock.js';
import { createEventsProcessor } from './process-events.js';
import { processorDeps } from './processor-deps.js';

const config = loadConfig();

export const handler = lambda(
  createEventsProcessor(
    processorDeps(config, aws.doc(), aws.sealer(config), aws.credentials(config)),
    lockFromEnv(process.env),
  ),
);
