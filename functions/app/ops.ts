import { createOps } from '#pages/run-ops';
import { lambda } from '#runtime/lambda';
import type { AdaptersFor } from './adapters.js';
import type { Config } from './config.js';
import { pageOpsDeps } from './page-ops.js';

/** The ops function: bulk runs by direct invoke, and the scheduled health check. */
export function composeOps(config: Config, a: AdaptersFor<'ops'>) {
  return lambda(createOps(pageOpsDeps(config, a).bulk));
}
