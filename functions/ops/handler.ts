import { aws } from '../commons/aws/aws-adapters.js';
import { loadConfig } from '../commons/config.js';
import { lambda } from '../commons/lambda.js';
import { pageOpsDeps } from '../commons/pages/page-ops-deps.js';
import { createOps } from './run-ops.js';

const config = loadConfig();
const deps = pageOpsDeps(
  config,
  aws.doc(),
  aws.sealer(config),
  aws.credentials(config),
  aws.commandsQueue(config),
);

export const handler = lambda(createOps(deps.bulk));
