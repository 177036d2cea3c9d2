/** A Graph call never outlives the invocation that makes it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import { withInvocationBudget } from '#runtime/deadline';
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

describe('the invocation budget bounds every Graph call', () => {
  it('cuts an attempt to the time left, and starts no retry it cannot finish', async () => {
    const started = Date.now();
    const err = await withInvocationBudget(2_900, () => client().profile('123', 'EAAtoken')).catch((e) => e);
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(GraphError);
    expect(err.message).toMatch(/timed out/);
    // 2.9 s budget − 2 s safety margin = 0.9 s: not the 10 s per-call timeout, and no second attempt.
    expect(took).toBeLessThan(5_000);
    expect(server.hits).toHaveLength(1);
  });

  it('does not start a call when almost no time is left', async () => {
    const before = server.hits.length;
    const err = await withInvocationBudget(2_100, () => client().profile('123', 'EAAtoken')).catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err.message).toMatch(/no time left/);
    expect(server.hits).toHaveLength(before);
  });
});
