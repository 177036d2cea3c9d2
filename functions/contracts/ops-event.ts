import * as z from 'zod/mini';

/** What the ops function and the admin API can run over every connected page. */
export const BULK_ACTIONS = ['resubscribe-all', 'check', 'check-and-repair'] as const;
export const BulkAction = z.enum(BULK_ACTIONS);
export type BulkAction = z.infer<typeof BulkAction>;

/** The EventBridge schedule's event: it runs the health check with repair. */
export const ScheduledEvent = z.object({ 'detail-type': z.literal('Scheduled Event') });

/** `{"action":"resubscribe-all"|"check"|"check-and-repair"}` by direct invoke. */
export const ActionEvent = z.object({ action: BulkAction });

export const OpsEvent = z.union([ScheduledEvent, ActionEvent]);
export type OpsEvent = z.infer<typeof OpsEvent>;
