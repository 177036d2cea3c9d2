import { summaryOf, TOKEN_CHECK_EVERY_MS } from '#contracts/doctor';
import { runDoctor } from '#doctor/doctor';
import type { PageOpsDeps } from '#pages/page-ops-deps';
import type { DoctorRun } from '#pages/run-ops';
import type { AppCredentialsSource } from '#ports/ports';
import type { Config } from './config.js';
import { graphFactory } from './graph.js';

/**
 * The scheduled doctor (SPEC §9) over the page operations' collaborators: repair on, each token
 * introspected about once a day (spread over the hourly runs), answered as a summary.
 */
export function scheduledDoctor(
  config: Config,
  ops: PageOpsDeps,
  credentials: AppCredentialsSource,
): DoctorRun {
  const graph = graphFactory(config, credentials);
  return async (deadline) => {
    const [client, app] = await Promise.all([graph(), credentials.get()]);
    if (!client || !app) throw new Error('the Facebook app credentials are not configured');
    const report = await runDoctor(
      {
        graph: client,
        pages: ops.pages,
        access: ops.access,
        operations: await ops.bulk.operations(),
        verifyToken: app.verifyToken ?? '',
        // Read at each run: the local stack learns its URL only once it listens.
        webhookUrl: config.webhookUrl,
        concurrency: config.pageOpsConcurrency,
        tokenCheckEveryMs: TOKEN_CHECK_EVERY_MS,
      },
      { repair: true, deadline },
    );
    return summaryOf(report);
  };
}
