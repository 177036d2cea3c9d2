/**
 * The local gateway's body limits (issue 8): a body over its route's limit is refused with 413 as soon as
 * its declared length, or the bytes read, pass the limit; the body is never waited for nor held, and the
 * connection closes. Raw sockets, so the test controls exactly what is sent and when.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '#ingest/verify-webhook';
import { OTHER_MAX_BODY_BYTES, serveHttp } from '#local/http-server';
import type { HttpEvent } from '#runtime/http';

let port: number;
let close: () => Promise<void>;
const received: HttpEvent[] = [];

beforeAll(async () => {
  const { server } = await serveHttp(
    async (event) => {
      received.push(event);
      const bytes = event.body ? Buffer.from(event.body, 'base64').length : 0;
      return { statusCode: 200, body: `got ${bytes}` };
    },
    0,
    '127.0.0.1',
  );
  port = (server.address() as { port: number }).port;
  close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
});
afterAll(async () => {
  await close?.();
});

interface RawExchange {
  socket: Socket;
  /** Resolves with everything the server sent once the server has sent a whole answer head and closed. */
  closed: Promise<string>;
  /** Resolves with what the server sent so far, once it holds `text`. */
  saw(text: string): Promise<string>;
}

/** A connection that sends `head` (request line and headers) and lets the test write the rest. */
function raw(head: string): RawExchange {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  const waiters: Array<{ text: string; resolve: (d: string) => void }> = [];
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    data += d;
    for (const w of waiters.splice(0)) {
      if (data.includes(w.text)) w.resolve(data);
      else waiters.push(w);
    }
  });
  // The server may reset a connection whose unread body it dropped: what it answered is kept.
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(data)));
  socket.write(`${head.replace(/\n/g, '\r\n')}\r\n\r\n`);
  return {
    socket,
    closed,
    saw: (text) =>
      new Promise((resolve) => {
        if (data.includes(text)) resolve(data);
        else waiters.push({ text, resolve });
      }),
  };
}

const chunk = (bytes: Buffer) => `${bytes.length.toString(16)}\r\n${bytes.toString('latin1')}\r\n`;

/** Sends `total` bytes as chunks of 64 KiB, without the final chunk: the body never ends by itself. */
function sendChunks(socket: Socket, total: number): void {
  const piece = Buffer.alloc(64 * 1024, 'a');
  for (let sent = 0; sent < total; sent += piece.length)
    socket.write(chunk(piece.subarray(0, Math.min(piece.length, total - sent))), 'latin1');
}

// A server that waits for the body instead would hang these tests: fail them early instead.
describe('body limits of the local gateway', { timeout: 10_000 }, () => {
  it('answers 413 to a declared Content-Length over the limit without waiting for the body, and closes', async () => {
    const before = received.length;
    const x = raw('POST /webhooks/facebook HTTP/1.1\nHost: local\nContent-Length: 10000000000');
    const answer = await x.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(received.length).toBe(before);
  });

  it('the webhook’s limit is the verifier’s 1 MiB: one byte over is refused up front', async () => {
    const x = raw(`POST /webhooks/facebook HTTP/1.1\nHost: local\nContent-Length: ${MAX_BODY_BYTES + 1}`);
    expect(await x.closed).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('other routes are refused over their own limit, also under Expect: 100-continue (no 100 sent)', async () => {
    const x = raw(
      `POST /admin/pages/connect HTTP/1.1\nHost: local\nExpect: 100-continue\nContent-Length: ${OTHER_MAX_BODY_BYTES + 1}`,
    );
    const answer = await x.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).not.toContain('100 Continue');
  });

  it('a chunked body is refused as soon as the bytes read pass the limit, though it never ends', async () => {
    const before = received.length;
    const x = raw('POST /webhooks/facebook HTTP/1.1\nHost: local\nTransfer-Encoding: chunked');
    sendChunks(x.socket, MAX_BODY_BYTES + 1);
    const answer = await x.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(received.length).toBe(before);
  });

  it('a body at the limit reaches the handler whole, chunked or declared', async () => {
    const chunked = raw('POST /webhooks/facebook HTTP/1.1\nHost: local\nTransfer-Encoding: chunked');
    sendChunks(chunked.socket, MAX_BODY_BYTES);
    chunked.socket.write('0\r\n\r\n');
    expect(await chunked.saw(`got ${MAX_BODY_BYTES}`)).toMatch(/^HTTP\/1\.1 200 /);
    chunked.socket.destroy();

    const declared = raw(
      `POST /admin/pages/connect HTTP/1.1\nHost: local\nExpect: 100-continue\nContent-Length: ${OTHER_MAX_BODY_BYTES}`,
    );
    await declared.saw('100 Continue');
    declared.socket.write(Buffer.alloc(OTHER_MAX_BODY_BYTES, 'b'));
    expect(await declared.saw(`got ${OTHER_MAX_BODY_BYTES}`)).toContain('HTTP/1.1 200 ');
    declared.socket.destroy();
  });
});
