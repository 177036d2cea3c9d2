import { AdminError } from '#contracts/admin-api';
import { GraphError } from '#graph/graph-error';
import { type HttpResult, httpError } from '#runtime/http';
import { logger } from '#runtime/observability';

/** Turns any failure into SPEC §4's error body; Graph errors keep Meta's message, nothing else leaks. */
export function errorAnswer(err: unknown): HttpResult {
  if (err instanceof AdminError) return httpError(err.status, err.code, err.message);
  if (err instanceof GraphError) {
    logger.warn('Graph API call failed', { graphError: err.toJSON() });
    const status = err.errorClass === 'throttle' ? 429 : 502;
    return httpError(status, `graph_${err.errorClass}`, `Graph API: ${err.message}`);
  }
  logger.error('admin request failed', { error: err as Error });
  return httpError(500, 'internal', 'internal error');
}
