/** The admin API over HTTP with a bearer token, as the end-to-end suites call it. */
export interface AdminAnswer {
  status: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the part of the answer it expects
  json: any;
}

export async function adminCall(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<AdminAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}
