import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { PageCommand } from '#contracts/page-command';
import type { Deadline } from '#runtime/deadline';
import { logger } from '#runtime/observability';
import { runCommand } from './commands.js';
import { summaryOf } from './outcome.js';
import { commandRecorded } from './page.js';
import type { PageRepository } from './page-repository.js';
import type { PageOperations } from './subscriptions.js';

export interface PageCommandsDeps {
  pages: PageRepository;
  operations: () => Promise<PageOperations>;
}

/**
 * The page-commands consumer: one command at a time per page (FIFO group `page:{pageId}`). The
 * outcome is recorded on the page, where the admin route that sent it is waiting. Throttling and
 * outages fail the record, so SQS brings it back later, still in order.
 */
export function createPageCommandsProcessor(deps: PageCommandsDeps) {
  const recordHandler =
    (deadline: Deadline) =>
    async (record: SQSRecord): Promise<void> => {
      const command = commandOf(record.body);
      const outcome = await runCommand(await deps.operations(), command, deadline);
      if (outcome.result === 'retry')
        throw new Error(`page ${command.pageId}: ${command.type} will be retried: ${outcome.reason}`);
      const { ok, error } = summaryOf(outcome);
      const lastCommand = { id: command.id, type: command.type, ok, error, at: new Date().toISOString() };
      await deps.pages.apply(command.pageId, commandRecorded(lastCommand));
      logger.info('page command done', {
        pageId: command.pageId,
        type: command.type,
        ok,
        error,
      });
    };

  return (event: SQSEvent, context: Context, deadline: Deadline): Promise<SQSBatchResponse> =>
    processPartialResponse(
      event,
      recordHandler(deadline),
      new SqsFifoPartialProcessorAsync() /* per invocation: it holds the batch's state */,
      {
        context,
        skipGroupOnError: true,
      },
    );
}

/**
 * The queued body as a PageCommand. One that is not fails its record with a clear error: SQS keeps it
 * and, after its retries, moves it to the dead-letter queue, where an operator can read it.
 */
function commandOf(body: string): PageCommand {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error('page command: the message body is not JSON');
  }
  const parsed = PageCommand.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  throw new Error(`page command: not a page command (${issues})`);
}
