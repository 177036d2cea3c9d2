import type { Readable } from 'node:stream';
import { LOCAL_MEDIA_PATH } from '#adapters/local/media-store';
import { isMediaKey } from '#media/media-key';
import type { ReadableMediaStore } from '#ports/media';
import { type HttpEvent, type HttpResult, httpError } from '#runtime/http';

export { LOCAL_MEDIA_PATH };

/** Pictures, sound and video are shown; anything else (documents, HTML, SVG) is downloaded. */
function shownInline(contentType: string): boolean {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^(image|audio|video)\//.test(type) && type !== 'image/svg+xml';
}

/** An answer whose body is streamed by the local gateway (http-server.ts) instead of held. */
export type StreamedResult = HttpResult & { stream?: Readable };

/**
 * `GET /admin/media/{key}`: a copy of an attachment (SPEC §10), streamed with its content type. Local
 * only (on AWS messages link to presigned S3 GETs), behind the admin token like every /admin route.
 */
export async function mediaRoute(store: ReadableMediaStore, event: HttpEvent): Promise<StreamedResult> {
  if (event.requestContext.http.method !== 'GET') {
    return httpError(405, 'method_not_allowed', `${LOCAL_MEDIA_PATH}{key} answers GET only`);
  }
  let key: string;
  try {
    key = decodeURIComponent(event.rawPath.slice(LOCAL_MEDIA_PATH.length));
  } catch {
    key = '';
  }
  if (!isMediaKey(key)) return httpError(400, 'invalid_path', 'not a media key');
  const found = await store.get(key);
  if (!found) return httpError(404, 'not_found', 'no copy under this key');
  return {
    statusCode: 200,
    headers: {
      'content-type': found.contentType,
      'content-length': String(found.size),
      // The copy is private message content: no shared caches; sniffing off (it is served as stored).
      'cache-control': 'private, max-age=300',
      'x-content-type-options': 'nosniff',
      // Whatever a person sent (an HTML or SVG file) must not run as a page of this origin.
      'content-security-policy': "sandbox; default-src 'none'",
      'content-disposition': shownInline(found.contentType) ? 'inline' : 'attachment',
    },
    stream: found.body,
  };
}
