import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Starts a fake AWS or Graph server (`script`, relative to the repository) in a process of its own, so
 * its work never shares the benchmark's CPU time; resolves with the URL it prints (`url …`). `stop`
 * closes its stdin, which ends it.
 */
export async function startFakeProcess(
  script: string,
  env: Record<string, string>,
  what: string,
): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${output}`)), 30_000);
    child.stdout?.on('data', (d) => {
      output += d;
      const m = /url (\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${output}`)));
  });
  return { url, stop: () => child.stdin?.end() };
}
