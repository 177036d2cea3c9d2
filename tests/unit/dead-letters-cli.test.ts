/**
 * `pagewire dead-letters list|redrive` (issue 8) as an operator reads them: against AWS (SigV4, an
 * approximate count, the last redrive) and the local stack (a table of the letters), with the answer
 * checked against the contract and the query string signed.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQS_CANNOT_LIST } from '#adapters/aws/sqs-dead-letters';
import { resignedAuthorization } from '#testkit/sigv4';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';
import { main } from '../../bin/cli/main.js';
import { Output } from '../../bin/cli/output.js';

const creds = { accessKeyId: 'AKIDPAGEWIREDLQ00001', secretAccessKey: randomBytes(20).toString('base64') };
const awsEnv = {
  AWS_ACCESS_KEY_ID: creds.accessKeyId,
  AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
  AWS_REGION: 'eu-west-1',
  DATA_DIR: '/nonexistent-pagewire',
};

let server: TinyServer;
let answer: { status: number; body: unknown };
const received: Array<{ req: IncomingMessage; body: string }> = [];

const saved = { ...process.env };

beforeAll(async () => {
  // The credential chain reads the process environment, whatever `main` is given.
  process.env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  server = await tinyServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      received.push({ req, body });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
});

afterAll(async () => {
  process.env = saved;
  await server.close();
});

async function run(args: string[], env: Record<string, string> = awsEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const output = new Output({ write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) });
  const code = await main([...args, '--url', server.url], { output, env });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Signs the received request again; equal only when method, path, query and headers arrived as signed. */
const resign = (req: IncomingMessage) =>
  resignedAuthorization(
    { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers },
    { credentials: creds, region: 'eu-west-1' },
  );

describe('pagewire dead-letters', () => {
  it('list --aws: signs the query, prints the approximate count, why there is no list, and the last redrive', async () => {
    answer = {
      status: 200,
      body: {
        queues: [
          {
            queue: 'events',
            count: 3,
            approximate: true,
            note: SQS_CANNOT_LIST,
            lastRedrive: { status: 'COMPLETED', moved: 7, toMove: 7, startedAt: '2026-12-01T10:00:00.000Z' },
          },
        ],
      },
    };
    const res = await run(['dead-letters', 'list', '--queue', 'events', '--aws']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split('\n')).toEqual([
      'events: about 3 dead letters',
      `  ${SQS_CANNOT_LIST}`,
      '  last redrive: COMPLETED, 7 of 7 moved, started 2026-12-01T10:00:00.000Z',
      '',
    ]);
    const { req } = received.at(-1) as { req: IncomingMessage };
    expect(req.url).toBe('/admin/dead-letters?queue=events');
    expect(await resign(req)).toBe(req.headers.authorization);
  });

  it('list locally: a table of the letters, oldest first', async () => {
    const letter = {
      messageId: 'id-1',
      groupId: '340000000000001:7012345678901234',
      dedupId: 'm_1',
      receiveCount: 5,
      sentAt: '2026-12-01T09:59:00.000Z',
      deadAt: '2026-12-01T10:00:00.000Z',
      bytes: 321,
      body: '{}',
    };
    answer = {
      status: 200,
      body: {
        queues: [
          { queue: 'events', count: 2, approximate: false, messages: [letter] },
          { queue: 'page-commands', count: 0, approximate: false, messages: [] },
        ],
      },
    };
    const res = await run(['dead-letters', 'list'], { ...awsEnv, PAGEWIRE_ADMIN_TOKEN: 'local-token' });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split('\n')).toEqual([
      'events: 2 dead letters',
      'deadAt                    group                             dedupId  receives  bytes  messageId',
      '2026-12-01T10:00:00.000Z  340000000000001:7012345678901234  m_1      5         321    id-1',
      '(1 more not shown)',
      'page-commands: 0 dead letters',
      '',
    ]);
    expect((received.at(-1) as { req: IncomingMessage }).req.headers.authorization).toBe(
      'Bearer local-token',
    );
  });

  it('redrive: says what happened per queue; an answer of another shape is an error', async () => {
    answer = {
      status: 200,
      body: {
        queues: [
          { queue: 'events', status: 'started', count: 4, task: { status: 'RUNNING', taskHandle: 'h' } },
          { queue: 'page-commands', status: 'running', count: 2 },
        ],
      },
    };
    const res = await run(['dead-letters', 'redrive', '--aws']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(
      'events: redrive started for about 4 dead letters; follow it with `pagewire dead-letters list`\n' +
        'page-commands: a redrive is already running (about 2 left to move)\n',
    );
    const { req, body } = received.at(-1) as { req: IncomingMessage; body: string };
    expect([req.method, req.url, body]).toEqual(['POST', '/admin/dead-letters/redrive', '{}']);

    answer = { status: 200, body: { total: 0 } };
    const odd = await run(['dead-letters', 'redrive', '--queue', 'page-commands', '--aws']);
    expect(odd.code).toBe(1);
    expect(odd.stderr).toContain('error: bad_answer');
    expect(JSON.parse((received.at(-1) as { body: string }).body)).toEqual({ queue: 'page-commands' });

    answer = { status: 502, body: { error: { code: 'queue_error', message: 'SQS: AccessDenied: no' } } };
    const denied = await run(['dead-letters', 'list', '--aws']);
    expect(denied).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: queue_error: SQS: AccessDenied: no\n',
    });
  });

  it('refuses an unknown queue before sending anything', async () => {
    const before = received.length;
    const res = await run(['dead-letters', 'list', '--queue', 'dlq', '--aws']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--queue must be events or page-commands');
    expect(received.length).toBe(before);
  });
});
