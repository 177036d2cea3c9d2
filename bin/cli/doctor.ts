import { type DoctorCheck, DoctorReport } from '#contracts/doctor';
import { adminRoutes } from '#contracts/routes';
import { type Command, type CommandGroup, readAnswer } from './command.js';
import { table } from './output.js';

const OK = '✓';
const BAD = '✗';

const doctorCommand: Command = {
  name: 'doctor',
  args: [],
  options: ['repair'],
  synopsis: '[--repair]',
  optionHelp: ['--repair          subscribe the app webhook and the pages that need it, then check again'],
  summary: 'check the app webhook, every page and every token (SPEC §9), and say what to do',
  run: async (ctx) => {
    const route = ctx.values.repair ? adminRoutes.repairDoctor : adminRoutes.doctor;
    const answer = await ctx.client.request(route.method, route.path);
    const report = readAnswer(ctx, answer, DoctorReport, "the doctor's report");
    if (!report) return 1;
    if (!ctx.values.json) for (const line of renderDoctor(report)) ctx.output.out(line);
    return report.ok ? 0 : 1;
  },
};

/**
 * A verdict line, then one row per app check and per failed page check (✓/✗, where, what, the fix);
 * healthy pages are counted, not listed, so 10,000 pages still read in five seconds.
 */
export function renderDoctor(report: DoctorReport): string[] {
  const sick = report.pages.filter((p) => p.checks.some((c) => !c.ok));
  const problems =
    report.app.filter((c) => !c.ok).length + sick.flatMap((p) => p.checks.filter((c) => !c.ok)).length;
  const pages = `${report.pages.length} page${report.pages.length === 1 ? '' : 's'}`;
  const verdict = report.ok
    ? `${OK} healthy: the app webhook and ${pages}`
    : `${BAD} ${problems} problem${problems === 1 ? '' : 's'}: ${sick.length} of ${pages} need attention`;
  const row = (where: string, c: DoctorCheck) => [c.ok ? OK : BAD, where, c.name, c.detail, c.fix ?? ''];
  const rows = [
    ...report.app.map((c) => row('app', c)),
    ...sick.flatMap((p) => p.checks.filter((c) => !c.ok).map((c) => row(`${p.name} (${p.pageId})`, c))),
  ];
  const healthy = report.pages.length - sick.length;
  if (healthy) rows.push([OK, `${healthy} page${healthy === 1 ? '' : 's'}`, 'every check', 'ok', '']);
  return [verdict, '', table(['', 'where', 'check', 'detail', 'fix'], rows)];
}

/** `pagewire doctor`: a group of one command, run by the group's name alone. */
export const doctor: CommandGroup = {
  name: 'doctor',
  summary: doctorCommand.summary,
  commands: [doctorCommand],
};
