/**
 * The local copy route (SPEC §10): what a person sent is served as stored, but never as a page of the
 * stack's origin: pictures, sound and video inline, anything else (HTML, SVG, documents) downloaded,
 * always in a CSP sandbox.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryMediaStore } from '#adapters/local/media-store';
import { LOCAL_MEDIA_PATH, mediaRoute } from '#local/media-route';
import { mediaKey } from '#media/media-key';
import { httpEvent } from '#testkit/http-events';

async function served(contentType: string) {
  const store = new MemoryMediaStore();
  const key = mediaKey('p1', 'u1', `m_${contentType}`, 0);
  await store.put(key, Readable.from([Buffer.from('<svg onload="alert(1)"/>')]), { contentType });
  return mediaRoute(store, httpEvent('GET', `${LOCAL_MEDIA_PATH}${key}`));
}

describe('GET /admin/media/{key}', () => {
  it('shows pictures, sound and video inline; downloads HTML, SVG and documents; always sandboxed', async () => {
    const cases: Array<[string, string]> = [
      ['image/png', 'inline'],
      ['video/mp4', 'inline'],
      ['audio/mpeg', 'inline'],
      ['image/svg+xml', 'attachment'],
      ['text/html; charset=utf-8', 'attachment'],
      ['application/pdf', 'attachment'],
    ];
    for (const [type, disposition] of cases) {
      const answer = await served(type);
      expect(answer.statusCode, type).toBe(200);
      expect(answer.headers?.['content-disposition'], type).toBe(disposition);
      expect(answer.headers?.['content-security-policy'], type).toBe("sandbox; default-src 'none'");
      expect(answer.headers?.['x-content-type-options'], type).toBe('nosniff');
    }
  });
});
