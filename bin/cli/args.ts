import { parseArgs } from 'node:util';

/** A mistake in the command line: usage on stderr, exit 2. */
export class UsageError extends Error {}

/** Every option the CLI knows; which command accepts which is checked after parsing. */
export const OPTIONS = {
  url: { type: 'string' },
  'admin-token': { type: 'string' },
  aws: { type: 'boolean' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  'user-token': { type: 'string' },
  page: { type: 'string', multiple: true },
  repair: { type: 'boolean' },
  queue: { type: 'string' },
  login: { type: 'boolean' },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Options every command accepts. */
export const GLOBAL_OPTIONS: readonly OptionName[] = ['url', 'admin-token', 'aws', 'region', 'json', 'help'];

export interface Values {
  url?: string;
  'admin-token'?: string;
  aws?: boolean;
  region?: string;
  json?: boolean;
  help?: boolean;
  version?: boolean;
  'user-token'?: string;
  page?: string[];
  repair?: boolean;
  queue?: string;
  login?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  values: Values;
  /** The options present on the command line. */
  given: OptionName[];
}

export function parseCommandLine(argv: string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's messages name the option, never its value (which may be a token).
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as Values;
  const given = (Object.keys(values) as OptionName[]).filter((k) => values[k] !== undefined);
  return { positionals: parsed.positionals, values, given };
}
