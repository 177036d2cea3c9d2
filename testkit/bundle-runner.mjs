/**
 * Runs one deployed Lambda bundle the way Lambda's Node.js runtime does: imports `<dir>/index.mjs`
 * once (its init), then calls `handler(event, context)` for each request. Requests arrive as JSON
 * lines on stdin, `{"id", "event", "timeoutMs"}`; answers leave as JSON lines on fd 3, `{"id",
 * "result"}` or `{"id", "error": {name, message}}`, so the bundle's own logs (stdout/stderr, as on
 * Lambda) never mix with them. Plain JavaScript: it must run with bare `node`, nothing compiled.
 *
 * Usage: node testkit/bundle-runner.mjs <bundle dir> <function name>
 */
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [dir, functionName = 'function'] = process.argv.slice(2);
const answers = createWriteStream('', { fd: 3 });
const reply = (answer) => answers.write(`${JSON.stringify(answer)}\n`);
const errorOf = (error) => ({
  name: error instanceof Error ? error.name : 'Error',
  message: error instanceof Error ? error.message : String(error),
});

// The init phase: a failure here fails every invocation, as a Lambda init error does.
const loaded = import(pathToFileURL(`${dir}/index.mjs`).href).then((module) => {
  if (typeof module.handler !== 'function') throw new Error('the bundle exports no handler');
  return module.handler;
});
// Reported by the first invocation, not as an unhandled rejection.
loaded.catch(() => {});

let invocation = 0;
function contextFor(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  invocation++;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `00000000-0000-4000-8000-${String(invocation).padStart(12, '0')}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bundle-test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
}

// One invocation at a time, as one Lambda execution environment serves them.
let queue = Promise.resolve();
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const request = JSON.parse(line);
  queue = queue.then(async () => {
    try {
      const handler = await loaded;
      const result = await handler(request.event, contextFor(request.timeoutMs ?? 30_000));
      reply({ id: request.id, result: result ?? null });
    } catch (error) {
      reply({ id: request.id, error: errorOf(error) });
    }
  });
}
await queue;
answers.end();
