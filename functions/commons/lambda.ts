import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics } from './observability.js';

/** Every Lambda entry point: the plain handler, plus Powertools' context logging and metrics flush. */
export function lambda<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return middy(fn)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}
