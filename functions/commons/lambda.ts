import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { startInvocation } from './invocation-budget.js';
import { logger, metrics } from './observability.js';

/**
 * Flushes the invocation's metrics as one EMF line. Powertools' own middleware warns on every
 * invocation that counted nothing (a health check, a handshake); this one stays quiet then.
 */
const flushMetrics: MiddlewareObj = {
  after: () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  },
  onError: () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  },
};

/** Starts the invocation's time budget from the context (see invocation-budget.ts). */
const budget: MiddlewareObj<unknown, unknown, Error, Context> = {
  before: (request) => startInvocation(request.context.getRemainingTimeInMillis?.()),
};

/** Every Lambda entry point: the plain handler, plus Powertools' context logging and metrics flush. */
export function lambda<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return middy(fn)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(budget)
    .use(flushMetrics);
}
