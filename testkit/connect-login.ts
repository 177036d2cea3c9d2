/**
 * Facebook Login against the local stack in sandbox mode, over plain fetch (no browser): each step
 * of SPEC §12 as a browser would take it, cookies handled by hand.
 */
export interface Step {
  status: number;
  headers: Headers;
  text: string;
  location?: string;
}

export async function get(url: string, init: RequestInit = {}): Promise<Step> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return {
    status: res.status,
    headers: res.headers,
    text: await res.text(),
    location: res.headers.get('location') ?? undefined,
  };
}

/** Opens the link, passes the sandbox dialog with `action` and answers where the dialog redirected. */
export async function throughDialog(
  linkUrl: string,
  action: 'continue' | 'cancel' = 'continue',
): Promise<string> {
  const start = await get(linkUrl);
  if (start.status !== 302 || !start.location)
    throw new Error(`link answered ${start.status}: ${start.text}`);
  const dialog = new URL(start.location);
  const form = new URLSearchParams(dialog.searchParams);
  form.set('action', action);
  const posted = await get(dialog.toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  if (posted.status !== 302 || !posted.location) throw new Error(`dialog answered ${posted.status}`);
  return posted.location;
}

/** The picker form's fields and the CSRF cookie the callback set. */
export function pickerOf(step: Step): { state: string; csrf: string; pageIds: string[]; cookie: string } {
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(step.text)?.[1] ?? '';
  const pageIds = [...step.text.matchAll(/name="pageId" value="([^"]*)"/g)].map((m) => m[1] ?? '');
  const cookie = (step.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { state: field('state'), csrf: field('csrf'), pageIds, cookie };
}

export async function submit(
  callbackUrl: string,
  fields: { state: string; csrf: string; pageIds: string[] },
  cookie?: string,
): Promise<Step> {
  const body = new URLSearchParams({ state: fields.state, csrf: fields.csrf });
  for (const id of fields.pageIds) body.append('pageId', id);
  return get(new URL(callbackUrl).origin + new URL(callbackUrl).pathname, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: body.toString(),
  });
}
