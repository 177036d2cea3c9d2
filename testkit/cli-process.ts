import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const made: string[] = [];
/** The `DATA_DIR` of runs that name none. */
let isolated: string | undefined;

/** An empty `DATA_DIR`, so a developer's own `.data/sandbox.json` never leaks into a test. */
export function emptyDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pagewire-cli-'));
  made.push(dir);
  return dir;
}

/** Removes every directory `emptyDataDir` made (call from `afterAll`). */
export function removeDataDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  isolated = undefined;
}

/**
 * Runs `bin/pagewire.mjs` (what `npx pagewire` runs) as its own process with only the environment
 * given (plus PATH and HOME), as an operator would from the repository.
 */
export function runCli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  isolated ??= emptyDataDir();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/pagewire.mjs', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: isolated, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}
