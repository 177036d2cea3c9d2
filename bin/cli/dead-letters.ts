import {
  type DeadLetterQueueView,
  DeadLettersAnswer,
  QUEUE_NAMES,
  QueueName,
  RedriveAnswer,
  type RedriveOutcome,
} from '#contracts/dead-letters';
import { adminRoutes, pathOf } from '#contracts/routes';
import { UsageError } from './args.js';
import { type Command, type CommandGroup, type Context, readAnswer } from './command.js';
import { table } from './output.js';

const QUEUE_HELP = `--queue <name>     only this queue: ${QUEUE_NAMES.join(' or ')} (default: both)`;

const list: Command = {
  name: 'list',
  args: [],
  options: ['queue'],
  synopsis: '[--queue <name>]',
  optionHelp: [QUEUE_HELP],
  summary: 'list the dead letters of the events and page-commands queues',
  async run(ctx: Context) {
    const queue = queueOption(ctx);
    const route = adminRoutes.listDeadLetters;
    const request = ctx.client.request(route.method, pathOf(route, {}, { queue }));
    const answer = readAnswer(ctx, await request, DeadLettersAnswer, 'dead letters');
    if (!answer) return 1;
    if (!ctx.values.json) for (const line of answer.queues.flatMap(renderQueue)) ctx.output.out(line);
    return 0;
  },
};

const redrive: Command = {
  name: 'redrive',
  args: [],
  options: ['queue'],
  synopsis: '[--queue <name>]',
  optionHelp: [QUEUE_HELP],
  summary: 'move the dead letters back to their queue, to be processed again',
  async run(ctx: Context) {
    const queue = queueOption(ctx);
    const { method, path } = adminRoutes.redriveDeadLetters;
    const request = ctx.client.request(method, path, queue ? { queue } : {});
    const answer = readAnswer(ctx, await request, RedriveAnswer, 'a redrive report');
    if (!answer) return 1;
    if (!ctx.values.json) for (const outcome of answer.queues) ctx.output.out(renderRedrive(outcome));
    return 0;
  },
};

function queueOption(ctx: Context): QueueName | undefined {
  const raw = ctx.values.queue;
  if (raw === undefined) return undefined;
  const parsed = QueueName.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--queue must be ${QUEUE_NAMES.join(' or ')}`);
  return parsed.data;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `events: 2 dead letters`, then a table of them; on AWS the approximate count and the last redrive. */
export function renderQueue(q: DeadLetterQueueView): string[] {
  const count = `${q.approximate ? 'about ' : ''}${plural(q.count, 'dead letter')}`;
  const lines = [`${q.queue}: ${count}`];
  if (q.messages?.length) {
    const rows = q.messages.map((m) => [
      m.deadAt,
      m.groupId,
      m.dedupId,
      m.receiveCount,
      m.bytes,
      m.messageId,
    ]);
    lines.push(table(['deadAt', 'group', 'dedupId', 'receives', 'bytes', 'messageId'], rows));
    if (q.messages.length < q.count) lines.push(`(${q.count - q.messages.length} more not shown)`);
  }
  if (q.note && q.count > 0) lines.push(`  ${q.note}`);
  const r = q.lastRedrive;
  if (r) {
    const progress = r.toMove !== undefined ? `, ${r.moved ?? 0} of ${r.toMove} moved` : '';
    const since = r.startedAt ? `, started ${r.startedAt}` : '';
    const why = r.failureReason ? `: ${r.failureReason}` : '';
    lines.push(`  last redrive: ${r.status}${progress}${since}${why}`);
  }
  return lines;
}

export function renderRedrive(o: RedriveOutcome): string {
  switch (o.status) {
    case 'moved':
      return `${o.queue}: ${plural(o.count, 'dead letter')} moved back to the queue`;
    case 'started':
      return `${o.queue}: redrive started for about ${plural(o.count, 'dead letter')}; follow it with \`pagewire dead-letters list\``;
    case 'running':
      return `${o.queue}: a redrive is already running (about ${o.count} left to move)`;
    default:
      return `${o.queue}: no dead letters`;
  }
}

export const deadLetters: CommandGroup = {
  name: 'dead-letters',
  summary: 'list and redrive the messages the queues gave up on',
  commands: [list, redrive],
};
