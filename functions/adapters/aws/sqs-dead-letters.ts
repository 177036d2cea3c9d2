import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import {
  chosen,
  DeadLetterQueueNotConfigured,
  type DeadLetterQueues,
  type DeadLetterQueueView,
  deadLetterEnvNames,
  type MoveTaskView,
  QUEUE_NAMES,
  type QueueName,
  type RedriveOutcome,
} from '#contracts/dead-letters';
import { sqsClient } from './sqs-event-queue.js';

/** One work queue and its dead-letter queue, as the admin function's environment names them. */
export interface SqsDeadLetterQueue {
  queue: QueueName;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
  /** Where a redrive sends the dead letters: the queue they died in. */
  sourceQueueArn: string;
}

export const SQS_CANNOT_LIST =
  'SQS counts a queue but cannot list its messages without receiving them (which hides them from ' +
  'everyone else for a while): read them in the SQS console (Poll for messages) or with aws sqs receive-message';

/** The queues whose three variables are all set. */
export function deadLetterQueuesFromEnv(
  env: Record<string, string | undefined> = process.env,
): SqsDeadLetterQueue[] {
  return QUEUE_NAMES.flatMap((queue) => {
    const names = deadLetterEnvNames(queue);
    const [url, arn, source] = [env[names.url], env[names.arn], env[names.source]];
    if (!url || !arn || !source) return [];
    return [{ queue, deadLetterQueueUrl: url, deadLetterQueueArn: arn, sourceQueueArn: source }];
  });
}

/**
 * Dead letters on AWS: `GetQueueAttributes` counts them (SQS cannot list messages without receiving
 * them), `StartMessageMoveTask` moves them back to their queue (FIFO order kept per group, new
 * message ids), `ListMessageMoveTasks` reports the latest move. One move per queue at a time (SQS).
 */
export class SqsDeadLetters implements DeadLetterQueues {
  constructor(
    private readonly client: SQSClient,
    private readonly queues: SqsDeadLetterQueue[],
  ) {}

  async list(opts: { queue?: QueueName }): Promise<DeadLetterQueueView[]> {
    return Promise.all(
      chosen(opts.queue).map(async (name) => {
        const q = this.find(name);
        const [count, task] = await Promise.all([this.count(q), this.latestTask(q)]);
        return {
          queue: name,
          count,
          approximate: true,
          note: SQS_CANNOT_LIST,
          ...(task ? { lastRedrive: task } : {}),
        };
      }),
    );
  }

  async redrive(queue?: QueueName): Promise<RedriveOutcome[]> {
    return Promise.all(chosen(queue).map((name) => this.redriveOne(this.find(name))));
  }

  private async redriveOne(q: SqsDeadLetterQueue): Promise<RedriveOutcome> {
    const latest = await this.latestTask(q);
    if (latest?.status === 'RUNNING') {
      const left = (latest.toMove ?? 0) - (latest.moved ?? 0);
      return { queue: q.queue, status: 'running', count: Math.max(0, left), task: latest };
    }
    // Counts lag a minute behind; a letter that died just now is moved by the next redrive.
    const count = await this.count(q);
    if (count === 0) return { queue: q.queue, status: 'empty', count: 0 };
    const started = await this.client.send(
      new StartMessageMoveTaskCommand({ SourceArn: q.deadLetterQueueArn, DestinationArn: q.sourceQueueArn }),
    );
    return {
      queue: q.queue,
      status: 'started',
      count,
      task: { status: 'RUNNING', ...(started.TaskHandle ? { taskHandle: started.TaskHandle } : {}) },
    };
  }

  private find(queue: QueueName): SqsDeadLetterQueue {
    const found = this.queues.find((q) => q.queue === queue);
    if (!found) {
      const names = Object.values(deadLetterEnvNames(queue)).join(', ');
      throw new DeadLetterQueueNotConfigured(`the ${queue} dead-letter queue is not configured (${names})`);
    }
    return found;
  }

  /** Visible and in-flight messages of the dead-letter queue (someone may be reading them). */
  private async count(q: SqsDeadLetterQueue): Promise<number> {
    const { Attributes = {} } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: q.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  }

  private async latestTask(q: SqsDeadLetterQueue): Promise<MoveTaskView | undefined> {
    const { Results = [] } = await this.client.send(
      new ListMessageMoveTasksCommand({ SourceArn: q.deadLetterQueueArn, MaxResults: 1 }),
    );
    return Results[0] ? taskView(Results[0]) : undefined;
  }
}

function taskView(t: ListMessageMoveTasksResultEntry): MoveTaskView {
  return {
    status: t.Status ?? 'UNKNOWN',
    ...(t.TaskHandle ? { taskHandle: t.TaskHandle } : {}),
    ...(t.StartedTimestamp ? { startedAt: new Date(t.StartedTimestamp).toISOString() } : {}),
    ...(t.ApproximateNumberOfMessagesMoved !== undefined
      ? { moved: t.ApproximateNumberOfMessagesMoved }
      : {}),
    ...(t.ApproximateNumberOfMessagesToMove !== undefined
      ? { toMove: t.ApproximateNumberOfMessagesToMove }
      : {}),
    ...(t.FailureReason ? { failureReason: t.FailureReason } : {}),
  };
}

/** The admin function's dead letters: the queues named by `EVENTS_DLQ_*` and `PAGE_COMMANDS_DLQ_*`. */
export const sqsDeadLetters = (env: Record<string, string | undefined> = process.env): SqsDeadLetters =>
  new SqsDeadLetters(sqsClient(), deadLetterQueuesFromEnv(env));
