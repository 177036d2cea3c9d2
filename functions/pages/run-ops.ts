import { logger } from '#runtime/observability';
import { BULK_ACTIONS, type BulkAction, type BulkDeps, runBulkAction } from './bulk.js';
import type { BulkReport } from './bulk-run.js';

/** `{"action":"resubscribe-all"|"check"|"check-and-repair"}` by direct invoke, or the EventBridge schedule. */
export type OpsEvent = { action?: string; 'detail-type'?: string; source?: string };

/**
 * The ops function: `aws lambda invoke --payload '{"action":"resubscribe-all"}'` answers SPEC §4's
 * report; the scheduled health check runs check-and-repair (Meta cuts a failing app off after ~1 h).
 */
export function createOps(deps: BulkDeps) {
  return async (event: OpsEvent): Promise<BulkReport> => {
    const action = event?.['detail-type'] === 'Scheduled Event' ? 'check-and-repair' : event?.action;
    if (!BULK_ACTIONS.includes(action as BulkAction)) {
      throw new Error(`unknown action ${JSON.stringify(action)}: use one of ${BULK_ACTIONS.join(', ')}`);
    }
    const report = await runBulkAction(deps, action as BulkAction);
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
