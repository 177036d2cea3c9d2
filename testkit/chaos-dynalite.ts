/**
 * dynalite in a process of its own, so the DynamoDB API's own CPU does not share a core with the code
 * under test (scale runs and benchmarks). Same shape as `startTestDynamo`. The child exits when its
 * stdin closes, so it never outlives the process that started it.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTableIfMissing, dynamoClients } from '#local/dynalite';
import type { TestDynamo } from './dynamo.js';

const root = fileURLToPath(new URL('..', import.meta.url));

const SERVER = `
import dynalite from 'dynalite';
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

export async function startDynaliteProcess(): Promise<TestDynamo> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dynalite did not start: ${output}`)), 15_000);
    child.stdout?.on('data', (d) => {
      output += d;
      const match = /port (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`dynalite exited (${code}): ${output}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const { client, doc } = dynamoClients(endpoint);
  return {
    endpoint,
    client,
    doc,
    async createTable() {
      const tableName = `chaos-${randomUUID()}`;
      await createTableIfMissing(client, tableName);
      return tableName;
    },
    async stop() {
      client.destroy();
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin?.end();
      });
    },
  };
}
