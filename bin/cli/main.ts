/**
 * `pagewire <group> <command>`: the operator CLI over the admin API (SPEC §4), locally with the admin
 * bearer token, on AWS with SigV4-signed requests (the admin routes use IAM auth).
 */
import { readFileSync } from 'node:fs';
import { GLOBAL_OPTIONS, type ParsedArgs, parseCommandLine, UsageError } from './args.js';
import type { Command, CommandGroup } from './command.js';
import { deadLetters } from './dead-letters.js';
import { doctor } from './doctor.js';
import { events } from './events.js';
import { AdminClient, CliError } from './http-client.js';
import { Output } from './output.js';
import { pages } from './pages.js';
import { quarantine } from './quarantine.js';
import { sigV4Signer } from './sigv4.js';
import { subscriptions } from './subscriptions.js';
import { resolveTarget } from './target.js';

const GROUPS: CommandGroup[] = [pages, subscriptions, quarantine, deadLetters, events, doctor];

/** A group of one command named as the group (`pagewire doctor`): its name alone runs it. */
const isSingle = (g: CommandGroup) => g.commands.length === 1 && g.commands[0]?.name === g.name;

const GLOBAL_HELP = [
  '--url <base>       admin API base URL (PAGEWIRE_URL; default: the url in $DATA_DIR/sandbox.json,',
  '                   DATA_DIR defaulting to .data, else http://127.0.0.1:3000)',
  '--admin-token <t>  bearer token of the local stack (PAGEWIRE_ADMIN_TOKEN, ADMIN_TOKEN, or sandbox.json)',
  '--aws              sign every request with SigV4 (IAM) using the standard AWS credential chain;',
  '                   automatic for *.amazonaws.com hosts',
  '--region <r>       AWS region to sign for (default: from the execute-api host, else AWS_REGION)',
  '--json             print the raw JSON answer on stdout, for scripts',
  '-h, --help         show help',
];

const EXIT_CODES = 'exit codes: 0 done, 1 something failed (an error answer or a failed page), 2 usage error';

export interface MainOptions {
  output?: Output;
  env?: Record<string, string | undefined>;
  stdin?: NodeJS.ReadableStream;
}

/** Runs one command line; resolves the exit code. */
export async function main(argv: string[], opts: MainOptions = {}): Promise<number> {
  const output = opts.output ?? new Output();
  const env = opts.env ?? process.env;
  let parsed: ParsedArgs;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    return usageError(output, (err as Error).message, usage());
  }
  const { values, positionals } = parsed;
  if (values.version) {
    output.out(version());
    return 0;
  }
  let [groupName, commandName, ...args] = positionals;
  let help = values.help === true;
  if (groupName === 'help') {
    help = true;
    [groupName, commandName, ...args] = positionals.slice(1);
  }
  if (!groupName) return help ? shown(output, usage()) : usageError(output, undefined, usage());
  const group = GROUPS.find((g) => g.name === groupName);
  if (!group) return usageError(output, `unknown command '${groupName}'`, usage());
  if (isSingle(group)) {
    args = commandName === undefined ? args : [commandName, ...args];
    commandName = group.name;
  }
  if (!commandName)
    return help ? shown(output, groupUsage(group)) : usageError(output, undefined, groupUsage(group));
  const command = group.commands.find((c) => c.name === commandName);
  if (!command)
    return usageError(output, `unknown command '${group.name} ${commandName}'`, groupUsage(group));
  if (help) return shown(output, commandUsage(group, command));

  const misplaced = parsed.given.filter(
    (o) => o !== 'version' && !GLOBAL_OPTIONS.includes(o) && !command.options.includes(o),
  );
  if (misplaced.length) {
    const what = isSingle(group) ? group.name : `${group.name} ${command.name}`;
    return usageError(output, `${what} does not take --${misplaced[0]}`, shortUsage(group, command));
  }
  if (args.length !== command.args.length) {
    const what = isSingle(group) ? group.name : `${group.name} ${command.name}`;
    const message =
      args.length < command.args.length
        ? `${what} needs ${command.args.join(' ')}`
        : `${what} takes ${command.args.length ? `only ${command.args.join(' ')}` : 'no arguments'}`;
    return usageError(output, message, shortUsage(group, command));
  }

  try {
    const target = await resolveTarget(values, env);
    output.secret(target.adminToken);
    if (target.aws && values['admin-token']) {
      output.err('note: requests are signed with SigV4 (--aws); the admin token is not sent');
    }
    const signer = target.aws ? await sigV4Signer(target.aws.region) : undefined;
    const client = new AdminClient(target, { signer, userAgent: `pagewire-cli/${version()}` });
    return await command.run({ client, output, values, args, env, stdin: opts.stdin ?? process.stdin });
  } catch (err) {
    if (err instanceof UsageError) return usageError(output, err.message, shortUsage(group, command));
    if (err instanceof CliError) {
      output.err(`error: ${err.code}: ${err.message}`);
      return 1;
    }
    output.err(`error: internal: ${(err as Error).message}`);
    return 1;
  }
}

function shown(output: Output, text: string): number {
  output.out(text);
  return 0;
}

function usageError(output: Output, message: string | undefined, text: string): number {
  if (message) output.err(`error: ${message}\n`);
  output.err(text);
  return 2;
}

function synopsis(group: CommandGroup, c: Command): string {
  return [isSingle(group) ? group.name : `${group.name} ${c.name}`, c.synopsis ?? c.args.join(' ')]
    .filter(Boolean)
    .join(' ');
}

function commandLines(groups: CommandGroup[]): string[] {
  const rows = groups.flatMap((g) => g.commands.map((c): [string, string] => [synopsis(g, c), c.summary]));
  const width = Math.max(...rows.map(([s]) => s.length));
  return rows.map(([s, summary]) => `  ${s.padEnd(width)}  ${summary}`);
}

function usage(): string {
  return [
    'pagewire: operate Pagewire through its admin API',
    '',
    'usage: pagewire <group> <command> [arguments] [options]',
    '',
    'commands:',
    ...commandLines(GROUPS),
    '',
    'options:',
    ...GLOBAL_HELP.map((l) => `  ${l}`),
    '',
    'Run `pagewire <group> --help` for one group.',
    EXIT_CODES,
  ].join('\n');
}

function groupUsage(group: CommandGroup): string {
  return [
    `pagewire ${group.name}: ${group.summary}`,
    '',
    `usage: pagewire ${group.name} <command> [arguments] [options]`,
    '',
    'commands:',
    ...commandLines([group]),
    '',
    'options:',
    ...[...new Set(group.commands.flatMap((c) => c.optionHelp ?? []))].map((l) => `  ${l}`),
    ...GLOBAL_HELP.map((l) => `  ${l}`),
    '',
    EXIT_CODES,
  ].join('\n');
}

function shortUsage(group: CommandGroup, command: Command): string {
  const name = isSingle(group) ? group.name : `${group.name} ${command.name}`;
  return `usage: pagewire ${synopsis(group, command)} [options]\nrun \`pagewire ${name} --help\` for more`;
}

function commandUsage(group: CommandGroup, command: Command): string {
  return [
    `usage: pagewire ${synopsis(group, command)} [options]`,
    '',
    `${command.summary}.`,
    '',
    'options:',
    ...(command.optionHelp ?? []).map((l) => `  ${l}`),
    ...GLOBAL_HELP.map((l) => `  ${l}`),
    '',
    EXIT_CODES,
  ].join('\n');
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return String(pkg.version ?? '0.0.0');
  } catch {
    return '0.0.0';
  }
}
