/** GraphClient.exchangeCode (SPEC §12): Meta's code exchange, one attempt, the code and secret never in an error. */
import { expect, it } from 'vitest';
import { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';

const APP_SECRET = 'app-secret-for-the-exchange-test';
const CODE = 'AQcode-that-must-not-leak-0123456789';

function clientWith(answer: (url: URL) => Response) {
  const calls: URL[] = [];
  const fetchFake = (async (input: Parameters<typeof fetch>[0]) => {
    const url = new URL(String(input));
    calls.push(url);
    return answer(url);
  }) as typeof fetch;
  // Retries allowed, instantly: the exchange must still make one attempt only.
  const client = new GraphClient({
    baseUrl: 'https://graph.example',
    version: 'v24.0',
    appId: '1517776481860222',
    appSecret: APP_SECRET,
    timeoutMs: 1_000,
    fetch: fetchFake,
    clock: { sleep: async () => {}, random: () => 0 },
  });
  return { client, calls };
}

it('GETs /oauth/access_token with client_id, redirect_uri, client_secret and code, and answers the token', async () => {
  const { client, calls } = clientWith(() =>
    Response.json({ access_token: 'EAAuser', token_type: 'bearer' }),
  );
  expect(await client.exchangeCode(CODE, 'https://api.example/connect/facebook/callback')).toBe('EAAuser');
  expect(calls).toHaveLength(1);
  const url = calls[0] as URL;
  expect(`${url.origin}${url.pathname}`).toBe('https://graph.example/v24.0/oauth/access_token');
  expect(Object.fromEntries(url.searchParams)).toEqual({
    client_id: '1517776481860222',
    redirect_uri: 'https://api.example/connect/facebook/callback',
    client_secret: APP_SECRET,
    code: CODE,
  });
});

it('a code Meta refuses is one attempt, even on a 5xx; neither the code nor the secret is in the error', async () => {
  const { client, calls } = clientWith(() =>
    Response.json(
      { error: { message: `bad code ${CODE} for ${APP_SECRET}`, type: 'OAuthException', code: 2 } },
      { status: 500 },
    ),
  );
  const err = await client.exchangeCode(CODE, 'https://x.example/cb').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GraphError);
  expect(calls).toHaveLength(1);
  for (const text of [(err as GraphError).message, JSON.stringify(err)]) {
    expect(text).not.toContain(CODE);
    expect(text).not.toContain(APP_SECRET);
  }
});
