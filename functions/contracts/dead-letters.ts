import * as z from 'zod/mini';

/**
 * The dead letters of Pagewire's two FIFO queues, as `GET /admin/dead-letters` and
 * `POST /admin/dead-letters/redrive` show them (`npx pagewire dead-letters list|redrive`). Locally the
 * running stack lists and moves its own dead letters (kept under DATA_DIR); on AWS the admin function
 * asks SQS, which counts a queue's messages but cannot list them without receiving them (and so
 * hiding them from everyone else for a visibility timeout): there the answer has a count and no list.
 */
/** How much of a dead letter's body a listing shows: enough to see what it is, not megabytes. */
export const BODY_PREVIEW_CHARS = 2_000;

export const QUEUE_NAMES = ['events', 'page-commands'] as const;
export const QueueName = z.enum(QUEUE_NAMES);
export type QueueName = z.infer<typeof QueueName>;

export const DeadLetterView = z.object({
  messageId: z.string(),
  /** The FIFO group: `{pageId}:{userId}` for events, the page id for page commands. */
  groupId: z.string(),
  dedupId: z.string(),
  receiveCount: z.int(),
  sentAt: z.string(),
  deadAt: z.string(),
  bytes: z.int(),
  /** The queued message, its first BODY_PREVIEW_CHARS characters (webhook events carry no secrets). */
  body: z.string(),
  truncated: z.optional(z.boolean()),
});
export type DeadLetterView = z.infer<typeof DeadLetterView>;

/** An SQS message move task (a redrive), as ListMessageMoveTasks reports it. */
export const MoveTaskView = z.object({
  status: z.string(),
  taskHandle: z.optional(z.string()),
  startedAt: z.optional(z.string()),
  moved: z.optional(z.int()),
  toMove: z.optional(z.int()),
  failureReason: z.optional(z.string()),
});
export type MoveTaskView = z.infer<typeof MoveTaskView>;

export const DeadLetterQueueView = z.object({
  queue: QueueName,
  /** How many dead letters the queue holds; SQS's figure is approximate. */
  count: z.int(),
  approximate: z.boolean(),
  /** The dead letters, oldest first (at most `limit`); absent where they cannot be listed (SQS). */
  messages: z.optional(z.array(DeadLetterView)),
  /** Why `messages` is absent. */
  note: z.optional(z.string()),
  /** The latest redrive of this queue's dead letters, where there is one to report (SQS). */
  lastRedrive: z.optional(MoveTaskView),
});
export type DeadLetterQueueView = z.infer<typeof DeadLetterQueueView>;

export const DeadLettersAnswer = z.object({ queues: z.array(DeadLetterQueueView) });
export type DeadLettersAnswer = z.infer<typeof DeadLettersAnswer>;

export const RedriveBody = z.nullable(z.strictObject({ queue: z.optional(QueueName) }));

export const RedriveOutcome = z.object({
  queue: QueueName,
  /**
   * `moved`: back in the queue (locally, at once); `started`: SQS moves them in the background;
   * `running`: a redrive of this queue was already running (SQS allows one at a time); `empty`.
   */
  status: z.enum(['moved', 'started', 'running', 'empty']),
  /** How many moved (locally) or are about to (SQS, approximate). */
  count: z.int(),
  task: z.optional(MoveTaskView),
});
export type RedriveOutcome = z.infer<typeof RedriveOutcome>;

export const RedriveAnswer = z.object({ queues: z.array(RedriveOutcome) });
export type RedriveAnswer = z.infer<typeof RedriveAnswer>;

/** The dead letters of the queues a deployment has (the local stack's, or SQS's). */
export interface DeadLetterQueues {
  list(opts: { queue?: QueueName; limit: number }): Promise<DeadLetterQueueView[]>;
  /** Moves the dead letters of `queue` (default: every queue) back to their queue. */
  redrive(queue?: QueueName): Promise<RedriveOutcome[]>;
}

/** The admin function's variables for a queue: `events` → `EVENTS_DLQ_URL`, `EVENTS_DLQ_ARN`, `EVENTS_QUEUE_ARN`; `page-commands` → `PAGE_COMMANDS_…`. */
export function deadLetterEnvNames(queue: QueueName) {
  const prefix = queue.toUpperCase().replaceAll('-', '_');
  return { url: `${prefix}_DLQ_URL`, arn: `${prefix}_DLQ_ARN`, source: `${prefix}_QUEUE_ARN` } as const;
}

/** The queues named, or all of them. */
export function chosen(queue: QueueName | undefined): readonly QueueName[] {
  return queue ? [queue] : QUEUE_NAMES;
}

/** The deployment has no such dead-letter queue configured (an admin function deployed without it). */
export class DeadLetterQueueNotConfigured extends Error {
  override readonly name = 'DeadLetterQueueNotConfigured';
}
