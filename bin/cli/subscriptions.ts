import { BulkReport } from '#contracts/admin-answers';
import { type AdminRoute, adminRoutes } from '#contracts/routes';
import { type Command, type CommandGroup, type Context, readAnswer } from './command.js';
import { table } from './output.js';

/** SPEC §4's report of a run over every connected page (contracts/admin-answers.ts). */
export type Report = BulkReport;

const check: Command = {
  name: 'check',
  args: [],
  options: ['repair'],
  synopsis: '[--repair]',
  optionHelp: ['--repair          subscribe again every page found missing'],
  summary: 'check every connected page is subscribed at Meta',
  run: (ctx) => {
    const repair = ctx.values.repair === true;
    return runReport(ctx, repair ? 'check --repair' : 'check', adminRoutes.checkSubscriptions, { repair });
  },
};

const resubscribeAll: Command = {
  name: 'resubscribe-all',
  args: [],
  options: [],
  summary: 'subscribe every connected page again',
  run: (ctx) => runReport(ctx, 'resubscribe-all', adminRoutes.resubscribeAll),
};

async function runReport(ctx: Context, label: string, route: AdminRoute, body?: unknown): Promise<number> {
  const answer = await ctx.client.request(route.method, route.path, body);
  const report = readAnswer(ctx, answer, BulkReport, 'a report');
  if (!report) return 1;
  if (!ctx.values.json) for (const line of renderReport(label, report)) ctx.output.out(line);
  return report.failed.length ? 1 : 0;
}

/** A summary line, then a table of the failures and the list of repaired pages. */
export function renderReport(label: string, report: Partial<Report>): string[] {
  const failed = report.failed ?? [];
  const repaired = report.repaired ?? [];
  const parts = [`${report.succeeded ?? 0} succeeded`, `${failed.length} failed`];
  if (repaired.length || label.includes('repair')) parts.push(`${repaired.length} repaired`);
  if (report.queued) parts.push(`${report.queued} queued (running in the background)`);
  const total = report.total ?? 0;
  const lines = [`${label}: ${total} page${total === 1 ? '' : 's'}, ${parts.join(', ')}`];
  if (failed.length) {
    lines.push(
      '',
      'failed:',
      table(
        ['pageId', 'error'],
        failed.map((f) => [f.pageId, f.error]),
      ),
    );
  }
  if (repaired.length) {
    lines.push(
      '',
      'repaired:',
      table(
        ['pageId'],
        repaired.map((id) => [id]),
      ),
    );
  }
  return lines;
}

export const subscriptions: CommandGroup = {
  name: 'subscriptions',
  summary: 'check and repair the subscriptions of every connected page',
  commands: [check, resubscribeAll],
};
