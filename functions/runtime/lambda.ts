import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Deadline, deadlineOf } from './deadline.js';
import { logger, publishCounts } from './observability.js';

/**
 * Flushes the invocation's metrics as one EMF line (observability.ts). Powertools' own middleware warns
 * on every invocation that counted nothing (a health check, a handshake); this one stays quiet then.
 */
const flushMetrics: MiddlewareObj = { after: publishCounts, onError: publishCounts };

/** A Lambda entry's own code: the event, the context, and the invocation's deadline (deadline.ts). */
export type Entry<E, R> = (event: E, context: Context, deadline: Deadline) => Promise<R>;

/**
 * Every Lambda entry point: the plain handler given its deadline (from the context, less a safety
 * margin), plus Powertools' context logging and metrics flush. Events are never logged, whatever the
 * environment says (`POWERTOOLS_LOGGER_LOG_EVENT`): they hold user tokens and people's messages.
 */
export function lambda<E, R>(fn: Entry<E, R>) {
  const budgeted = (event: E, context: Context) => fn(event, context, deadlineOf(context));
  return middy(budgeted)
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use(flushMetrics);
}

/**
 * The verifier's entry: the same Powertools log context and metrics flush, without middy and without
 * the time budget (it calls no Graph API; SQS calls carry the SDK's own timeouts). On Facebook's clock
 * the wrapper is a third of a one-event POST: middy and the budget cost ~5 µs of ~18 (npm run bench);
 * Powertools' own metrics buffer and an eager log context cost ~5 µs more (observability.ts).
 */
export function hotPathLambda<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return async (event: E, context: Context): Promise<R> => {
    // Added to the log attributes only if the POST writes a line (most write none).
    logger.deferContext(context);
    try {
      return await fn(event, context);
    } finally {
      publishCounts();
    }
  };
}
