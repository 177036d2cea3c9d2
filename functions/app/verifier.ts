import { createVerifier } from '#ingest/verify-webhook';
import { hotPathLambda } from '#runtime/lambda';
import type { AdaptersFor } from './adapters.js';
import type { Config } from './config.js';

/** `GET|POST /webhooks/facebook` and `/health`: check, enqueue, answer (the hot path's wrapper). */
export function composeVerifier(_config: Config, a: AdaptersFor<'verifier'>) {
  return hotPathLambda(createVerifier({ queue: a.eventsQueue, credentials: a.credentials, blobs: a.blobs }));
}
