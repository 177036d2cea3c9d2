import * as z from 'zod/mini';
import type { LocalEventLog } from '#adapters/local/event-log';
import { type HttpEvent, type HttpResult, httpError, json } from '#runtime/http';

/**
 * `GET /admin/events?after=<cursor>&pageId=<id>&waitMs=<ms>&limit=<n>`: the local stack's recent public
 * events, for `pagewire events tail`. Local only (on AWS the tail reads the bus's log group), behind
 * the admin token like every /admin route. A long poll: with `waitMs`, an answer with no event waits
 * up to that long for one. Answers `{"events":[…],"cursor":"…"}`; pass the cursor back as `after`.
 */
export const EVENTS_PATH = '/admin/events';

/** Below the CLI's and most proxies' idle timeouts. */
export const MAX_WAIT_MS = 20_000;

const EventsQuery = z.object({
  after: z.optional(
    z.string().check(z.regex(/^[0-9a-f]{1,16}\.\d{1,15}$/, 'must be a cursor from an answer')),
  ),
  pageId: z.optional(z.string().check(z.regex(/^[0-9A-Za-z_-]{1,64}$/, 'must be a page id'))),
  waitMs: z.optional(
    z.pipe(z.string().check(z.regex(/^\d{1,9}$/, 'must be milliseconds')), z.transform(Number)),
  ),
  limit: z.optional(
    z.pipe(z.string().check(z.regex(/^[1-9]\d{0,3}$/, 'must be 1 to 1000')), z.transform(Number)),
  ),
});

export async function eventsRoute(log: LocalEventLog, event: HttpEvent): Promise<HttpResult> {
  if (event.requestContext.http.method !== 'GET') {
    return httpError(405, 'method_not_allowed', `${EVENTS_PATH} answers GET only`);
  }
  const query = EventsQuery.safeParse(event.queryStringParameters ?? {});
  if (!query.success) {
    const issue = query.error.issues[0];
    return httpError(
      400,
      'bad_request',
      `${issue?.path.join('.') ?? 'query'} ${issue?.message ?? 'is wrong'}`,
    );
  }
  const { after, pageId, waitMs, limit } = query.data;
  const page = await log.read({ after, pageId, limit, waitMs: Math.min(waitMs ?? 0, MAX_WAIT_MS) });
  return json(200, page);
}
