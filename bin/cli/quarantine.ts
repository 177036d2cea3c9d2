import { QuarantineAnswer } from '#contracts/admin-answers';
import { adminRoutes, pathOf } from '#contracts/routes';
import { UsageError } from './args.js';
import { type Command, type CommandGroup, type Context, readAnswer } from './command.js';
import { table } from './output.js';

const list: Command = {
  name: 'list',
  args: [],
  options: ['page'],
  synopsis: '[--page <id>]',
  optionHelp: ['--page <id>        only the events of this page'],
  summary: 'list the events that could not be applied (quarantined), newest first',
  async run(ctx: Context) {
    const pages = (ctx.values.page ?? []).flatMap((p) => p.split(',')).map((p) => p.trim());
    const pageIds = pages.filter(Boolean);
    if (pageIds.length > 1) throw new UsageError('quarantine list takes at most one --page');
    const route = adminRoutes.listQuarantine;
    const request = ctx.client.request(route.method, pathOf(route, {}, { pageId: pageIds[0] }));
    const answer = readAnswer(ctx, await request, QuarantineAnswer, 'quarantined events');
    if (!answer) return 1;
    if (ctx.values.json) return 0;
    const { events } = answer;
    if (!events.length) {
      ctx.output.out(`no quarantined events${pageIds.length ? ` for page ${pageIds[0]}` : ''}`);
      return 0;
    }
    ctx.output.out(`${events.length} quarantined event${events.length === 1 ? '' : 's'}`);
    const rows = events.map((e) => [e.quarantinedAt, e.pageId, e.userId, e.eventId, e.reason]);
    ctx.output.out(table(['quarantinedAt', 'pageId', 'userId', 'eventId', 'reason'], rows));
    return 0;
  },
};

export const quarantine: CommandGroup = {
  name: 'quarantine',
  summary: 'events that could not be applied: kept with their reason instead of blocking their conversation',
  commands: [list],
};
