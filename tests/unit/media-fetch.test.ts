/**
 * Which URLs the media worker may fetch (SPEC §10): Meta's CDN over https, hosts added by MEDIA_HOSTS
 * (exact, host:port or *.suffix) over http too, nothing else; redirects followed by hand, each target
 * checked before it is asked, at most five; reasons that never quote the URL's query.
 */
import { describe, expect, it } from 'vitest';
import { fetchMedia } from '#media/fetch-media';
import { hostPolicy } from '#media/host-policy';

const refusal = (url: string, extra?: string) => hostPolicy(extra).refusal(new URL(url));

describe('hostPolicy', () => {
  it("allows Meta's CDN hosts over https only", () => {
    for (const url of [
      'https://scontent.xx.fbcdn.net/v/a.jpg?oh=1',
      'https://video.fbcdn.net/v.mp4',
      'https://cdn.fbsbx.com/f.pdf',
      'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1',
      'https://scontent.cdninstagram.com/a.jpg',
    ])
      expect(refusal(url), url).toBeUndefined();
    expect(refusal('http://scontent.xx.fbcdn.net/a.jpg')).toBe(
      'http: refused for scontent.xx.fbcdn.net (https only)',
    );
  });

  it('refuses look-alikes, the bare suffix, credentials and other schemes', () => {
    expect(refusal('https://fbcdn.net/a.jpg')).toBe('host not allowed: fbcdn.net');
    expect(refusal('https://scontent.fbcdn.net.evil.com/a.jpg')).toBe(
      'host not allowed: scontent.fbcdn.net.evil.com',
    );
    expect(refusal('https://evilfbcdn.net/a.jpg')).toBe('host not allowed: evilfbcdn.net');
    expect(refusal('https://user:pw@scontent.fbcdn.net/a.jpg')).toBe('url with credentials refused');
    expect(refusal('file:///etc/passwd', '*')).toBe('host not allowed: ');
  });

  it('adds MEDIA_HOSTS entries, http allowed: exact, host:port and *.suffix', () => {
    expect(refusal('http://127.0.0.1:8080/a', '127.0.0.1:8080')).toBeUndefined();
    expect(refusal('http://127.0.0.1:8081/a', '127.0.0.1:8080')).toBe('host not allowed: 127.0.0.1');
    expect(refusal('http://cdn.example.org/a', 'media.test, cdn.example.org')).toBeUndefined();
    expect(refusal('https://a.b.example.org/a', '*.example.org')).toBeUndefined();
    expect(refusal('https://example.org/a', '*.example.org')).toBe('host not allowed: example.org');
  });
});

describe('fetchMedia', () => {
  const policy = hostPolicy('allowed.test');
  const redirect = (location: string) => new Response(null, { status: 302, headers: { location } });

  it('checks each redirect target before asking it, and stops after five hops', async () => {
    const asked: string[] = [];
    const refused = await fetchMedia('http://allowed.test/a?sig=secret', {
      policy,
      maxBytes: 100,
      fetch: async (url) => {
        asked.push(String(url));
        return redirect('http://evil.test/b?sig=secret');
      },
    });
    expect(refused).toEqual({
      ok: false,
      final: true,
      reason: 'redirect refused: host not allowed: evil.test',
    });
    expect(asked).toEqual(['http://allowed.test/a?sig=secret']);

    asked.length = 0;
    const loop = await fetchMedia('http://allowed.test/0', {
      policy,
      maxBytes: 100,
      fetch: async (url) => {
        asked.push(String(url));
        return redirect(`/${asked.length}`);
      },
    });
    expect(loop).toEqual({ ok: false, final: true, reason: 'too many redirects' });
    expect(asked).toHaveLength(6);
  });

  it('says which failures are worth another try: 5xx, 429 and network errors are; 403/404/410 are not', async () => {
    const status = (code: number) =>
      fetchMedia('http://allowed.test/a?oh=x', {
        policy,
        maxBytes: 100,
        fetch: async () => new Response('', { status: code }),
      });
    for (const code of [500, 503, 429]) expect(await status(code)).toMatchObject({ ok: false, final: false });
    for (const code of [403, 404, 410]) {
      expect(await status(code)).toEqual({
        ok: false,
        final: true,
        reason: `HTTP ${code} from allowed.test`,
      });
    }
    const network = await fetchMedia('http://allowed.test/a', {
      policy,
      maxBytes: 100,
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    expect(network).toEqual({ ok: false, final: false, reason: 'network error: TypeError' });
  });

  it('refuses a declared length over the limit and cancels the body unread', async () => {
    let cancelled = false;
    const body = new ReadableStream({
      cancel() {
        cancelled = true;
      },
    });
    const answer = await fetchMedia('http://allowed.test/a', {
      policy,
      maxBytes: 25 * 1024 * 1024,
      fetch: async () => new Response(body, { headers: { 'content-length': String(25 * 1024 * 1024 + 1) } }),
    });
    expect(answer).toEqual({ ok: false, final: true, reason: 'too large: over 25 MB' });
    expect(cancelled).toBe(true);
  });
  it('asks for the bytes as stored, and trusts no length of a compressed answer', async () => {
    let asked: RequestInit | undefined;
    const answer = await fetchMedia('http://allowed.test/a', {
      policy,
      maxBytes: 1000,
      fetch: async (_url, init) => {
        asked = init;
        return new Response('abc', { headers: { 'content-length': '3', 'content-encoding': 'gzip' } });
      },
    });
    expect(asked?.headers).toEqual({ 'accept-encoding': 'identity' });
    expect(asked?.redirect).toBe('manual');
    expect(answer).toMatchObject({ ok: true, length: undefined });
  });
});
