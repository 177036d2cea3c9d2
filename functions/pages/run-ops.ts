import { BULK_ACTIONS, OpsEvent } from '#contracts/ops-event';
import type { Deadline } from '#runtime/deadline';
import { logger } from '#runtime/observability';
import { type BulkDeps, runBulkAction } from './bulk.js';
import type { BulkReport } from './bulk-run.js';

export type { OpsEvent } from '#contracts/ops-event';

/**
 * The ops function: `aws lambda invoke --payload '{"action":"resubscribe-all"}'` answers SPEC §4's
 * report; the scheduled health check runs check-and-repair (Meta cuts a failing app off after ~1 h).
 */
export function createOps(deps: BulkDeps) {
  return async (event: unknown, _context: unknown, deadline: Deadline): Promise<BulkReport> => {
    const parsed = OpsEvent.safeParse(event);
    if (!parsed.success) {
      const action = (event as { action?: unknown } | null | undefined)?.action;
      throw new Error(`unknown action ${JSON.stringify(action)}: use one of ${BULK_ACTIONS.join(', ')}`);
    }
    const action = 'action' in parsed.data ? parsed.data.action : 'check-and-repair';
    const report = await runBulkAction(deps, action, deadline);
    logger.info('ops run done', {
      action,
      total: report.total,
      succeeded: report.succeeded,
      failed: report.failed.length,
      repaired: report.repaired.length,
      queued: report.queued,
    });
    return report;
  };
}
