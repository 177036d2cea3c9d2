import { createOps } from '#pages/run-ops';
import { lambda } from '#runtime/lambda';
import type { AdaptersFor } from './adapters.js';
import type { Config } from './config.js';
import { scheduledDoctor } from './doctor.js';
import { pageOpsDeps } from './page-ops.js';

/** The ops function: bulk runs by direct invoke, and the scheduled health check (the doctor, repairing). */
export function composeOps(config: Config, a: AdaptersFor<'ops'>) {
  const ops = pageOpsDeps(config, a);
  return lambda(createOps(ops.bulk, scheduledDoctor(config, ops, a.credentials)));
}
