import type * as z from 'zod/mini';
import type { OptionName, Values } from './args.js';
import { type AdminClient, type Answer, errorOf } from './http-client.js';
import type { Output } from './output.js';

export interface Context {
  client: AdminClient;
  output: Output;
  values: Values;
  /** The positional arguments after `<group> <command>`. */
  args: string[];
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream;
}

export interface Command {
  name: string;
  /** Positional argument names, e.g. `<pageId>`; each is required. */
  args: string[];
  /** Options besides the global ones. */
  options: OptionName[];
  /** What follows `<group> <command>` in the synopsis, e.g. `[--repair]`; default: the args. */
  synopsis?: string;
  /** Option lines for the help text. */
  optionHelp?: string[];
  summary: string;
  /** Exit code: 0 done, 1 something failed. */
  run(ctx: Context): Promise<number>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: Command[];
}

/**
 * The common part of every answer: `--json` prints the body as received on stdout, an error answer
 * prints `error: <code>: <message>` on stderr. True when the command should go on and render.
 */
export function handleAnswer(ctx: Context, answer: Answer): boolean {
  if (ctx.values.json) ctx.output.out(answer.text.trimEnd());
  if (!answer.ok) {
    const { code, message } = errorOf(answer);
    ctx.output.err(`error: ${code}: ${message}`);
    if (answer.status === 401 && !ctx.client.authenticated) {
      ctx.output.err('hint: no admin token: pass --admin-token or set PAGEWIRE_ADMIN_TOKEN (or use --aws)');
    }
    return false;
  }
  if (answer.body === undefined) {
    ctx.output.err(`error: bad_answer: the answer is not JSON (HTTP ${answer.status})`);
    return false;
  }
  return true;
}

/**
 * handleAnswer, then the answer read with its contract (functions/contracts/admin-answers.ts):
 * undefined, with `error: bad_answer` on stderr, when the command should stop.
 */
export function readAnswer<T>(
  ctx: Context,
  answer: Answer,
  contract: z.ZodMiniType<T>,
  what: string,
): T | undefined {
  if (!handleAnswer(ctx, answer)) return undefined;
  const parsed = contract.safeParse(answer.body);
  if (parsed.success) return parsed.data;
  ctx.output.err(`error: bad_answer: the admin API answered something other than ${what}`);
  return undefined;
}
