import {
  type PageCommand,
  type PageCommandType,
  pageCommand,
  pageCommandMessage,
} from '#contracts/page-command';
import type { PageRecord } from '#contracts/page-record';
import type { EventQueue } from '#ports/ports';
import { type Deadline, NO_DEADLINE } from '#runtime/deadline';
import { type OutcomeSummary, type PageOutcome, summaryOf } from './outcome.js';
import type { PageRepository } from './page-repository.js';
import type { PageOperations } from './subscriptions.js';

/**
 * Runs one page command and answers its summary (all a queued command leaves on its page);
 * `undefined` when it is queued but not finished within the wait. `deadline`: the caller's invocation's
 * (the admin API does not pass its own yet: none).
 */
export type PageCommandRunner = (
  type: PageCommandType,
  pageId: string,
  deadline?: Deadline,
) => Promise<OutcomeSummary | undefined>;

/** Runs a command on the spot: for tests and tools that have no page-commands queue. */
export function inlineRunner(operations: () => Promise<PageOperations>): PageCommandRunner {
  return async (type, pageId, deadline = NO_DEADLINE) =>
    summaryOf(await runCommand(await operations(), { type, pageId }, deadline));
}

/**
 * Puts the command on the page's FIFO group and waits (bounded) until the consumer records it on
 * the page: commands of one page run one after the other, whoever sent them.
 */
export function queuedRunner(queue: EventQueue, pages: PageRepository, waitMs: number): PageCommandRunner {
  return async (type, pageId, deadline = NO_DEADLINE) => {
    const command = pageCommand(type, pageId);
    await queue.send([pageCommandMessage(command)]);
    const page = await waitFor(
      () => pages.get(pageId),
      (p) => p?.lastCommand?.id === command.id,
      Math.min(waitMs, deadline.remainingMs()),
    );
    if (!page?.lastCommand) return undefined;
    const { ok, error } = page.lastCommand;
    return { pageId, ok, error, status: page.status };
  };
}

export async function runCommand(
  ops: PageOperations,
  c: Pick<PageCommand, 'type' | 'pageId'>,
  deadline: Deadline,
): Promise<PageOutcome> {
  switch (c.type) {
    case 'connect':
      return ops.connect(c.pageId, deadline);
    case 'subscribe':
      return ops.subscribe(c.pageId, deadline);
    case 'disconnect':
      return ops.disconnect(c.pageId, deadline);
    case 'check':
      return ops.check(c.pageId, false, deadline);
    case 'check-and-repair':
      return ops.check(c.pageId, true, deadline);
  }
}

async function waitFor(
  read: () => Promise<PageRecord | undefined>,
  done: (p: PageRecord | undefined) => boolean,
  waitMs: number,
): Promise<PageRecord | undefined> {
  const deadline = Date.now() + waitMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const page = await read();
    if (done(page)) return page;
    if (Date.now() + delay > deadline) return undefined;
    await new Promise((r) => setTimeout(r, delay));
  }
}
