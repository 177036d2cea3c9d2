/**
 * Which hosts attachments may be fetched from (SPEC §10): Meta's CDN, plus `MEDIA_HOSTS` (comma-separated,
 * each an exact host, `host:port`, or `*.suffix`). Meta's hosts are https only; hosts added by MEDIA_HOSTS may be http
 * (the sandbox's CDN is http on loopback).
 */
export const META_CDN_HOSTS = ['*.fbcdn.net', '*.fbsbx.com', 'lookaside.fbsbx.com', '*.cdninstagram.com'];

export interface HostPolicy {
  /** Why `url` may not be fetched, or undefined when it may. Checked before any request to it. */
  refusal(url: URL): string | undefined;
}

export function hostPolicy(extra: string | undefined): HostPolicy {
  const meta = META_CDN_HOSTS.map(pattern);
  const added = (extra ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean)
    .map(pattern);
  return {
    refusal(url) {
      const host = url.hostname.toLowerCase().replace(/\.$/, '');
      const port = url.port || (url.protocol === 'https:' ? '443' : '80');
      if (url.username || url.password) return 'url with credentials refused';
      if (url.protocol === 'https:' && meta.some((m) => m(host))) return undefined;
      const web = url.protocol === 'https:' || url.protocol === 'http:';
      if (web && added.some((m) => m(host) || m(`${host}:${port}`))) return undefined;
      if (meta.some((m) => m(host))) return `${url.protocol} refused for ${host} (https only)`;
      return `host not allowed: ${host.slice(0, 100)}`;
    },
  };
}

/**
 * `*.suffix` matches any host under the suffix (not the suffix itself); `host:port` that host on that
 * port only; anything else the host exactly.
 */
function pattern(p: string): (host: string) => boolean {
  const lower = p.toLowerCase();
  if (lower.startsWith('*.')) {
    const suffix = lower.slice(1);
    return (host) => host.endsWith(suffix) && host.length > suffix.length;
  }
  return (host) => host === lower;
}
