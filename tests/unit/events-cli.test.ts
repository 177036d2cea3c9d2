/**
 * `pagewire events tail` (issue 10): locally it long-polls the stack's event log (GET /admin/events)
 * and prints events as they are published, filtered by page, as lines or JSON; on AWS it opens a
 * CloudWatch Logs live tail on the event log group (aws-sdk-client-mock: no AWS reached).
 */
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  StartLiveTailCommand,
  type StartLiveTailResponseStream,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventLog } from '#adapters/local/event-log';
import { PublicEvent } from '#contracts/public-event';
import { header, httpError } from '#runtime/http';
import type { Values } from '../../bin/cli/args.js';
import type { Context } from '../../bin/cli/command.js';
import { renderEvent, tail } from '../../bin/cli/events.js';
import { main } from '../../bin/cli/main.js';
import { Output } from '../../bin/cli/output.js';
import { eventsRoute } from '../../local/events-route.js';
import { serveHttp } from '../../local/http-server.js';

const TOKEN = 'tail-admin-token-0123456789';
const log = new LocalEventLog();
let url: string;
let close: () => Promise<void>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(2);
}

let n = 0;
function event(pageId: string, userId?: string): PublicEvent {
  n++;
  return PublicEvent.parse({
    id: `evt-${n}`,
    type: userId ? 'message.received' : 'page.status_changed',
    time: new Date(1_790_000_000_000 + n * 1000).toISOString(),
    version: 1,
    pageId,
    channel: 'messenger',
    ...(userId ? { userId, seq: n } : {}),
    data: userId
      ? { text: `hello ${n}` }
      : { from: 'active', to: 'reauth_required', reason: 'token_refused' },
  });
}

beforeAll(async () => {
  const served = await serveHttp(
    async (e) => {
      if (header(e, 'authorization') !== `Bearer ${TOKEN}`) return httpError(401, 'unauthorized', 'no');
      return eventsRoute(log, e);
    },
    0,
    '127.0.0.1',
  );
  url = served.url;
  close = () =>
    new Promise((resolve) => {
      served.server.closeAllConnections();
      served.server.close(() => resolve());
    });
});

afterAll(async () => {
  log.close();
  await close();
});

function context(values: Values, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const output = new Output({ write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) });
  const ctx = {
    output,
    values,
    args: [],
    env: { DATA_DIR: '/nonexistent-pagewire', ...env },
  } as unknown as Context;
  const lines = () => out.join('').split('\n').filter(Boolean);
  return { ctx, lines, stderr: () => err.join('') };
}

describe('pagewire events tail (local)', () => {
  it('prints the last events, then follows new ones as they are published', async () => {
    const before = Array.from({ length: 12 }, (_, i) => event('p1', `u${i}`));
    log.append(before);
    const { ctx, lines } = context({ url, 'admin-token': TOKEN });
    const stop = new AbortController();
    const running = tail(ctx, { signal: stop.signal, waitMs: 60_000 });
    await until(() => lines().length === 10);
    expect(lines()[0]).toBe(renderEvent(before[2] as PublicEvent));
    const later = [event('p1', 'u1'), event('p2')];
    log.append(later);
    await until(() => lines().length === 12);
    stop.abort();
    expect(await running).toBe(0);
    expect(lines().slice(10)).toEqual(later.map(renderEvent));
    expect(lines()[11]).toMatch(
      /page\.status_changed\s+page=p2 {2}active → reauth_required \(token_refused\)$/,
    );
    expect(lines()[10]).toContain('message.received      page=p1 user=u1 seq=');
    expect(lines()[10]).toContain(`"hello ${n - 1}"`);
  });

  it('--page keeps one page, --json prints one event object per line', async () => {
    const { ctx, lines } = context({ url, 'admin-token': TOKEN, page: ['p9'], json: true });
    const stop = new AbortController();
    const running = tail(ctx, { signal: stop.signal, waitMs: 60_000 });
    const mine = [event('p9', 'u1'), event('p9')];
    log.append([event('p1', 'u1'), mine[0] as PublicEvent, event('p8', 'u1'), mine[1] as PublicEvent]);
    await until(() => lines().length === 2);
    stop.abort();
    expect(await running).toBe(0);
    expect(lines().map((l) => JSON.parse(l))).toEqual(mine);
  });

  it('is registered: a wrong admin token ends it with the API error and exit 1', async () => {
    const { ctx, stderr } = context({});
    const code = await main(['events', 'tail', '--url', url, '--admin-token', 'wrong-token'], {
      output: ctx.output,
      env: { DATA_DIR: '/nonexistent-pagewire' },
    });
    expect(code).toBe(1);
    expect(stderr()).toContain('error: unauthorized: no');
    expect(stderr()).not.toContain('wrong-token');
  });

  it('refuses a page id that is not one (exit 2)', async () => {
    const { ctx, stderr } = context({});
    const code = await main(['events', 'tail', '--url', url, '--page', 'a b'], {
      output: ctx.output,
      env: { DATA_DIR: '/nonexistent-pagewire' },
    });
    expect(code).toBe(2);
    expect(stderr()).toContain('--page a b: not a page id');
  });
});

describe('pagewire events tail --aws', () => {
  const ARN = 'arn:aws:logs:eu-west-1:123456789012:log-group:/pagewire/events';

  async function* stream(messages: unknown[]): AsyncIterable<StartLiveTailResponseStream> {
    yield { sessionStart: { sessionId: 's1', logGroupIdentifiers: [ARN] } };
    yield {
      sessionUpdate: {
        sessionMetadata: { sampled: false },
        sessionResults: messages.map((m, i) => ({ message: JSON.stringify(m), timestamp: i })),
      },
    };
  }

  it('live-tails the event log group (name resolved to its ARN), filtered by page, detail printed', async () => {
    const logs = new CloudWatchLogsClient({ region: 'eu-west-1' });
    const mock = mockClient(logs);
    mock.on(DescribeLogGroupsCommand).resolves({
      logGroups: [
        { logGroupName: '/pagewire/events-old', logGroupArn: `${ARN}-old` },
        { logGroupName: '/pagewire/events', logGroupArn: ARN },
      ],
    });
    const a = event('p1', 'u1');
    const b = event('p1');
    const busEvent = (e: PublicEvent) => ({
      version: '0',
      source: 'pagewire',
      'detail-type': e.type,
      detail: e,
    });
    mock.on(StartLiveTailCommand).resolves({ responseStream: stream([busEvent(a), busEvent(b)]) });
    const { ctx, lines, stderr } = context(
      { aws: true, region: 'eu-west-1', page: ['p1'] },
      { PAGEWIRE_EVENT_LOG_GROUP: '/pagewire/events' },
    );
    expect(await tail(ctx, { logs })).toBe(0);
    expect(lines()).toEqual([renderEvent(a), renderEvent(b)]);
    expect(mock.commandCalls(StartLiveTailCommand)[0]?.args[0].input).toEqual({
      logGroupIdentifiers: [ARN],
      logEventFilterPattern: '{ $.detail.pageId = "p1" }',
    });
    expect(stderr()).toContain(`tailing ${ARN}`);
  });

  it('opens a new session when one times out; --json prints the public event', async () => {
    const logs = new CloudWatchLogsClient({ region: 'eu-west-1' });
    const mock = mockClient(logs);
    const a = event('p3', 'u1');
    const b = event('p3', 'u2');
    async function* timesOut(): AsyncIterable<StartLiveTailResponseStream> {
      yield* stream([{ detail: a }]);
      yield { SessionTimeoutException: { name: 'SessionTimeoutException', message: '3 hours' } as never };
    }
    mock
      .on(StartLiveTailCommand)
      .resolvesOnce({ responseStream: timesOut() })
      .resolvesOnce({ responseStream: stream([{ detail: b }]) });
    const { ctx, lines } = context(
      { aws: true, region: 'eu-west-1', json: true },
      { PAGEWIRE_EVENT_LOG_GROUP: ARN },
    );
    expect(await tail(ctx, { logs })).toBe(0);
    expect(lines().map((l) => JSON.parse(l))).toEqual([a, b]);
    expect(mock.commandCalls(StartLiveTailCommand)).toHaveLength(2);
    expect(mock.commandCalls(DescribeLogGroupsCommand)).toHaveLength(0);
    expect(mock.commandCalls(StartLiveTailCommand)[0]?.args[0].input.logEventFilterPattern).toBeUndefined();
  });

  it('without PAGEWIRE_EVENT_LOG_GROUP says which stack output to use (exit 2)', async () => {
    const { ctx, stderr } = context({});
    const code = await main(['events', 'tail', '--aws', '--region', 'eu-west-1'], {
      output: ctx.output,
      env: { DATA_DIR: '/nonexistent-pagewire' },
    });
    expect(code).toBe(2);
    expect(stderr()).toContain('set PAGEWIRE_EVENT_LOG_GROUP to the stack output EventLogGroupName');
  });
});
