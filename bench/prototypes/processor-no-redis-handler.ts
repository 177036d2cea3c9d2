/**
 * Cold-start prototype (bench/cold-start.ts bundles it): the processor entry without the optional Redis
 * lock, i.e. what it would cost if `lockFromEnv` loaded ioredis with `import()` only when a lock URL is set.
 */
import { aws } from '../../functions/commons/aws/aws-adapters.js';
import { loadConfig } from '../../functions/commons/config.js';
import { lambda } from '../../functions/commons/lambda.js';
import { createEventsProcessor } from '../../functions/processor/process-events.js';
import { processorDeps } from '../../functions/processor/processor-deps.js';

const config = loadConfig();

export const handler = lambda(
  createEventsProcessor(processorDeps(config, aws.doc(), aws.sealer(config), aws.credentials(config))),
);
