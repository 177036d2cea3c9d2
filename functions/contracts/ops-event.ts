import * as z from 'zod/mini';

/** What the ops function and the admin API can run over every connected page. */
export const BULK_ACTIONS = ['resubscribe-all', 'check', 'check-and-repair'] as const;
export const BulkAction = z.enum(BULK_ACTIONS);
export type BulkAction = z.infer<typeof BulkAction>;

/** What the ops function runs: the bulk actions, and the doctor with repair (SPEC §9). */
export const OPS_ACTIONS = [...BULK_ACTIONS, 'doctor'] as const;
export const OpsAction = z.enum(OPS_ACTIONS);
export type OpsAction = z.infer<typeof OpsAction>;

/** The EventBridge schedule's event: it runs the health check (the doctor, with repair). */
export const ScheduledEvent = z.object({ 'detail-type': z.literal('Scheduled Event') });

/** `{"action":"resubscribe-all"|"check"|"check-and-repair"|"doctor"}` by direct invoke. */
export const ActionEvent = z.object({ action: OpsAction });

export const OpsEvent = z.union([ScheduledEvent, ActionEvent]);
export type OpsEvent = z.infer<typeof OpsEvent>;
