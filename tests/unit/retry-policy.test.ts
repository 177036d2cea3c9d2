import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphClient } from '#graph/graph-client';
import { GraphError } from '#graph/graph-error';
import {
  DEFAULT_RETRY_POLICY,
  type RetryCallOptions,
  type RetryClock,
  type RetryPolicy,
  withRetry as withRetryPolicy,
} from '#graph/retry-policy';
import { type Deadline, deadlineOf, NO_DEADLINE } from '#runtime/deadline';
import { counters } from '#runtime/observability';
import { GraphFake } from '#testkit/graph-faults';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';

// ---- a fake clock: recorded sleeps, fixed jitter, a budget that shrinks as it sleeps -----------------

interface FakeClock extends RetryClock {
  sleeps: number[];
  /** The invocation's deadline, as the wrapper would pass it: it shrinks as the clock sleeps. */
  deadline: Deadline;
  setBudget(ms: number): void;
}

function fakeClock(o: { random?: number; budgetMs?: number } = {}): FakeClock {
  const sleeps: number[] = [];
  let budget = o.budgetMs ?? Number.POSITIVE_INFINITY;
  return {
    sleeps,
    setBudget: (ms) => {
      budget = ms;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
      budget -= ms;
    },
    random: () => o.random ?? 0.5,
    deadline: { remainingMs: () => budget },
  };
}

/** withRetry with the fake clock's deadline passed in, as the Graph client passes the invocation's. */
function withRetry<T>(
  operation: () => Promise<T>,
  policy: Partial<RetryPolicy> & Partial<RetryCallOptions> = {},
  clock: Partial<FakeClock> = {},
): Promise<T> {
  return withRetryPolicy(operation, { ...policy, deadline: clock.deadline ?? NO_DEADLINE }, clock);
}

const OP = 'GET /{psid}';

/** A GraphError as the client builds it from Meta's answer. */
function graphError(status: number, code?: number, message = `(#${code}) from Meta`, retryAfterMs?: number) {
  return new GraphError({ operation: OP, status, message, code, fbtraceId: 'trace', retryAfterMs });
}

/** An operation that throws the given errors in turn, then answers 'ok'. */
function failing(...errors: unknown[]) {
  const op = async () => {
    op.calls += 1;
    const err = errors.shift();
    if (err !== undefined) throw err;
    return 'ok';
  };
  op.calls = 0;
  return op;
}

function always(make: (attempt: number) => unknown) {
  const op = async (): Promise<string> => {
    op.calls += 1;
    throw make(op.calls);
  };
  op.calls = 0;
  return op;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
}

function delta(before: Record<string, number>, name: string): number {
  return (counters()[name] ?? 0) - (before[name] ?? 0);
}

// ---- withRetry ---------------------------------------------------------------------------------------

describe('DEFAULT_RETRY_POLICY', () => {
  it('is 5 attempts, 250 ms base, 20 s cap', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual<RetryPolicy>({
      maxAttempts: 5,
      baseDelayMs: 250,
      maxDelayMs: 20_000,
    });
  });
});

describe('which errors are retried', () => {
  const retried: Array<[string, GraphError]> = [
    ...[4, 17, 32, 613, 80001, 80006].map((code): [string, GraphError] => [
      `throttle code ${code}`,
      graphError(400, code),
    ]),
    ['HTTP 429', graphError(429, 100)],
    ['HTTP 429 without a body', graphError(429)],
    ['HTTP 500', graphError(500, 100)],
    ['HTTP 503', graphError(503)],
    ['code 1', graphError(400, 1)],
    ['code 2', graphError(400, 2)],
    ['status 0 (timeout / network)', graphError(0, undefined, 'Graph API timed out')],
  ];

  it.each(retried)('%s is retried', async (_, err) => {
    const clock = fakeClock();
    const op = failing(err);
    await expect(withRetry(op, {}, clock)).resolves.toBe('ok');
    expect(op.calls).toBe(2);
    expect(clock.sleeps).toHaveLength(1);
  });

  const permanent: Array<[string, GraphError]> = [
    ['190 auth', graphError(400, 190)],
    ['190 auth on a 500', graphError(500, 190)],
    ['10 permission', graphError(400, 10)],
    ['200 permission', graphError(403, 200)],
    ['299 permission', graphError(400, 299)],
    ['100 invalid parameter', graphError(400, 100)],
  ];

  it.each(permanent)('%s is not retried: thrown at once, unchanged', async (_, err) => {
    const clock = fakeClock();
    const op = failing(err);
    const thrown = await rejection(withRetry(op, {}, clock));
    expect(thrown).toBe(err);
    expect(op.calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('anything but a GraphError is rethrown at once', async () => {
    const clock = fakeClock();
    const boom = new TypeError('a bug');
    const op = failing(boom);
    expect(await rejection(withRetry(op, {}, clock))).toBe(boom);
    expect(op.calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('idempotent: false retries answers (5xx, 613) but not status 0, which may have reached Meta', async () => {
    const clock = fakeClock();
    const answered = failing(graphError(503), graphError(400, 613));
    await expect(withRetry(answered, { idempotent: false }, clock)).resolves.toBe('ok');
    expect(answered.calls).toBe(3);

    const timeout = graphError(0, undefined, 'Graph API timed out');
    const unanswered = failing(timeout);
    expect(await rejection(withRetry(unanswered, { idempotent: false }, clock))).toBe(timeout);
    expect(unanswered.calls).toBe(1);
    expect(clock.sleeps).toHaveLength(2);
  });
});

describe('back-off', () => {
  it('grows exponentially from baseDelayMs with full jitter, capped at maxDelayMs', async () => {
    const clock = fakeClock({ random: 0.5 });
    const op = always(() => graphError(500));
    await rejection(withRetry(op, { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 1_000 }, clock));
    // ceilings 100, 200, 400, 800, 1000, 1000, 1000; half of each
    expect(clock.sleeps).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(op.calls).toBe(8);
  });

  it('the jitter spans the whole window: random 0 waits nothing, random ~1 waits the ceiling', async () => {
    const low = fakeClock({ random: 0 });
    await rejection(
      withRetry(
        always(() => graphError(400, 4)),
        {},
        low,
      ),
    );
    expect(low.sleeps).toEqual([0, 0, 0, 0]);

    const high = fakeClock({ random: 0.999 });
    await rejection(
      withRetry(
        always(() => graphError(400, 4)),
        {},
        high,
      ),
    );
    expect(high.sleeps.map(Math.round)).toEqual([250, 500, 999, 1998]);
  });

  it('the defaults: 250 ms doubling up to 20 s', async () => {
    const clock = fakeClock({ random: 0.999_999 });
    await rejection(
      withRetry(
        always(() => graphError(500)),
        { maxAttempts: 10 },
        clock,
      ),
    );
    expect(clock.sleeps.map(Math.round)).toEqual([250, 500, 1000, 2000, 4000, 8000, 16000, 20000, 20000]);
  });
});

describe('X-Business-Use-Case-Usage estimated_time_to_regain_access', () => {
  it('is waited for when the budget allows (2 minutes → 120000 ms), even past maxDelayMs', async () => {
    const clock = fakeClock({ budgetMs: 10 * 60_000 });
    const op = failing(graphError(400, 80001, 'too many calls', 120_000));
    await expect(withRetry(op, { attemptTimeoutMs: 5_000 }, clock)).resolves.toBe('ok');
    expect(clock.sleeps).toEqual([120_000]);
    expect(op.calls).toBe(2);
  });

  it('is a minimum: a longer jittered back-off still wins', async () => {
    const clock = fakeClock({ random: 0.999 });
    const op = failing(...[1, 2, 3].map(() => graphError(400, 613, 'throttled', 300)));
    await withRetry(op, {}, clock);
    expect(clock.sleeps.map(Math.round)).toEqual([300, 500, 999]);
  });

  it('longer than the remaining budget: thrown at once, without sleeping (the message goes back to the queue)', async () => {
    const clock = fakeClock({ budgetMs: 60_000 });
    const err = graphError(400, 80006, 'Messenger throttled', 120_000);
    const op = failing(err);
    const before = counters();
    expect(await rejection(withRetry(op, {}, clock))).toBe(err);
    expect(op.calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
    expect(delta(before, 'GraphRetries')).toBe(0);
    expect(delta(before, 'GraphErrors_throttle')).toBe(1);
  });

  it('fits the wait but not one more call after it: thrown at once too', async () => {
    const clock = fakeClock({ budgetMs: 61_000 });
    const op = failing(graphError(400, 32, 'page throttled', 60_000));
    await rejection(withRetry(op, { attemptTimeoutMs: 2_000 }, clock));
    expect(op.calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('the deadline passed in bounds the retries', async () => {
    const sleeps: number[] = [];
    const clock = { sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 };
    // 30 s once the safety margin is off
    const deadline = deadlineOf({ getRemainingTimeInMillis: () => 32_000 });
    const op = failing(graphError(400, 613, 'throttled', 60_000));
    await rejection(withRetryPolicy(op, { deadline }, clock));
    expect(sleeps).toEqual([]);
  });

  it('NO_DEADLINE (tools, tests) leaves only the policy to stop the retries', async () => {
    const sleeps: number[] = [];
    const clock = { sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 };
    const op = failing(graphError(400, 613, 'throttled', 60_000));
    await expect(withRetryPolicy(op, { deadline: NO_DEADLINE }, clock)).resolves.toBe('ok');
    expect(sleeps).toEqual([60_000]);
  });
});

describe('budget, attempts and what escapes', () => {
  it('stops retrying when the next delay plus one call timeout no longer fits the budget', async () => {
    const clock = fakeClock({ random: 0.999_999, budgetMs: 2_000 });
    const op = always((n) => graphError(503, undefined, `attempt ${n}`));
    const err = (await rejection(withRetry(op, { attemptTimeoutMs: 500 }, clock))) as GraphError;
    // 250 + 500 ≤ 2000 → sleep (1750 left); 500 + 500 ≤ 1750 → sleep (1250 left); 1000 + 500 > 1250 → stop
    expect(clock.sleeps.map(Math.round)).toEqual([250, 500]);
    expect(op.calls).toBe(3);
    expect(err.message).toBe('attempt 3');
  });

  it('an exhausted budget means a single attempt', async () => {
    const clock = fakeClock({ budgetMs: 0 });
    const op = always(() => graphError(500));
    await rejection(withRetry(op, {}, clock));
    expect(op.calls).toBe(1);
  });

  it('maxAttempts counts every attempt; the last error escapes as it was thrown', async () => {
    const clock = fakeClock();
    const thrown: GraphError[] = [];
    const op = always((n) => {
      const e = graphError(400, 613, `(#613) Calls to this api have exceeded the rate limit. #${n}`);
      thrown.push(e);
      return e;
    });
    const err = await rejection(withRetry(op, { maxAttempts: 3 }, clock));
    expect(op.calls).toBe(3);
    expect(clock.sleeps).toHaveLength(2);
    expect(err).toBe(thrown[2]);
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({
      name: 'GraphError',
      errorClass: 'throttle',
      code: 613,
      operation: OP,
      message: '(#613) Calls to this api have exceeded the rate limit. #3',
    });
  });

  it('the default is 5 attempts', async () => {
    const op = always(() => graphError(400, 2));
    await rejection(withRetry(op, {}, fakeClock()));
    expect(op.calls).toBe(5);
  });

  it('maxAttempts 1 (or less) never retries', async () => {
    for (const maxAttempts of [1, 0, -3]) {
      const op = always(() => graphError(500));
      await rejection(withRetry(op, { maxAttempts }, fakeClock()));
      expect(op.calls).toBe(1);
    }
  });

  it('counts GraphRetries per retry and GraphErrors_<class> once when an error escapes', async () => {
    const before = counters();
    await withRetry(failing(graphError(500), graphError(400, 4)), {}, fakeClock());
    expect(delta(before, 'GraphRetries')).toBe(2);
    expect(delta(before, 'GraphErrors_transient')).toBe(0);

    await rejection(
      withRetry(
        always(() => graphError(500)),
        { maxAttempts: 2 },
        fakeClock(),
      ),
    );
    await rejection(withRetry(failing(graphError(400, 190)), {}, fakeClock()));
    await rejection(withRetry(failing(graphError(400, 10)), {}, fakeClock()));
    expect(delta(before, 'GraphRetries')).toBe(3);
    expect(delta(before, 'GraphErrors_transient')).toBe(1);
    expect(delta(before, 'GraphErrors_auth')).toBe(1);
    expect(delta(before, 'GraphErrors_permanent')).toBe(1);
  });
});

// ---- GraphClient: every call goes through the policy -------------------------------------------------

const APP_ID = '900000000000099';
const APP_SECRET = 'retry-policy-test-secret';
const VERSION = 'v24.0';
const PAGE = { id: '300000000000001', name: 'Retry Page' };

function client(baseUrl: string, clock: Partial<RetryClock>, o: { timeoutMs?: number; retry?: false } = {}) {
  return new GraphClient({
    baseUrl,
    version: VERSION,
    appId: APP_ID,
    appSecret: APP_SECRET,
    timeoutMs: o.timeoutMs ?? 2_000,
    retry: o.retry,
    clock,
  });
}

describe('GraphClient with the retry policy', () => {
  let fake: GraphFake;
  let clock: FakeClock;
  let graph: GraphClient;
  let token: string;
  let psid: string;

  beforeEach(async () => {
    fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
    fake.addUser({ pages: [PAGE] });
    psid = fake.psid(fake.addPerson('Ada', 'Lovelace'), PAGE.id);
    clock = fakeClock();
    graph = client(await fake.start(), clock);
    token = fake.pageToken(PAGE.id);
  });
  afterEach(async () => {
    await fake.stop();
  });

  it('613 twice then success: succeeds after 2 retries', async () => {
    fake.injectError(
      { method: 'GET', path: `/${PAGE.id}/subscribed_apps`, times: 2 },
      { status: 400, code: 613, message: '(#613) Calls to this api have exceeded the rate limit.' },
    );
    const before = counters();
    expect(await graph.subscribedApps(PAGE.id, token)).toEqual([]);
    expect(fake.calls).toHaveLength(3);
    expect(clock.sleeps).toEqual([125, 250]);
    expect(delta(before, 'GraphRetries')).toBe(2);
  });

  it('190 fails at once with one call', async () => {
    fake.injectError(
      { path: `/${PAGE.id}/subscribed_apps`, times: 5 },
      { status: 400, code: 190, subcode: 460, message: 'Error validating access token' },
    );
    const err = await rejection(graph.subscribeApp(PAGE.id, token, ['messages']));
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({
      errorClass: 'auth',
      code: 190,
      subcode: 460,
      message: 'Error validating access token',
    });
    expect(fake.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('10 keeps Meta’s message and is not retried', async () => {
    const message = '(#10) This message is sent outside of allowed window.';
    fake.injectError(
      { method: 'POST', path: `/${PAGE.id}/messages`, times: 5 },
      { status: 400, code: 10, subcode: 2018278, message },
    );
    const err = await rejection(graph.sendText(PAGE.id, token, psid, 'hi', { messagingType: 'RESPONSE' }));
    expect(err).toMatchObject({ errorClass: 'permanent', code: 10, message });
    expect(fake.calls).toHaveLength(1);
  });

  it('sendText is retried after a 613 answer and sends the message once', async () => {
    fake.injectError(
      { method: 'POST', path: `/${PAGE.id}/messages` },
      { status: 400, code: 613, message: '(#613) Calls to this api have exceeded the rate limit.' },
    );
    const { messageId } = await graph.sendText(PAGE.id, token, psid, 'hello', { messagingType: 'RESPONSE' });
    expect(fake.calls).toHaveLength(2);
    expect(fake.sent(PAGE.id)).toEqual([
      { recipientId: psid, messagingType: 'RESPONSE', text: 'hello', messageId },
    ]);
  });

  it('sendText is retried after a 5xx answer', async () => {
    fake.injectError(
      { method: 'POST', path: `/${PAGE.id}/messages` },
      { status: 500, code: 2, message: 'An unexpected error has occurred. Please retry your request later.' },
    );
    await graph.sendText(PAGE.id, token, psid, 'hello', { messagingType: 'RESPONSE' });
    expect(fake.sent(PAGE.id)).toHaveLength(1);
    expect(clock.sleeps).toHaveLength(1);
  });

  it('Meta’s usage header is honoured: 2 minutes slept when the budget allows', async () => {
    const headers = {
      'x-business-use-case-usage': JSON.stringify({
        '1': [{ type: 'pages', call_count: 100, estimated_time_to_regain_access: 2 }],
      }),
    };
    fake.injectError(
      { path: `/${psid}` },
      { status: 400, code: 80001, message: 'There have been too many calls to this Page account.', headers },
    );
    clock.setBudget(5 * 60_000);
    expect(await graph.profile(psid, token, { deadline: clock.deadline })).toMatchObject({
      firstName: 'Ada',
    });
    expect(clock.sleeps).toEqual([120_000]);
  });

  it('…and thrown at once when it outlasts the invocation', async () => {
    const headers = {
      'x-business-use-case-usage': JSON.stringify({ '1': [{ estimated_time_to_regain_access: 2 }] }),
    };
    fake.injectError(
      { path: `/${psid}` },
      { status: 400, code: 80001, message: 'There have been too many calls to this Page account.', headers },
    );
    clock.setBudget(60_000);
    const err = await rejection(graph.profile(psid, token, { deadline: clock.deadline }));
    expect(err).toMatchObject({ errorClass: 'throttle', code: 80001, retryAfterMs: 120_000 });
    expect(fake.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('the per-call timeout counts against the budget', async () => {
    fake.injectError(
      { path: `/${psid}` },
      { status: 503, code: 2, message: 'Service temporarily unavailable' },
    );
    clock.setBudget(1_000); // the 125 ms back-off fits, the 2 s call timeout after it does not
    await rejection(graph.profile(psid, token, { deadline: clock.deadline }));
    expect(fake.calls).toHaveLength(1);
  });

  it('retry: false makes every call a single attempt', async () => {
    const single = client(fake.url, clock, { retry: false });
    fake.injectError(
      { path: `/${psid}` },
      { status: 400, code: 4, message: '(#4) Application request limit reached' },
    );
    await expect(single.profile(psid, token)).rejects.toMatchObject({ errorClass: 'throttle', code: 4 });
    expect(fake.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('custom policy overrides apply per client', async () => {
    const patient = new GraphClient({
      baseUrl: fake.url,
      version: VERSION,
      appId: APP_ID,
      appSecret: APP_SECRET,
      timeoutMs: 2_000,
      retry: { maxAttempts: 2, baseDelayMs: 10 },
      clock,
    });
    fake.injectError(
      { path: `/${psid}`, times: 5 },
      { status: 500, code: 1, message: 'An unknown error occurred' },
    );
    await expect(patient.profile(psid, token)).rejects.toMatchObject({ errorClass: 'transient', code: 1 });
    expect(fake.calls).toHaveLength(2);
    expect(clock.sleeps).toEqual([5]);
  });
});

describe('GraphClient timeouts and the non-idempotent send', () => {
  let silent: TinyServer;
  let stalling: TinyServer;

  beforeAll(async () => {
    silent = await tinyServer(() => {
      // never answers
    });
    stalling = await tinyServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"message_id":');
    });
  });
  afterAll(async () => {
    await Promise.all([silent.close(), stalling.close()]);
  });
  beforeEach(() => {
    silent.hits.length = 0;
    stalling.hits.length = 0;
  });

  it('sendText is not retried after a timeout: the message may have reached Meta', async () => {
    const clock = fakeClock();
    const g = client(silent.url, clock, { timeoutMs: 50 });
    const err = await rejection(g.sendText('1', 'EAAtok', '2', 'once', { messagingType: 'RESPONSE' }));
    expect(err).toMatchObject({ status: 0, errorClass: 'transient', message: 'Graph API timed out' });
    expect(silent.hits).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('a read (profile) is retried after a timeout, each attempt with its own timeout', async () => {
    const clock = fakeClock();
    const g = new GraphClient({
      baseUrl: silent.url,
      version: VERSION,
      appId: APP_ID,
      appSecret: APP_SECRET,
      timeoutMs: 50,
      retry: { maxAttempts: 3 },
      clock,
    });
    const err = await rejection(g.profile('2', 'EAAtok'));
    expect(err).toMatchObject({ status: 0, errorClass: 'transient' });
    expect(silent.hits).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('a body that stalls after the headers times out as status 0 (transient), and a send is not repeated', async () => {
    const clock = fakeClock();
    const g = client(stalling.url, clock, { timeoutMs: 50 });
    const err = await rejection(g.sendText('1', 'EAAtok', '2', 'once', { messagingType: 'RESPONSE' }));
    expect(err).toMatchObject({ status: 0, errorClass: 'transient', message: 'Graph API timed out' });
    expect(stalling.hits).toHaveLength(1);
  });
});
