import { MAX_WEBHOOK_BODY_BYTES } from '#contracts/limits';
import { HEALTH_PATH } from '#contracts/routes';
import type { AppCredentialsSource, BlobStore, EventQueue } from '#ports/ports';
import { sameSecret } from '#runtime/constant-time';
import { type HttpEvent, type HttpResult, header, json, rawBody, text } from '#runtime/http';
import { count, logger } from '#runtime/observability';
import { toQueueMessages } from './claim-check.js';
import { parseWebhook } from './parse-webhook.js';
import { verifySignature } from './signature.js';

/** Meta's limit for a webhook body is far below this; anything larger is not a webhook (contracts/limits.ts). */
export const MAX_BODY_BYTES = MAX_WEBHOOK_BODY_BYTES;

export interface VerifierDeps {
  queue: EventQueue;
  credentials: AppCredentialsSource;
  /** Where events too large for a queue message go (claim checks, claim-check.ts). */
  blobs: BlobStore;
}

/**
 * `GET|POST /webhooks/facebook` (and `GET /health`): the handshake, and the signed POST turned into queue messages.
 * It only checks and enqueues, so Facebook gets its answer in milliseconds; all the work is the
 * processor's. Answers 200 only once every event is durably queued.
 */
export function createVerifier(deps: VerifierDeps) {
  return async (event: HttpEvent): Promise<HttpResult> => {
    const method = event.requestContext?.http?.method ?? 'GET';
    // The public API's liveness answer lives here too, so /health needs no function of its own.
    if (event.rawPath === HEALTH_PATH) return json(200, { status: 'ok' });
    if (method === 'GET') return handshake(event, deps.credentials);
    if (method === 'POST') return receive(event, deps);
    return text(405, 'Method Not Allowed');
  };
}

async function handshake(event: HttpEvent, credentials: AppCredentialsSource): Promise<HttpResult> {
  const q = event.queryStringParameters ?? {};
  const expected = (await credentials.get())?.verifyToken;
  const given = q['hub.verify_token'];
  if (q['hub.mode'] === 'subscribe' && expected && given && sameSecret(given, expected)) {
    return text(200, q['hub.challenge'] ?? '');
  }
  logger.warn('webhook handshake refused', { mode: q['hub.mode'] });
  return text(403, 'Forbidden');
}

async function receive(event: HttpEvent, deps: VerifierDeps): Promise<HttpResult> {
  count('WebhooksReceived');
  const body = rawBody(event);
  if (body.length > MAX_BODY_BYTES) {
    count('WebhooksRefused');
    return text(413, 'Payload Too Large');
  }
  const appSecret = (await deps.credentials.get())?.appSecret;
  if (!appSecret) logger.error('no app secret configured: every webhook POST is refused');
  if (!verifySignature(body, header(event, 'x-hub-signature-256'), appSecret)) {
    count('WebhooksRefused');
    logger.warn('webhook signature missing or invalid', { bytes: body.length });
    return text(401, 'Unauthorized');
  }
  const parsed = parseWebhook(body);
  if (!parsed.ok) {
    count('WebhooksRefused');
    logger.warn('webhook body refused', { reason: parsed.reason });
    return text(400, parsed.message);
  }
  for (const r of parsed.rejected) logger.warn('malformed webhook event skipped', { ...r });
  count('MalformedEvents', parsed.rejected.length);
  // An event that was signed, valid and then lost would be the worst outcome: fail loudly so Meta retries.
  // A retry stores nothing twice: dedup ids and claim check keys derive from the events, and the
  // processor keeps each mid once.
  try {
    const { messages, claimChecks } = await toQueueMessages(parsed.events, deps.blobs, parsed.eventJson);
    count('EventsClaimChecked', claimChecks);
    await deps.queue.send(messages);
  } catch (err) {
    logger.error('events could not be queued; Facebook will retry', { error: err as Error });
    count('QueueFailures');
    return text(500, 'Internal Server Error');
  }
  count('EventsQueued', parsed.events.length);
  return text(200, 'EVENT_RECEIVED');
}
