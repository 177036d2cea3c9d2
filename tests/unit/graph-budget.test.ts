/** A Graph call never outlives the invocation that makes it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import { deadlineOf } from '#runtime/deadline';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';

let server: TinyServer;

beforeAll(async () => {
  // Answers nothing, ever: a Graph API that hangs.
  server = await tinyServer(() => undefined);
});

afterAll(() => server.close());

const client = () =>
  new GraphClient({
    baseUrl: server.url,
    version: 'v24.0',
    appId: '1',
    appSecret: 'secret',
    timeoutMs: 10_000,
  });

/** The deadline the Lambda wrapper passes down for a context with `remainingMs` left. */
const deadlineWith = (remainingMs: number) => deadlineOf({ getRemainingTimeInMillis: () => remainingMs });

describe('the invocation deadline bounds every Graph call', () => {
  it('cuts an attempt to the time left, and starts no retry it cannot finish', async () => {
    const started = Date.now();
    const deadline = deadlineWith(2_900);
    const err = await client()
      .profile('123', 'EAAtoken', { deadline })
      .catch((e) => e);
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(GraphError);
    expect(err.message).toMatch(/timed out/);
    // 2.9 s budget − 2 s safety margin = 0.9 s: not the 10 s per-call timeout, and no second attempt.
    expect(took).toBeLessThan(5_000);
    expect(server.hits).toHaveLength(1);
  });

  it('does not start a call when almost no time is left', async () => {
    const before = server.hits.length;
    const err = await client()
      .subscribedApps('123', 'EAAtoken', { deadline: deadlineWith(2_100) })
      .catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err.message).toMatch(/no time left/);
    expect(server.hits).toHaveLength(before);
  });

  it('a paged listing stops at the deadline too', async () => {
    const before = server.hits.length;
    const err = await client()
      .listPages('EAAtoken', { deadline: deadlineWith(2_100) })
      .catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err.message).toMatch(/no time left/);
    expect(server.hits).toHaveLength(before);
  });

  it('a send stops at the deadline too', async () => {
    const before = server.hits.length;
    const err = await client()
      .sendText('1', 'EAAtoken', '2', 'hi', { messagingType: 'RESPONSE' }, { deadline: deadlineWith(2_100) })
      .catch((e) => e);
    expect(err.message).toMatch(/no time left/);
    expect(server.hits).toHaveLength(before);
  });
});
