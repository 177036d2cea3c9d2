import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { HostPolicy } from './host-policy.js';

/** A fetched attachment ready to stream, or why not: `final` failures are not worth another try. */
export type FetchOutcome =
  | { ok: true; body: Readable; contentType: string; length?: number }
  | { ok: false; final: boolean; reason: string };

export interface FetchOptions {
  policy: HostPolicy;
  maxBytes: number;
  /** Redirects followed at most (each target checked against the policy before it is asked). */
  maxRedirects?: number;
  /** Aborts the request and its body (the whole transfer) when it fires. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

const MAX_REDIRECTS = 5;
/** The CDN says the file is gone or not ours to read: a retry will not change it. */
const GONE = new Set([400, 401, 403, 404, 410, 451]);

/**
 * GETs Meta's CDN URL with redirects followed by hand, so every hop is checked against the allow-list
 * before a request is made to it; a declared length over the limit is refused before the body is read.
 * Reasons name the host and status only: the URL's query is Meta's signature and never leaves here.
 */
export async function fetchMedia(raw: string, opts: FetchOptions): Promise<FetchOutcome> {
  const get = opts.fetch ?? fetch;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, final: true, reason: 'not a URL' };
  }
  for (let hop = 0; ; hop++) {
    const refused = opts.policy.refusal(url);
    if (refused) return { ok: false, final: true, reason: hop ? `redirect refused: ${refused}` : refused };
    let response: Response;
    try {
      // The bytes as stored on the CDN: a compressed answer would be inflated by fetch, and its length lie.
      response = await get(url, {
        redirect: 'manual',
        signal: opts.signal,
        headers: { 'accept-encoding': 'identity' },
      });
    } catch (error) {
      return { ok: false, final: false, reason: `network error: ${(error as Error).name}` };
    }
    const status = response.status;
    if (status >= 300 && status < 400 && status !== 304) {
      await response.body?.cancel().catch(() => undefined);
      const location = response.headers.get('location');
      if (!location) return { ok: false, final: true, reason: `HTTP ${status} without a location` };
      if (hop >= (opts.maxRedirects ?? MAX_REDIRECTS))
        return { ok: false, final: true, reason: 'too many redirects' };
      try {
        url = new URL(location, url);
      } catch {
        return { ok: false, final: true, reason: 'redirect to an invalid URL' };
      }
      continue;
    }
    if (status < 200 || status >= 300) {
      await response.body?.cancel().catch(() => undefined);
      const reason = `HTTP ${status} from ${url.hostname.slice(0, 100)}`;
      return {
        ok: false,
        final: GONE.has(status) || (status < 500 && status !== 429 && status !== 408),
        reason,
      };
    }
    const declared = response.headers.get('content-length');
    const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const length = declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined;
    if (length !== undefined && length > opts.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      return { ok: false, final: true, reason: tooLarge(opts.maxBytes) };
    }
    const body = response.body
      ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)
      : Readable.from([]);
    const contentType = (response.headers.get('content-type') ?? 'application/octet-stream').slice(0, 200);
    // A compressed answer is inflated on the way: its declared length is not the length streamed.
    return { ok: true, body, contentType, length: encoded ? undefined : length };
  }
}

export function tooLarge(maxBytes: number): string {
  return `too large: over ${Math.round(maxBytes / (1024 * 1024))} MB`;
}
