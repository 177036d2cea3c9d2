#!/usr/bin/env node
// `npx pagewire …`: the operator CLI. Registers tsx so the TypeScript under ./cli runs as is.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `pagewire pages list | head -1`: a closed pipe ends the output, not with a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
register();
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
