/**
 * `npm start` as a newcomer meets it: sandbox mode, data under DATA_DIR, and `npm run send-test-webhook`
 * showing a message stored for each of two demo pages and for the café's linked Instagram account.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StackProcess, startStackProcess } from '#testkit/local-stack-process';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dataDir: string;
let stack: StackProcess;

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pagewire-local-'));
  stack = await startStackProcess({ MEMORY: '0', DATA_DIR: dataDir });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the local stack in sandbox mode', () => {
  it('says it is in sandbox mode and prints the generated secrets', () => {
    expect(stack.output()).toContain('(sandbox mode)');
    expect(stack.output()).toContain(`queues:   ${join(dataDir, 'queues')}/ (on disk:`);
    expect(stack.output()).toMatch(/FB_APP_SECRET=[0-9a-f]{32}/);
  });

  it('npm run send-test-webhook: two demo pages and the linked Instagram account each store a message', async () => {
    const { code, output } = await run(['bin/send-test-webhook.ts'], { DATA_DIR: dataDir });
    expect(code, output).toBe(0);
    expect(output.match(/200 EVENT_RECEIVED/g)).toHaveLength(3);
    expect(output.match(/stored: "Hello Pagewire Demo/g)).toHaveLength(2);
    expect(output).toContain(
      'stored: "Hello @pagewire.demo.cafe, this is an Instagram test webhook" (in, channel instagram)',
    );
    expect(output).toContain('channel instagram, linked page 108374925610437');
    expect(output).toContain('Pagewire Demo Café');
    expect(output).toContain('Pagewire Demo Books');
  });

  it('a second stack on the same DATA_DIR refuses to start, saying why', async () => {
    const { code, output } = await run(['bin/local.ts'], { DATA_DIR: dataDir, PORT: '0' });
    expect(code).toBe(1);
    expect(output).toContain(`the data folder ${join(dataDir, 'dynamodb')} is in use by another process`);
  });
});
