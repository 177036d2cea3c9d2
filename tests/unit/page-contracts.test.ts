/**
 * The ops event and page commands are parsed at the edge (contracts/ops-event.ts, page-command.ts):
 * an unknown action is refused with the actions that exist, and a queued body that is not a page command
 * fails its record with a clear error instead of running as one.
 */
import { describe, expect, it } from 'vitest';
import { pageCommand, pageCommandMessage } from '#contracts/page-command';
import { lambdaContext } from '#local/lambda-context';
import type { BulkDeps } from '#pages/bulk';
import { createPageCommandsProcessor } from '#pages/command-consumer';
import type { Page } from '#pages/page';
import type { PageRepository } from '#pages/page-repository';
import { createOps } from '#pages/run-ops';
import type { PageOperations } from '#pages/subscriptions';
import { NO_DEADLINE } from '#runtime/deadline';
import { sqsEvent, sqsRecord } from '#testkit/processor-harness';

const page: Page = {
  pageId: '1',
  name: 'One',
  status: 'active',
  sealedToken: 's',
  subscribedFields: [],
  connectedAt: 'a',
  updatedAt: 'a',
};

/** Page operations that note what was asked of them and always succeed. */
function world() {
  const ran: string[] = [];
  const applied: string[] = [];
  const done = (what: string, pageId: string) => {
    ran.push(`${what} ${pageId}`);
    return { pageId, result: 'done' as const, status: 'active' as const };
  };
  const ops = {
    subscribe: async (id: string) => done('subscribe', id),
    check: async (id: string, repair: boolean) => done(`check${repair ? '-and-repair' : ''}`, id),
    connect: async (id: string) => done('connect', id),
    disconnect: async (id: string) => done('disconnect', id),
  } as unknown as PageOperations;
  const pages = {
    publishOutboxes: async () => {
      ran.push('sweep outboxes');
      return { published: 0, failedPages: [] };
    },
    list: async () => [page],
    apply: async (pageId: string) => {
      applied.push(pageId);
      return page;
    },
  } as unknown as PageRepository;
  const bulk: BulkDeps = { pages, operations: async () => ops, concurrency: 2, fanOutAbove: 100 };
  return { ran, applied, bulk };
}

describe('the ops event', () => {
  it('runs the action asked for', async () => {
    const w = world();
    const report = await createOps(w.bulk)({ action: 'resubscribe-all' }, undefined, NO_DEADLINE);
    expect(report).toMatchObject({ total: 1, succeeded: 1 });
    expect(w.ran).toEqual(['sweep outboxes', 'subscribe 1']);
  });

  it('runs check-and-repair on the schedule', async () => {
    const w = world();
    await createOps(w.bulk)(
      { 'detail-type': 'Scheduled Event', source: 'aws.events' },
      undefined,
      NO_DEADLINE,
    );
    expect(w.ran).toEqual(['sweep outboxes', 'check-and-repair 1']);
  });

  it.each([{ action: 'drop-table' }, {}, null, 'check', { 'detail-type': 'Other Event' }])(
    'refuses %o, naming the actions that exist',
    async (event) => {
      const w = world();
      await expect(createOps(w.bulk)(event, undefined, NO_DEADLINE)).rejects.toThrow(
        /^unknown action .*: use one of resubscribe-all, check, check-and-repair, doctor$/,
      );
      expect(w.ran).toEqual([]);
    },
  );
});

describe('page commands', () => {
  it('runs a page command and records it on the page', async () => {
    const w = world();
    const consumer = createPageCommandsProcessor({ pages: w.bulk.pages, operations: w.bulk.operations });
    const message = pageCommandMessage(pageCommand('check-and-repair', '1'));
    const answer = await consumer(
      sqsEvent([sqsRecord(message)]),
      lambdaContext('page-commands'),
      NO_DEADLINE,
    );
    expect(answer.batchItemFailures).toEqual([]);
    expect(w.ran).toEqual(['check-and-repair 1']);
    expect(w.applied).toEqual(['1']);
  });

  it.each([
    ['not JSON', '{'],
    ['an unknown type', JSON.stringify({ ...pageCommand('check', '1'), type: 'drop' })],
    ['no page id', JSON.stringify({ v: 1, id: 'c1', type: 'check', requestedAt: 'now' })],
  ])('fails a record that is %s, running nothing', async (_, body) => {
    const w = world();
    const consumer = createPageCommandsProcessor({ pages: w.bulk.pages, operations: w.bulk.operations });
    const bad = sqsRecord({ groupId: 'page:1', dedupId: 'd1', body });
    const good = sqsRecord(pageCommandMessage(pageCommand('check', '2')));
    const answer = await consumer(sqsEvent([bad, good]), lambdaContext('page-commands'), NO_DEADLINE);
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    expect(w.ran).toEqual(['check 2']); // another page's command runs all the same
    expect(w.applied).toEqual(['2']);
  });
});
