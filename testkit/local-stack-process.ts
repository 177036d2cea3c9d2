import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopChild } from './child-process.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface StackProcess {
  url: string;
  /** The process id (benchmarks read its memory from /proc). */
  pid: number;
  /** Everything the process printed so far, stdout and stderr. */
  output(): string;
  /** Waits until the local queue has nothing pending or in flight. */
  settle(timeoutMs?: number): Promise<void>;
  health(): Promise<{
    queue: { pending: number; inFlight: number; deadLetters: number };
    counters: Record<string, number>;
  }>;
  stop(): Promise<void>;
  /** Sends `signal`; resolves the exit code, or the signal that ended the process. */
  kill(signal: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/**
 * Starts `npm start`'s entry point (`bin/local.ts`) as its own process, exactly as a developer
 * would, on a free port and in memory, and waits for `GET /health`.
 */
export async function startStackProcess(env: Record<string, string>): Promise<StackProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', MEMORY: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const url = await waitForUrl(child, () => output);
  const health = async () =>
    (await (await fetch(`${url}/health`)).json()) as Awaited<ReturnType<StackProcess['health']>>;
  return {
    url,
    pid: child.pid as number,
    output: () => output,
    health,
    settle: async (timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { queue } = await health();
        if (queue.pending === 0 && queue.inFlight === 0) return;
        if (Date.now() > deadline) throw new Error(`queue did not settle: ${JSON.stringify(queue)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: () => stopChild(child),
    kill: (signal) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve(child.exitCode ?? child.signalCode);
          return;
        }
        child.once('exit', (code, name) => resolve(code ?? name));
        child.kill(signal);
      }),
  };
}

async function waitForUrl(child: ChildProcess, output: () => string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const match = /listening on (http:\/\/\S+)/.exec(output());
    if (match?.[1]) return match[1];
    if (child.exitCode !== null) throw new Error(`local stack exited (${child.exitCode}):\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`local stack did not start:\n${output()}`);
}
