import { dirname } from 'node:path';

/**
 * `npm start`: the local stack. Prints where it listens, the mode and, in sandbox mode, the secrets
 * it generated (they are only for this laptop). Ready when `GET /health` answers 200.
 */
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_SERVICE_NAME ??= 'pagewire-local';
process.env.AWS_REGION ??= 'us-east-1';
// The SDK warns that its 2027 releases need Node 22; Lambda runs 22+, this laptop may run 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { startLocalStack } = await import('#local/stack');
const stack = await startLocalStack(process.env).catch((err: Error) => {
  process.stderr.write(`Pagewire could not start: ${err.message}\n`);
  process.exit(1);
});

const lines = [
  `Pagewire local stack listening on ${stack.url} (${stack.mode} mode)`,
  `  webhook:  ${stack.url}/webhooks/facebook`,
  `  admin:    ${stack.url}/admin/pages   (Authorization: Bearer <ADMIN_TOKEN>)`,
  `  health:   ${stack.url}/health`,
  `  storage:  ${stack.queueDir ? `${dirname(stack.queueDir)}/` : 'in memory'}`,
  stack.queueDir
    ? `  queues:   ${stack.queueDir}/ (on disk: what was answered 200 survives a stop or a crash)`
    : '  queues:   in memory (MEMORY=1): whatever is still queued is lost when the stack stops',
  stack.forwardTo
    ? `  forward:  every event is POSTed to ${stack.forwardTo}${process.env.FORWARD_API_KEY ? ' with x-pagewire-key (FORWARD_API_KEY)' : ' (no FORWARD_API_KEY: no x-pagewire-key header)'}`
    : '  forward:  off (set FORWARD_URL to POST every event to a consumer)',
  '  events:   npx pagewire events tail [--page ID] [--json]',
];
if (stack.forwardsWaiting) {
  lines.push(
    `  WARNING: ${stack.forwardsWaiting} event(s) of a past run wait to be forwarded: set FORWARD_URL to send them`,
  );
}
const { restored } = stack;
if (restored?.forwards?.pending) {
  lines.push(`  resumed:  ${restored.forwards.pending} event(s) not yet forwarded in the last run`);
}
if (restored) {
  const { events, pageCommands } = restored;
  const resumed = events.pending + pageCommands.pending;
  if (resumed > 0) {
    const again = events.redelivered + pageCommands.redelivered;
    lines.push(
      `  resumed:  ${events.pending} queued event(s) and ${pageCommands.pending} page command(s) from the last run` +
        (again ? ` (${again} were in flight and are delivered again)` : ''),
    );
  }
  const dead = events.deadLetters + pageCommands.deadLetters;
  if (dead > 0) {
    lines.push(
      `  dead letters: ${events.deadLetters} event(s), ${pageCommands.deadLetters} page command(s): npx pagewire dead-letters list`,
    );
  }
}
if (restored?.media?.pending) {
  lines.push(`  resumed:  ${restored.media.pending} attachment copy(ies) from the last run (SPEC §10)`);
}
if (stack.sandbox) {
  lines.push(
    '',
    'Sandbox mode: no FB_APP_SECRET set, so a built-in Graph API sandbox plays Facebook on loopback.',
    `  Graph API sandbox: ${stack.env.GRAPH_API_URL}`,
    `  demo pages:        ${stack.sandbox.pages.map((p) => `${p.name} (${p.id})`).join(', ')}`,
    `  FB_APP_SECRET=${stack.env.FB_APP_SECRET}`,
    `  FB_VERIFY_TOKEN=${stack.env.FB_VERIFY_TOKEN}`,
    `  ADMIN_TOKEN=${stack.adminToken}`,
    `  demo user token:   ${stack.sandbox.userToken}`,
    '',
    'Try it: npm run send-test-webhook',
    '        npx pagewire pages connect --login   (Facebook Login, played by the sandbox)',
    '        npx pagewire doctor',
  );
} else if (!process.env.FB_APP_ID) {
  lines.push(
    '  WARNING: FB_APP_SECRET is set but FB_APP_ID is not: every webhook is refused until both are set.',
  );
}
if (!stack.sandbox && !process.env.ADMIN_TOKEN) {
  lines.push(`  ADMIN_TOKEN=${stack.adminToken}   (generated; set ADMIN_TOKEN to choose one)`);
}
process.stderr.write(`${lines.join('\n')}\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    stack.stop().then(
      ({ events, pageCommands, forwards, durable, media = 0 }) => {
        const left = `${events} event(s) and ${pageCommands} page command(s)`;
        if (media > 0) {
          process.stderr.write(
            durable
              ? `${media} attachment copy(ies) not done stay queued and resume on the next start.\n`
              : `${media} attachment copy(ies) not done are lost (MEMORY=1).\n`,
          );
        }
        if (forwards > 0) {
          process.stderr.write(
            durable
              ? `${forwards} public event(s) not yet forwarded stay queued and are sent on the next start.\n`
              : `${forwards} public event(s) not yet forwarded are lost (MEMORY=1).\n`,
          );
        }
        if (durable && events + pageCommands === 0) {
          process.stderr.write('Stopped. Nothing was left queued.\n');
        } else if (durable) {
          process.stderr.write(
            `Stopped. ${left} stay queued in ${stack.queueDir}/ and resume on the next start.\n`,
          );
        } else if (events + pageCommands > 0) {
          process.stderr.write(`Stopped. ${left} were still queued in memory and are lost (MEMORY=1).\n`);
        }
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`Pagewire did not stop cleanly: ${err.message}\n`);
        process.exit(1);
      },
    );
  });
}
