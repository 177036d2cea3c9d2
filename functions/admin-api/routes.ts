import * as z from 'zod/mini';
import { AdminError } from '#contracts/admin-api';
import type { Config } from '#contracts/config';
import {
  DeadLetterQueueNotConfigured,
  type DeadLetterQueues,
  QueueName,
  RedriveBody,
} from '#contracts/dead-letters';
import { GraphId, isGraphId } from '#contracts/ids';
import type { PageCommandType } from '#contracts/page-command';
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
import type { GraphClient } from '#graph/graph-client';
import { type BulkAction, runBulkAction } from '#pages/bulk';
import { connectPages } from '#pages/connect';
import type { PageAccess } from '#pages/page-access';
import type { PageOpsDeps } from '#pages/page-ops-deps';
import type { PageRepository } from '#pages/page-repository';
import type { TokenSealer } from '#ports/ports';
import { type HttpEvent, type HttpResult, json, rawBody } from '#runtime/http';
import { errorAnswer } from './error-answer.js';
import { Router } from './router.js';

export interface AdminDeps {
  config: Config;
  pages: PageRepository;
  conversations: ConversationRepository;
  quarantine: QuarantineRepository;
  access: PageAccess;
  sealer: TokenSealer;
  graph: () => Promise<GraphClient | undefined>;
  ops: PageOpsDeps;
  /** The queues' dead letters: the local stack's own, or SQS's on AWS. */
  deadLetters?: DeadLetterQueues;
}

/**
 * Meta's user tokens are about 200–300 characters today and documented as variable in size; 4096 leaves
 * them room to grow tenfold while a pasted file or a runaway string is refused here (400) instead of being
 * sent to Graph in a URL (502).
 */
export const MAX_USER_TOKEN_CHARS = 4096;

const ConnectBody = z.object({
  userAccessToken: z
    .string('expected a string')
    .check(
      z.trim(),
      z.minLength(1, 'is empty'),
      z.maxLength(MAX_USER_TOKEN_CHARS, `a user access token is at most ${MAX_USER_TOKEN_CHARS} characters`),
    ),
  pageIds: z.optional(z.array(GraphId, 'expected an array').check(z.minLength(1, 'is empty'))),
});
const SendBody = z.object({
  text: z
    .string('expected a string')
    .check(z.trim(), z.minLength(1, 'is empty'), z.maxLength(2000, 'is at most 2000 characters')),
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
  const router = new Router({ pageId: GraphId, userId: ConversationUserId })
    .on('POST', '/admin/pages/connect', async (_, event) => {
      const body = parseBody(event, ConnectBody);
      const pages = await connectPages(
        { pages: deps.pages, sealer: deps.sealer, graph: await graph(deps), runCommand: deps.ops.runCommand },
        body.userAccessToken,
        body.pageIds,
      );
      return json(200, { pages });
    })
    .on('GET', '/admin/pages', async () => json(200, { pages: (await deps.pages.list()).map(pageView) }))
    .on('POST', '/admin/pages/{pageId}/subscribe', async ({ pageId }) =>
      pageCommand(deps, 'subscribe', pageId),
    )
    .on('DELETE', '/admin/pages/{pageId}', async ({ pageId }) => pageCommand(deps, 'disconnect', pageId))
    .on('POST', '/admin/subscriptions/check', async (_, event) => {
      const repair = parseBody(event, CheckBody)?.repair === true;
      return bulk(deps, repair ? 'check-and-repair' : 'check');
    })
    .on('POST', '/admin/subscriptions/resubscribe-all', async () => bulk(deps, 'resubscribe-all'))
    .on('GET', '/admin/dead-letters', async (_, event) => {
      const queue = queueOf(event.queryStringParameters?.queue);
      const list = deadLetters(deps).list({ queue, limit: limitOf(event, DEAD_LETTERS_LIMIT) });
      return json(200, { queues: await queueAnswer(list) });
    })
    .on('POST', '/admin/dead-letters/redrive', async (_, event) => {
      const queue = parseBody(event, RedriveBody)?.queue;
      return json(200, { queues: await queueAnswer(deadLetters(deps).redrive(queue)) });
    })
    .on('GET', '/admin/pages/{pageId}/conversations', async ({ pageId }, event) => {
      await knownPage(deps, pageId);
      const conversations = await deps.conversations.list(pageId, { limit: limitOf(event) });
      return json(200, { conversations: conversations.map(conversationView) });
    })
    .on('GET', '/admin/pages/{pageId}/conversations/{userId}/messages', async ({ pageId, userId }, event) => {
      await knownPage(deps, pageId);
      const [conversation, items] = await Promise.all([
        deps.conversations.get(pageId, userId),
        deps.conversations.listItems(pageId, userId, { limit: limitOf(event), latest: true }),
      ]);
      return json(200, { messages: items.map((i) => messageView(i, conversation)) });
    })
    .on(
      'POST',
      '/admin/pages/{pageId}/conversations/{userId}/messages',
      async ({ pageId, userId }, event) => {
        if (!isGraphId(userId))
          throw new AdminError(
            400,
            'invalid_path',
            'userId: a ref: user ref is no PSID: replies go to a PSID',
          );
        const { text } = parseBody(event, SendBody);
        const sendDeps = { ...deps, graph: await graph(deps) };
        const { item, conversation, warning } = await sendMessage(sendDeps, pageId, userId, text);
        if (warning) return json(202, { ...messageView(item, conversation), warning });
        return json(201, messageView(item, conversation));
      },
    )
    // Events that cannot be applied, newest first (every page, or `?pageId=`): SPEC §6 "nothing answered
    // 200 is lost" for the ones the store cannot take.
    .on('GET', '/admin/quarantine', async (_, event) => {
      const pageId = event.queryStringParameters?.pageId;
      if (pageId !== undefined && (pageId === '' || pageId.length > 1024)) {
        throw new AdminError(400, 'invalid_page_id', 'pageId must be 1 to 1024 characters');
      }
      const events = await deps.quarantine.list({ pageId, limit: limitOf(event) });
      return json(200, { events: events.map(quarantineView) });
    })
    .on('GET', '/admin/quarantine/{pageId}/{eventId}', async ({ pageId, eventId }) => {
      const record = await deps.quarantine.get(pageId, eventId);
      if (!record)
        throw new AdminError(404, 'not_quarantined', `no quarantined event ${eventId} of page ${pageId}`);
      return json(200, quarantinedEventView(record));
    });

  return async (event: HttpEvent): Promise<HttpResult> => {
    try {
      return await router.handle(event);
    } catch (err) {
      return errorAnswer(err);
    }
  };
}

async function graph(deps: AdminDeps): Promise<GraphClient> {
  const client = await deps.graph();
  if (!client) throw new AdminError(503, 'not_configured', 'the Facebook app credentials are not configured');
  return client;
}

/** A single-page command, run in order with the page's other commands; answers the page as it ends up. */
async function pageCommand(deps: AdminDeps, type: PageCommandType, pageId: string): Promise<HttpResult> {
  await knownPage(deps, pageId);
  await graph(deps);
  const outcome = await deps.ops.runCommand(type, pageId);
  if (!outcome)
    return json(202, { pageId, status: 'queued', message: `${type} is queued for page ${pageId}` });
  const page = await deps.pages.get(pageId);
  if (!outcome.ok) {
    const code = outcome.status === 'reauth_required' ? 'reauth_required' : `${type}_failed`;
    throw new AdminError(409, code, outcome.error ?? `${type} failed`);
  }
  return json(200, {
    page: page ? pageView(page) : { pageId },
    ...(outcome.error ? { warning: outcome.error } : {}),
  });
}

async function bulk(deps: AdminDeps, action: BulkAction): Promise<HttpResult> {
  await graph(deps);
  return json(200, await runBulkAction(deps.ops.bulk, action));
}

const DEFAULT_LIMIT = 200;
const MAX_LIMIT = 1_000;
/** Dead letters listed by default: their bodies are shown (up to 2,000 characters each). */
const DEAD_LETTERS_LIMIT = 50;

/** `?limit=N` (1–1000, default 200): lists answer the newest N, so an answer stays far below Lambda's 6 MB. */
function limitOf(event: HttpEvent, fallback = DEFAULT_LIMIT): number {
  const raw = event.queryStringParameters?.limit;
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new AdminError(400, 'invalid_limit', `limit must be a whole number from 1 to ${MAX_LIMIT}`);
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

async function knownPage(deps: AdminDeps, pageId: string): Promise<void> {
  if (!(await deps.pages.get(pageId))) throw new AdminError(404, 'page_not_found', `unknown page ${pageId}`);
}

function parseBody<T>(event: HttpEvent, schema: z.ZodMiniType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(rawBody(event).toString('utf8') || 'null');
  } catch {
    throw new AdminError(400, 'invalid_json', 'the body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new AdminError(400, 'invalid_body', `${where}${issue?.message ?? 'invalid body'}`);
  }
  return parsed.data;
}
