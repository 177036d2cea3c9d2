/**
 * The sandbox's stand-in for Meta's attachment CDN: demo files at signed links that expire, like
 * `scontent.xx.fbcdn.net` links do, so the local stack can show a copy outliving its link.
 *
 * `GET /cdn/{file}?exp={epoch ms}&sig={hmac}` answers the file until `exp`, 403 after it (or with a
 * wrong signature); `POST /cdn/links {"file","ttlSeconds"}` mints such a link (for send-test-webhook).
 * Plain http on loopback: the sandbox adds this host to MEDIA_HOSTS.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';

export interface CdnFile {
  body: Buffer;
  contentType: string;
}

export class SandboxCdn {
  readonly files = new Map<string, CdnFile>();
  /** Requests answered, by path (tests count them). */
  readonly hits: string[] = [];
  /** The CDN's clock (tests move it on to expire links without waiting). */
  now: () => number = Date.now;
  private readonly secret = randomBytes(16);
  private server: Server | undefined;
  private base = '';

  constructor() {
    this.files.set('demo.png', { body: demoPng(), contentType: 'image/png' });
  }

  get url(): string {
    return this.base;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    const { port: bound } = this.server.address() as AddressInfo;
    this.base = `http://${host}:${bound}`;
    return this.base;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A link to `file` that answers for `ttlMs` from now (by the CDN's clock). */
  link(file: string, ttlMs: number): string {
    const exp = this.now() + ttlMs;
    return `${this.base}/cdn/${encodeURIComponent(file)}?exp=${exp}&sig=${this.sign(file, exp)}`;
  }

  private sign(file: string, exp: number): string {
    return createHmac('sha256', this.secret).update(`${file}|${exp}`).digest('hex');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://cdn');
    this.hits.push(url.pathname);
    if (req.method === 'POST' && url.pathname === '/cdn/links') return this.mint(req, res);
    const file = url.pathname.startsWith('/cdn/') ? decodeURIComponent(url.pathname.slice(5)) : '';
    const found = this.files.get(file);
    if (req.method !== 'GET' || !found) return void res.writeHead(404).end('Not Found');
    const exp = Number(url.searchParams.get('exp'));
    const sig = Buffer.from(url.searchParams.get('sig') ?? '', 'utf8');
    const expected = Buffer.from(this.sign(file, exp), 'utf8');
    const valid = sig.length === expected.length && timingSafeEqual(sig, expected);
    // What Meta's CDN answers for an expired link: 403 "URL signature expired".
    if (!valid || !(exp > this.now())) return void res.writeHead(403).end('URL signature expired');
    res.writeHead(200, { 'content-type': found.contentType, 'content-length': String(found.body.length) });
    res.end(found.body);
  }

  private async mint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: { file?: unknown; ttlSeconds?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = {};
    }
    const file = typeof body.file === 'string' ? body.file : 'demo.png';
    const ttl = typeof body.ttlSeconds === 'number' && body.ttlSeconds > 0 ? body.ttlSeconds : 60;
    if (!this.files.has(file)) return void res.writeHead(404).end('Not Found');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: this.link(file, ttl * 1000) }));
  }
}

/** A 64×64 PNG (a colour gradient), made here so the sandbox ships no binary file. */
export function demoPng(): Buffer {
  const size = 64;
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y++) {
    const row = y * (size * 3 + 1);
    for (let x = 0; x < size; x++) {
      raw[row + 1 + x * 3] = x * 4;
      raw[row + 2 + x * 3] = y * 4;
      raw[row + 3 + x * 3] = 160;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
