import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  StartLiveTailCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import * as z from 'zod/mini';
import { UsageError } from './args.js';
import type { Command, CommandGroup, Context } from './command.js';
import { CliError, errorOf } from './http-client.js';
import { cell } from './output.js';
import { resolveTarget } from './target.js';

/**
 * `pagewire events tail [--page ID] [--json]`: the public events (SPEC §8) as they happen, one line
 * each, until Ctrl-C. Locally it long-polls the stack's event log (GET /admin/events, admin token); on
 * AWS (`--aws`) it opens a CloudWatch Logs live tail on the log group the bus's catch-all rule writes to
 * (stack output `EventLogGroupName`, given as PAGEWIRE_EVENT_LOG_GROUP: a name or an ARN).
 */

/** The part of an event the tail shows; lenient, so a newer event version still prints. */
const TailEvent = z.object({
  id: z.string(),
  type: z.string(),
  time: z.string(),
  pageId: z.string(),
  userId: z.optional(z.string()),
  seq: z.optional(z.number()),
  data: z.optional(z.unknown()),
});
type TailEvent = z.infer<typeof TailEvent>;

const LogPage = z.object({ events: z.array(z.unknown()), cursor: z.string() });

/** Events shown when the tail starts, before it follows. */
const BACKLOG = 10;
const POLL_WAIT_MS = 20_000;
const PAGE_ID = /^[0-9A-Za-z_-]{1,64}$/;

export interface TailOptions {
  /** Ends the tail (Ctrl-C); the command then exits 0. */
  signal?: AbortSignal;
  /** The AWS client (tests pass one under aws-sdk-client-mock). */
  logs?: CloudWatchLogsClient;
  /** How long one long poll waits locally (default 20 s). */
  waitMs?: number;
}

export async function tail(ctx: Context, opts: TailOptions = {}): Promise<number> {
  const pages = ctx.values.page ?? [];
  for (const page of pages) if (!PAGE_ID.test(page)) throw new UsageError(`--page ${page}: not a page id`);
  const target = await resolveTarget(ctx.values, ctx.env);
  const print = (raw: unknown) => {
    const parsed = TailEvent.safeParse(raw);
    if (!parsed.success) return;
    if (pages.length > 0 && !pages.includes(parsed.data.pageId)) return;
    ctx.output.out(ctx.values.json ? JSON.stringify(raw) : renderEvent(parsed.data));
  };
  try {
    if (target.aws) return await tailAws(ctx, target.aws.region, pages, print, opts);
    return await tailLocal(target, pages, print, opts);
  } catch (err) {
    if (opts.signal?.aborted) return 0;
    throw err;
  }
}

async function tailLocal(
  target: Awaited<ReturnType<typeof resolveTarget>>,
  pages: string[],
  print: (raw: unknown) => void,
  opts: TailOptions,
): Promise<number> {
  let cursor: string | undefined;
  while (!opts.signal?.aborted) {
    const url = new URL(target.url);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/admin/events`;
    if (cursor === undefined) url.searchParams.set('limit', String(BACKLOG));
    else url.searchParams.set('after', cursor);
    if (cursor !== undefined) url.searchParams.set('waitMs', String(opts.waitMs ?? POLL_WAIT_MS));
    if (pages.length === 1) url.searchParams.set('pageId', pages[0] as string);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (target.adminToken) headers.authorization = `Bearer ${target.adminToken}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) return 0;
      const reason = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(
        'unreachable',
        `cannot reach ${url.origin}: ${reason} (is the local stack running?)`,
      );
    }
    const text = await res.text();
    const body = parseJson(text);
    if (!res.ok) {
      const { code, message } = errorOf({ status: res.status, ok: false, text, body });
      throw new CliError(code, message);
    }
    const page = LogPage.safeParse(body);
    if (!page.success) throw new CliError('bad_answer', 'the stack answered something other than events');
    for (const event of page.data.events) print(event);
    cursor = page.data.cursor;
  }
  return 0;
}

async function tailAws(
  ctx: Context,
  region: string,
  pages: string[],
  print: (raw: unknown) => void,
  opts: TailOptions,
): Promise<number> {
  const group = ctx.env.PAGEWIRE_EVENT_LOG_GROUP;
  if (!group) {
    throw new UsageError(
      'on AWS the tail reads the event log group: set PAGEWIRE_EVENT_LOG_GROUP to the stack output EventLogGroupName',
    );
  }
  const logs = opts.logs ?? new CloudWatchLogsClient({ region });
  const arn = group.startsWith('arn:') ? group.replace(/:\*$/, '') : await logGroupArn(logs, group);
  // One page: CloudWatch filters (the rule writes the whole bus event, the public event is its detail).
  const pattern = pages.length === 1 ? `{ $.detail.pageId = "${pages[0]}" }` : undefined;
  ctx.output.err(`tailing ${arn} (Ctrl-C to stop)`);
  for (;;) {
    const { responseStream } = await logs.send(
      new StartLiveTailCommand({ logGroupIdentifiers: [arn], logEventFilterPattern: pattern }),
      { abortSignal: opts.signal },
    );
    let timedOut = false;
    for await (const item of responseStream ?? []) {
      for (const result of item.sessionUpdate?.sessionResults ?? []) print(detailOf(result.message));
      if (item.SessionStreamingException) {
        throw new CliError('live_tail', item.SessionStreamingException.message ?? 'the live tail failed');
      }
      // A live tail session lasts at most 3 hours: open the next one.
      if (item.SessionTimeoutException) timedOut = true;
    }
    if (!timedOut || opts.signal?.aborted) return 0;
  }
}

async function logGroupArn(logs: CloudWatchLogsClient, name: string): Promise<string> {
  const answer = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  const arn = answer.logGroups?.find((g) => g.logGroupName === name)?.logGroupArn;
  if (!arn) throw new CliError('not_found', `no log group named ${name} in this account and region`);
  return arn;
}

/** The public event in a log line: the bus event's `detail`, or the line itself. */
function detailOf(message: string | undefined): unknown {
  const parsed = parseJson(message ?? '') as { detail?: unknown } | undefined;
  return parsed && typeof parsed === 'object' && 'detail' in parsed ? parsed.detail : parsed;
}

/** `time  type  page=… user=… seq=…  summary`, made safe for one terminal line. */
export function renderEvent(e: TailEvent): string {
  const who = [`page=${e.pageId}`];
  if (e.userId !== undefined) who.push(`user=${e.userId}`);
  if (e.seq !== undefined) who.push(`seq=${e.seq}`);
  const line = [e.time, e.type.padEnd(20), who.join(' '), summary(e.data)].filter(Boolean).join('  ');
  return cell(line);
}

function summary(data: unknown): string {
  if (!data || typeof data !== 'object') return '';
  const d = data as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const short = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 59)}…` : v);
  if (text(d.from) || text(d.to)) {
    const reason = text(d.reason) ? ` (${d.reason})` : '';
    return `${text(d.from) ?? '?'} → ${text(d.to) ?? '?'}${reason}`;
  }
  if (text(d.text)) return short(d.text as string);
  if (text(d.emoji) || text(d.reaction))
    return [text(d.action), text(d.emoji) ?? text(d.reaction)].filter(Boolean).join(' ');
  if (text(d.status)) {
    const mids = Array.isArray(d.mids) ? ` (${d.mids.length} message${d.mids.length === 1 ? '' : 's'})` : '';
    return `${d.status}${mids}`;
  }
  if (text(d.payload)) return `payload=${short(d.payload as string)}`;
  if (text(d.title)) return short(d.title as string);
  return '';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Aborted on the first Ctrl-C, so the tail ends with exit 0. */
function interrupted(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}

const tailCommand: Command = {
  name: 'tail',
  args: [],
  options: ['page'],
  synopsis: '[--page <id>]',
  optionHelp: [
    "--page <id>        only this page's events (repeat for several)",
    '                   on AWS (--aws): PAGEWIRE_EVENT_LOG_GROUP = the stack output EventLogGroupName',
  ],
  summary: 'print the public events as they happen (the last few first), until Ctrl-C',
  run: (ctx) => tail(ctx, { signal: interrupted() }),
};

export const events: CommandGroup = {
  name: 'events',
  summary: 'watch the events Pagewire publishes',
  commands: [tailCommand],
};
