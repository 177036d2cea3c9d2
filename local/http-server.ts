import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MAX_BODY_BYTES } from '#ingest/verify-webhook';
import type { HttpEvent, HttpResult } from '#runtime/http';
import { logger } from '#runtime/observability';

const WEBHOOK_PATH = '/webhooks/facebook';
/**
 * Every other route: the admin API's bodies are a token and page ids or a 2,000-character reply, a form
 * post is smaller still. 1 MiB is far above all of them and far below API Gateway's 10 MiB (which no
 * route of ours could use anyway: Lambda takes at most 6 MB of request). The admin bearer token is only
 * checked once the body is read, so this bounds what anyone can make the server hold per connection.
 */
export const OTHER_MAX_BODY_BYTES = 1024 * 1024;

/** The most body a request to this path may carry: the webhook's is the verifier's own (SPEC §4: 413 over 1 MiB). */
export function bodyLimit(path: string): number {
  return path === WEBHOOK_PATH ? MAX_BODY_BYTES : OTHER_MAX_BODY_BYTES;
}

/** `stream`: a body the gateway pipes out as it is read (the media route), instead of `body`. */
export type HttpApp = (event: HttpEvent) => Promise<HttpResult & { stream?: Readable }>;

/**
 * Plays API Gateway (HTTP API, payload v2) in front of the handlers: each request becomes the same
 * event Lambda would receive, body base64-encoded so its bytes arrive untouched.
 */
export async function serveHttp(
  app: HttpApp,
  port: number,
  host: string,
): Promise<{ server: Server; url: string }> {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(app, req, res).catch((err: Error) => {
      logger.error('local gateway: request failed', { path: pathOf(req), error: err });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal', message: 'internal error' } }));
    });
  };
  const server = createServer(onRequest);
  // `Expect: 100-continue` (curl's way with large bodies): a body declared too large is refused before
  // the client sends a byte of it; any other gets its 100 Continue as Node would send it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (declaredTooLarge(req)) return refuse(req, res);
    res.writeContinue();
    onRequest(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}` };
}

async function handle(app: HttpApp, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // A declared length over the limit is refused at once: nothing of the body is waited for or read.
  if (declaredTooLarge(req)) return refuse(req, res);
  const read = await readBody(req, bodyLimit(pathOf(req)));
  if (read === 'too_large') return refuse(req, res);
  if (read === 'aborted') return; // the client went away: nobody to answer
  const body = read;
  const result = await app(toHttpEvent(req, body));
  const headers = { ...(result.headers ?? {}) } as Record<string, string>;
  res.writeHead(result.statusCode ?? 200, headers);
  if (result.stream) return pipeline(result.stream, res).catch(() => void res.destroy());
  res.end(
    result.body === undefined ? '' : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'),
  );
}

function pathOf(req: IncomingMessage): string {
  const [path = '/'] = (req.url ?? '/').split('?');
  return path;
}

function declaredTooLarge(req: IncomingMessage): boolean {
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > bodyLimit(pathOf(req));
}

/**
 * 413, and the connection closes once the answer is out (`connection: close`): nothing more of the body
 * is read, whatever the client still sends.
 */
function refuse(req: IncomingMessage, res: ServerResponse): void {
  lingerOnClose(req);
  res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end('Payload Too Large');
}

/** How long a refused connection waits after its answer before it is cut. */
const LINGER_MS = 500;

/**
 * Closing a socket whose client is still sending answers that client with a reset, and the reset can
 * wipe the 413 out of the client's buffer before it is read. So, as Go's net/http does, the connection
 * first only stops sending (FIN) and is cut a moment later, reading nothing more meanwhile: what the
 * client still sends waits in the kernel's socket buffer and goes with the socket. Node ends a
 * `connection: close` answer's socket through `destroySoon`; this socket's does the above.
 */
function lingerOnClose(req: IncomingMessage): void {
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.pause();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

/**
 * The body, read until it ends, or `too_large` as soon as the bytes read pass the limit (a chunked body
 * declares no length): from then on nothing more is taken off the socket or kept.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: Buffer | 'too_large' | 'aborted') => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      chunks.length = 0;
      // Paused and unheard, the request stops pulling from the socket (Node's back-pressure).
      req.pause();
      settle('too_large');
    };
    const onEnd = () => settle(Buffer.concat(chunks, size));
    const onClose = () => settle('aborted');
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
  });
}

export function toHttpEvent(req: IncomingMessage, body: Buffer): HttpEvent {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const method = req.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: body.length ? body.toString('base64') : undefined,
    isBase64Encoded: body.length > 0,
  };
}
