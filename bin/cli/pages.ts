import { ConnectAnswer, PageCommandAnswer, PagesAnswer } from '#contracts/admin-answers';
import { ConnectLinkCreated, ConnectLinkView } from '#contracts/connect-link';
import { type AdminRoute, adminRoutes, pathOf } from '#contracts/routes';
import { UsageError } from './args.js';
import { type Command, type CommandGroup, type Context, readAnswer } from './command.js';
import { cell, table } from './output.js';

const connect: Command = {
  name: 'connect',
  args: [],
  options: ['user-token', 'page', 'login'],
  synopsis: '--login | --user-token <t> [--page <id> ...]',
  optionHelp: [
    '--login            connect with Facebook Login: prints a one-time link (15 minutes) to open in a',
    '                   browser, waits until the login is finished there, prints the result',
    '--user-token <t>   user access token of someone who manages the pages ("-" reads it from stdin;',
    '                   PAGEWIRE_USER_TOKEN is used when the option is absent)',
    '--page <id>        connect only this page (repeatable, or comma-separated); default: all pages',
  ],
  summary: 'connect pages with Facebook Login or a user access token, subscribe each',
  async run(ctx: Context) {
    if (ctx.values.login) return connectWithLogin(ctx);
    const token = await userToken(ctx);
    ctx.output.secret(token);
    const pageIds = (ctx.values.page ?? []).flatMap((p) => p.split(',')).map((p) => p.trim());
    const body = {
      userAccessToken: token,
      ...(pageIds.some(Boolean) ? { pageIds: pageIds.filter(Boolean) } : {}),
    };
    const { method, path } = adminRoutes.connectPages;
    const answer = readAnswer(
      ctx,
      await ctx.client.request(method, path, body),
      ConnectAnswer,
      'connected pages',
    );
    if (!answer) return 1;
    return printConnected(ctx, answer.pages);
  },
};

/** The pages a connect handled, as a table; exit 1 unless every one is active. */
function printConnected(ctx: Context, pages: ConnectAnswer['pages']): number {
  const notActive = pages.filter((p) => p.status !== 'active');
  if (!ctx.values.json) {
    const tail = notActive.length ? `, ${notActive.length} not active` : '';
    ctx.output.out(
      `connected ${plural(pages.length, 'page')}: ${pages.length - notActive.length} active${tail}`,
    );
    if (pages.length) {
      const withError = pages.some((p) => p.error);
      const rows = pages.map((p) => [p.pageId, p.name, p.status, ...(withError ? [p.error] : [])]);
      ctx.output.out(table(['pageId', 'name', 'status', ...(withError ? ['error'] : [])], rows));
    }
  }
  return notActive.length ? 1 : 0;
}

/**
 * `pages connect --login` (SPEC §12): a connect link from the admin API, printed to open in a browser;
 * then `GET /admin/connect-links/{id}` every few seconds until the login is done, failed or the link
 * expired. The link is a credential for 15 minutes and one use: it is printed, never logged.
 */
async function connectWithLogin(ctx: Context): Promise<number> {
  if (ctx.values['user-token'] !== undefined || ctx.values.page !== undefined)
    throw new UsageError('--login picks the pages in the browser: leave out --user-token and --page');
  const { method, path } = adminRoutes.createConnectLink;
  const link = readAnswer(ctx, await ctx.client.request(method, path), ConnectLinkCreated, 'a connect link');
  if (!link) return 1;
  if (!ctx.values.json) {
    ctx.output.out(`Open this link in a browser logged in to Facebook (one use, until ${link.expiresAt}):`);
    ctx.output.out(`  ${link.url}`);
    ctx.output.err('waiting for the login to finish… (Ctrl-C stops waiting; the link stays valid)');
  }
  const pollMs = Number(ctx.env.PAGEWIRE_LOGIN_POLL_MS) || LOGIN_POLL_MS;
  const statusPath = pathOf(adminRoutes.getConnectLink, { linkId: link.linkId });
  for (;;) {
    const answer = await ctx.client.request('GET', statusPath);
    const view = answer.ok ? ConnectLinkView.safeParse(answer.body) : undefined;
    if (!view?.success) {
      // Prints the error answer (or says the answer was not a link's status).
      readAnswer(ctx, answer, ConnectLinkView, 'a connect link');
      return 1;
    }
    const { status, expired, result, error } = view.data;
    if (status === 'done' || status === 'failed' || expired) {
      if (ctx.values.json) ctx.output.out(answer.text.trimEnd());
      if (status === 'done') return printConnected(ctx, result ?? []);
      ctx.output.err(
        `error: ${expired ? 'link_expired: the link expired before the login finished' : `login_failed: ${cell(error)}`}`,
      );
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** How often the CLI asks how the login stands: a person at a browser takes seconds. */
const LOGIN_POLL_MS = 2_000;

const list: Command = {
  name: 'list',
  args: [],
  options: [],
  summary: 'list the pages with their status and subscription',
  async run(ctx: Context) {
    const { method, path } = adminRoutes.listPages;
    const answer = readAnswer(ctx, await ctx.client.request(method, path), PagesAnswer, 'a page list');
    if (!answer) return 1;
    if (ctx.values.json) return 0;
    const { pages } = answer;
    if (!pages.length) {
      ctx.output.out('no pages: connect some with `pagewire pages connect --user-token <t>`');
      return 0;
    }
    const rows = pages.map((p) => [
      p.pageId,
      p.name,
      p.status,
      p.subscribedFields?.length ?? 0,
      p.lastCheckedAt,
      p.lastError,
      p.lastEventAt,
      p.warnings?.join(', '),
    ]);
    const head = [
      'pageId',
      'name',
      'status',
      'fields',
      'lastCheckedAt',
      'lastError',
      'lastEventAt',
      'warnings',
    ];
    ctx.output.out(table(head, rows));
    return 0;
  },
};

const subscribe: Command = {
  name: 'subscribe',
  args: ['<pageId>'],
  options: [],
  summary: 'subscribe the app to one page again',
  run: (ctx: Context) => pageCommand(ctx, adminRoutes.subscribePage),
};

const disconnect: Command = {
  name: 'disconnect',
  args: ['<pageId>'],
  options: [],
  summary: 'unsubscribe the app from one page and erase its token',
  run: (ctx: Context) => pageCommand(ctx, adminRoutes.disconnectPage),
};

/** Subscribe and disconnect answer the page as it ends up, or 202 when the command is still queued. */
async function pageCommand(ctx: Context, route: AdminRoute): Promise<number> {
  const [pageId] = ctx.args;
  if (pageId === undefined) throw new UsageError('missing <pageId>');
  const request = ctx.client.request(route.method, pathOf(route, { pageId }));
  const body = readAnswer(ctx, await request, PageCommandAnswer, 'a page or a queued command');
  if (!body) return 1;
  if (ctx.values.json) return 0;
  if (!('page' in body)) {
    ctx.output.out(`page ${cell(ctx.args[0])}: ${cell(body.status)}: ${cell(body.message)}`);
    ctx.output.err('the command runs in the background; see `pagewire pages list`');
    return 0;
  }
  const { page } = body;
  ctx.output.out(`page ${cell(page.pageId)} (${cell(page.name)}): ${cell(page.status)}`);
  if (body.warning) ctx.output.err(`warning: ${cell(body.warning)}`);
  return 0;
}

async function userToken(ctx: Context): Promise<string> {
  const given = ctx.values['user-token'] ?? ctx.env.PAGEWIRE_USER_TOKEN;
  if (given === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin) chunks.push(Buffer.from(chunk));
    const read = Buffer.concat(chunks).toString('utf8').trim();
    if (!read) throw new UsageError('no user token on stdin');
    return read;
  }
  if (!given) throw new UsageError('pages connect needs --user-token <t> (or PAGEWIRE_USER_TOKEN)');
  return given;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export const pages: CommandGroup = {
  name: 'pages',
  summary: 'connect, list, subscribe and disconnect pages',
  commands: [connect, list, subscribe, disconnect],
};
