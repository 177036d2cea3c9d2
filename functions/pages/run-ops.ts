import type { DoctorSummary } from '#contracts/doctor';
import { type BulkAction, OPS_ACTIONS, OpsEvent } from '#contracts/ops-event';
import type { Deadline } from '#runtime/deadline';
import { logger } from '#runtime/observability';
import { type BulkDeps, runBulkAction } from './bulk.js';
import type { BulkReport } from './bulk-run.js';

export type { OpsEvent } from '#contracts/ops-event';

/** The doctor with repair over the app and every page (doctor/doctor.ts, wired by app/ops.ts). */
export type DoctorRun = (deadline: Deadline) => Promise<DoctorSummary>;

/** A bulk action answers SPEC §4's report; the schedule and `doctor` the doctor's summary. */
export interface OpsHandler {
  (event: { action: BulkAction }, context: unknown, deadline: Deadline): Promise<BulkReport>;
  (event: unknown, context: unknown, deadline: Deadline): Promise<BulkReport | DoctorSummary>;
}

/**
 * The ops function: `aws lambda invoke --payload '{"action":"resubscribe-all"}'` answers SPEC §4's
 * report; `{"action":"doctor"}` and the scheduled health check run the doctor with repair (SPEC §9: the
 * app webhook, every page's subscription, tokens about once a day, new warnings published). Meta cuts a
 * failing app off after ~1 h. Without a doctor the schedule runs check-and-repair, as it used to.
 */
export function createOps(deps: BulkDeps, doctor?: DoctorRun): OpsHandler {
  const handler = async (
    event: unknown,
    _context: unknown,
    deadline: Deadline,
  ): Promise<BulkReport | DoctorSummary> => {
    const parsed = OpsEvent.safeParse(event);
    if (!parsed.success) {
      const action = (event as { action?: unknown } | null | undefined)?.action;
      throw new Error(`unknown action ${JSON.stringify(action)}: use one of ${OPS_ACTIONS.join(', ')}`);
    }
    const action = 'action' in parsed.data ? parsed.data.action : doctor ? 'doctor' : 'check-and-repair';
    if (action === 'doctor') return runDoctorAction(deps, doctor, deadline);
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
  // A bulk action's event gets the bulk report (runBulkAction's); TypeScript cannot see it through the parse.
  return handler as OpsHandler;
}

async function runDoctorAction(
  deps: BulkDeps,
  doctor: DoctorRun | undefined,
  deadline: Deadline,
): Promise<DoctorSummary> {
  if (!doctor) throw new Error('the doctor is not configured in this function');
  // Page events a failed publish left in an outbox first (SPEC §8: never skipped), as bulk runs do.
  const sweep = await deps.pages.publishOutboxes(deadline);
  if (sweep.published || sweep.failedPages.length)
    logger.info('page outboxes swept', { published: sweep.published, failedPages: sweep.failedPages.length });
  const summary = await doctor(deadline);
  logger.info('ops run done', {
    action: 'doctor',
    ok: summary.ok,
    pages: summary.checkedPages,
    pagesWithProblems: summary.pages.length,
    appProblems: summary.app.filter((c) => !c.ok).map((c) => c.name),
  });
  return summary;
}
