import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stopChild } from './child-process.js';

export interface TestRedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** The `redis-server` binary: `REDIS_SERVER_BIN`, else the first on PATH (or in the usual places). */
export function findRedisServer(): string | undefined {
  const explicit = process.env.REDIS_SERVER_BIN;
  if (explicit) return executable(explicit) ? explicit : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  return dirs
    .filter(Boolean)
    .map((dir) => join(dir, 'redis-server'))
    .find(executable);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the Redis suites can run. A missing binary skips them with a message on a developer's machine,
 * but in CI (`CI` set; `.ci/run` installs redis-server) it is an error, so the suite can never pass by
 * silently skipping.
 */
export function redisServerAvailableOrSkip(suite: string): boolean {
  if (findRedisServer()) return true;
  const message = `${suite}: redis-server not found (install it, or set REDIS_SERVER_BIN)`;
  if (process.env.CI) throw new Error(`${message}; it is required in CI (.ci/run installs it)`);
  console.warn(`SKIPPED ${message}`);
  return false;
}

/**
 * Starts a real, throwaway `redis-server` on a free loopback port (no persistence) and waits until it
 * answers PING (`-NOAUTH` counts, for `--requirepass` in `extraArgs`). Callers stop it (afterAll).
 */
export async function startRedisServer(extraArgs: string[] = []): Promise<TestRedisServer> {
  const binary = findRedisServer();
  if (!binary) throw new Error('redis-server not found');
  const dir = await mkdtemp(join(tmpdir(), 'pagewire-redis-'));
  let lastError: unknown;
  // The free port is only free until someone else takes it: try again on a new one if so.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    try {
      await waitForPong(child, port, () => output);
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        output: () => output,
        stop: async () => {
          process.off('exit', killOnExit);
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastError = err;
      process.off('exit', killOnExit);
      await stopChild(child);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

/** A loopback port nothing listens on (at the time of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPong(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server did not answer PING on port ${port}:\n${output()}`);
}

/** One raw `PING` over TCP; true when the server answers (`+PONG`, or `-NOAUTH` behind a password). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d;
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}
