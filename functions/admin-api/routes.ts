import type { RequestContext } from '@aws-lambda-powertools/event-handler/types';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { type ConnectLoginDeps, createLink, linkView } from '#connect-login/connect-login';
import { AdminError } from '#contracts/admin-api';
import type { Config } from '#contracts/config';
import { CreateConnectLinkBody } from '#contracts/connect-link';
import {
  DeadLetterQueueNotConfigured,
  type DeadLetterQueues,
  QueueName,
  RedriveBody,
} from '#contracts/dead-letters';
import { DoctorReport } from '#contracts/doctor';
import { GraphId, isGraphId } from '#contracts/ids';
import {
  DEAD_LETTERS_LIST_DEFAULT,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  MESSAGE_TEXT_MAX,
  QUARANTINE_PAGE_ID_MAX,
  USER_TOKEN_MAX_CHARS,
} from '#contracts/limits';
import type { PageCommandType } from '#contracts/page-command';
import type { PageRecord } from '#contracts/page-record';
import { adminRoutes } from '#contracts/routes';
import type { ConversationRepository } from '#conversations/conversation-repository';
import type { QuarantineRepository } from '#conversations/quarantine-repository';
import { sendMessage } from '#conversations/send-message';
import {
  conversationView,
  messageView,
  pageView,
  quarantinedEventView,
  quarantineView,
} from '#conversations/views';
import { runDoctor } from '#doctor/doctor';
import { listedWarnings, withoutDaySlots } from '#doctor/warnings';
import type { ChangeLog } from '#events/change-log';
import type { GraphClient } from '#graph/graph-client';
import { withMediaLinks } from '#media/media-view';
import { type BulkAction, runBulkAction } from '#pages/bulk';
import { connectPages } from '#pages/connect';
import { shownStatus } from '#pages/instagram-entry';
import type { PageAccess } from '#pages/page-access';
import type { PageOpsDeps } from '#pages/page-ops-deps';
import type { PageRepository } from '#pages/page-repository';
import type { EventPublisher } from '#ports/event-publisher';
import type { MediaStore } from '#ports/media';
import type { AppCredentialsSource, TokenSealer } from '#ports/ports';
import { type Deadline, deadlineOf } from '#runtime/deadline';
import type { HttpEvent, HttpResult } from '#runtime/http';
import { AdminRouter, json, parseBody, queryOf } from './admin-router.js';

export interface AdminDeps {
  config: Config;
  pages: PageRepository;
  conversations: ConversationRepository;
  quarantine: QuarantineRepository;
  access: PageAccess;
  sealer: TokenSealer;
  graph: () => Promise<GraphClient | undefined>;
  ops: PageOpsDeps;
  /** Where a sent (or refused) message is recorded and published (SPEC §8). */
  changes?: ChangeLog;
  publisher?: EventPublisher;
  /** The queues' dead letters: the local stack's own, or SQS's on AWS. */
  deadLetters?: DeadLetterQueues;
  /** The app credentials, for the verify token the doctor's app-webhook repair hands to Meta. */
  credentials?: AppCredentialsSource;
  /** Links to the copies of attachments (SPEC §10): presigned S3 GETs on AWS, the local media route. */
  media?: Pick<MediaStore, 'linkFor'>;
  /** Facebook Login connect links (SPEC §12); without it their routes answer 503. */
  connectLogin?: ConnectLoginDeps;
}

const ConnectBody = z.object({
  userAccessToken: z
    .string('expected a string')
    .check(
      z.trim(),
      z.minLength(1, 'is empty'),
      z.maxLength(USER_TOKEN_MAX_CHARS, `a user access token is at most ${USER_TOKEN_MAX_CHARS} characters`),
    ),
  pageIds: z.optional(z.array(GraphId, 'expected an array').check(z.minLength(1, 'is empty'))),
});
const SendBody = z.object({
  text: z
    .string('expected a string')
    .check(
      z.trim(),
      z.minLength(1, 'is empty'),
      z.maxLength(MESSAGE_TEXT_MAX, `is at most ${MESSAGE_TEXT_MAX} characters`),
    ),
});
const CheckBody = z.nullable(z.object({ repair: z.optional(z.boolean('expected true or false')) }));

/**
 * A conversation's user in a URL: a PSID/IGSID, or the `ref:` user ref a checkbox opt-in stored the
 * conversation under (readable, but no one to send to).
 */
const ConversationUserId = z
  .string()
  .check(z.refine((v) => isGraphId(v) || /^ref:./.test(v), 'not a Facebook id (digits) nor a ref: user ref'));

/**
 * `/admin/*`: authentication is the gateway's (IAM on AWS, a bearer token locally), so every request
 * that reaches this function is an operator's.
 */
export function createAdminApi(deps: AdminDeps) {
  const router = new AdminRouter({ pageId: GraphId, userId: ConversationUserId })
    .on(adminRoutes.connectPages, async (_, reqCtx) => {
      const body = await parseBody(reqCtx.req, ConnectBody);
      const pages = await connectPages(
        { pages: deps.pages, sealer: deps.sealer, graph: await graph(deps), runCommand: deps.ops.runCommand },
        body.userAccessToken,
        body.pageIds,
        deadlineOf(reqCtx.context),
      );
      return json(200, { pages });
    })
    .on(adminRoutes.listPages, async () => {
      const now = Date.now();
      const pages = await deps.pages.list();
      const byId = new Map(pages.map((p) => [p.pageId, p]));
      return json(200, { pages: pages.map((p) => shownPage(p, byId.get(p.linkedPageId ?? ''), now)) });
    })
    .on(adminRoutes.subscribePage, async ({ pageId }, reqCtx) =>
      pageCommand(deps, 'subscribe', param(pageId), deadlineOf(reqCtx.context)),
    )
    .on(adminRoutes.disconnectPage, async ({ pageId }, reqCtx) =>
      pageCommand(deps, 'disconnect', param(pageId), deadlineOf(reqCtx.context)),
    )
    .on(adminRoutes.checkSubscriptions, async (_, reqCtx) => {
      const repair = (await parseBody(reqCtx.req, CheckBody))?.repair === true;
      return bulk(deps, repair ? 'check-and-repair' : 'check', deadlineOf(reqCtx.context));
    })
    .on(adminRoutes.resubscribeAll, async (_, reqCtx) =>
      bulk(deps, 'resubscribe-all', deadlineOf(reqCtx.context)),
    )
    .on(adminRoutes.listDeadLetters, async (_, reqCtx) => {
      const queue = queueOf(queryOf(reqCtx, 'queue'));
      const list = deadLetters(deps).list({ queue, limit: limitOf(reqCtx, DEAD_LETTERS_LIST_DEFAULT) });
      return json(200, { queues: await queueAnswer(list) });
    })
    .on(adminRoutes.redriveDeadLetters, async (_, { req }) => {
      const queue = (await parseBody(req, RedriveBody))?.queue;
      return json(200, { queues: await queueAnswer(deadLetters(deps).redrive(queue)) });
    })
    .on(adminRoutes.listConversations, async (params, reqCtx) => {
      const pageId = param(params.pageId);
      await knownPage(deps, pageId);
      const conversations = await deps.conversations.list(pageId, { limit: limitOf(reqCtx) });
      return json(200, { conversations: conversations.map(conversationView) });
    })
    .on(adminRoutes.listMessages, async (params, reqCtx) => {
      const [pageId, userId] = [param(params.pageId), param(params.userId)];
      await knownPage(deps, pageId);
      const [conversation, items] = await Promise.all([
        deps.conversations.get(pageId, userId),
        deps.conversations.listItems(pageId, userId, { limit: limitOf(reqCtx), latest: true }),
      ]);
      const views = items.map((i) => messageView(i, conversation));
      return json(200, { messages: await Promise.all(views.map((v) => withMediaLinks(v, deps.media))) });
    })
    .on(adminRoutes.sendMessage, async (params, { req, context }) => {
      const [pageId, userId] = [param(params.pageId), param(params.userId)];
      if (!isGraphId(userId))
        throw new AdminError(400, 'invalid_path', 'userId: a ref: user ref is no PSID: replies go to a PSID');
      const { text } = await parseBody(req, SendBody);
      const sendDeps = { ...deps, graph: await graph(deps) };
      const { item, conversation, warning } = await sendMessage(
        sendDeps,
        { pageId, userId, text },
        deadlineOf(context),
      );
      if (warning) return json(202, { ...messageView(item, conversation), warning });
      return json(201, messageView(item, conversation));
    })
    // Events that cannot be applied, newest first (every page, or `?pageId=`): SPEC §6 "nothing answered
    // 200 is lost" for the ones the store cannot take.
    .on(adminRoutes.listQuarantine, async (_, reqCtx) => {
      const pageId = queryOf(reqCtx, 'pageId');
      if (pageId !== undefined && (pageId === '' || pageId.length > QUARANTINE_PAGE_ID_MAX)) {
        throw new AdminError(
          400,
          'invalid_page_id',
          `pageId must be 1 to ${QUARANTINE_PAGE_ID_MAX} characters`,
        );
      }
      const events = await deps.quarantine.list({ pageId, limit: limitOf(reqCtx) });
      return json(200, { events: events.map(quarantineView) });
    })
    .on(adminRoutes.getQuarantined, async (params) => {
      const [pageId, eventId] = [param(params.pageId), param(params.eventId)];
      const record = await deps.quarantine.get(pageId, eventId);
      if (!record)
        throw new AdminError(404, 'not_quarantined', `no quarantined event ${eventId} of page ${pageId}`);
      return json(200, quarantinedEventView(record));
    })
    .on(adminRoutes.doctor, async (_, reqCtx) => doctor(deps, false, deadlineOf(reqCtx.context)))
    .on(adminRoutes.repairDoctor, async (_, reqCtx) => doctor(deps, true, deadlineOf(reqCtx.context)))
    // Facebook Login connect links (SPEC §12): the link to open in a browser, and how its login stands.
    .on(adminRoutes.createConnectLink, async (_, { req }) => {
      const body = await parseBody(req, CreateConnectLinkBody);
      return json(201, await createLink(connectLogin(deps), body?.expiresInSeconds));
    })
    .on(adminRoutes.getConnectLink, async ({ linkId }) =>
      json(200, await linkView(connectLogin(deps), param(linkId))),
    );

  // Tests and tools call it without a Lambda context; no route reads the context.
  return (event: HttpEvent, context: Context = NO_CONTEXT): Promise<HttpResult> =>
    router.handle(event, context);
}

const NO_CONTEXT = {} as Context;

/** A path parameter of the matched route: the router fills every `{name}` of the template. */
function param(value: string | undefined): string {
  if (value === undefined) throw new Error('route parameter missing');
  return value;
}

async function graph(deps: AdminDeps): Promise<GraphClient> {
  const client = await deps.graph();
  if (!client) throw new AdminError(503, 'not_configured', 'the Facebook app credentials are not configured');
  return client;
}

/** A single-page command, run in order with the page's other commands; answers the page as it ends up. */
async function pageCommand(
  deps: AdminDeps,
  type: PageCommandType,
  pageId: string,
  deadline: Deadline,
): Promise<Response> {
  await knownPage(deps, pageId);
  await graph(deps);
  const outcome = await deps.ops.runCommand(type, pageId, deadline);
  if (!outcome)
    return json(202, { pageId, status: 'queued', message: `${type} is queued for page ${pageId}` });
  if (!outcome.ok) {
    const code = outcome.status === 'reauth_required' ? 'reauth_required' : `${type}_failed`;
    throw new AdminError(409, code, outcome.error ?? `${type} failed`);
  }
  const page = await deps.pages.get(pageId);
  const linked = page?.linkedPageId ? await deps.pages.get(page.linkedPageId) : undefined;
  return json(200, {
    page: page ? shownPage(page, linked, Date.now()) : { pageId },
    ...(outcome.error ? { warning: outcome.error } : {}),
  });
}

/**
 * A page as the admin API shows it: no token and no liveness bookkeeping; the last webhook event and
 * the warnings (SPEC §9: the doctor's last run, plus `quiet` as of now); an Instagram entry with the
 * status of the page it is subscribed through (SPEC §11).
 */
function shownPage(p: PageRecord, linked: PageRecord | undefined, nowMs: number) {
  return {
    ...withoutDaySlots(pageView(p, { status: shownStatus(p, linked) })),
    lastEventAt: p.lastEventAt ?? null,
    warnings: listedWarnings(p, nowMs),
  };
}

async function bulk(deps: AdminDeps, action: BulkAction, deadline: Deadline): Promise<Response> {
  await graph(deps);
  return json(200, await runBulkAction(deps.ops.bulk, action, deadline));
}

/** SPEC §9: the app webhook and every connected page checked (and with `repair`, repaired). */
async function doctor(deps: AdminDeps, repair: boolean, deadline: Deadline): Promise<Response> {
  const client = await graph(deps);
  const report = await runDoctor(
    {
      graph: client,
      pages: deps.pages,
      access: deps.access,
      operations: await deps.ops.bulk.operations(),
      verifyToken: (await deps.credentials?.get())?.verifyToken ?? '',
      webhookUrl: deps.config.webhookUrl,
      concurrency: deps.ops.bulk.concurrency,
    },
    // A person asked: the repair may take the webhook from another URL (the scheduled run never does).
    { repair, repoint: repair, deadline },
  );
  return json(200, DoctorReport.parse(report));
}

/** `?limit=N` (1–LIST_LIMIT_MAX, default LIST_LIMIT_DEFAULT): lists answer the newest N, so an answer stays far below Lambda's 6 MB. */
function limitOf(reqCtx: RequestContext, fallback = LIST_LIMIT_DEFAULT): number {
  const raw = queryOf(reqCtx, 'limit');
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > LIST_LIMIT_MAX) {
    throw new AdminError(400, 'invalid_limit', `limit must be a whole number from 1 to ${LIST_LIMIT_MAX}`);
  }
  return n;
}

function deadLetters(deps: AdminDeps): DeadLetterQueues {
  if (!deps.deadLetters)
    throw new AdminError(503, 'not_configured', 'this deployment has no dead-letter queues');
  return deps.deadLetters;
}

function queueOf(raw: string | undefined): QueueName | undefined {
  if (raw === undefined) return undefined;
  const parsed = QueueName.safeParse(raw);
  if (!parsed.success)
    throw new AdminError(400, 'invalid_queue', `queue must be one of ${QueueName.options.join(', ')}`);
  return parsed.data;
}

/** A queue operation's answer; a queue not configured, or SQS refusing, is said as such. */
async function queueAnswer<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (err) {
    if (err instanceof DeadLetterQueueNotConfigured) throw new AdminError(503, 'not_configured', err.message);
    // An AWS service error (access denied, throttled, …) names itself; anything else is internal.
    const e = err as Error & { $metadata?: unknown };
    if (e.$metadata) throw new AdminError(502, 'queue_error', `SQS: ${e.name}: ${e.message}`);
    throw err;
  }
}

function connectLogin(deps: AdminDeps): ConnectLoginDeps {
  if (!deps.connectLogin)
    throw new AdminError(503, 'not_configured', 'Facebook Login is not configured here');
  return deps.connectLogin;
}

async function knownPage(deps: AdminDeps, pageId: string): Promise<void> {
  if (!(await deps.pages.get(pageId))) throw new AdminError(404, 'page_not_found', `unknown page ${pageId}`);
}
