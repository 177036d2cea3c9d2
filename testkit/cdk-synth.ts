/**
 * Synthesizes the CDK app with bundling into `argv[2]` (the outdir), in its own process. The CDK tests
 * run it with an async spawn: esbuild bundling through spawnSync would otherwise block the vitest worker
 * for many seconds, long enough for vitest's worker RPC to time out ("Timeout calling onTaskUpdate").
 * Extra context comes as JSON in `argv[3]`.
 */
import { readFileSync } from 'node:fs';
import { createPagewireApp } from '../lib/pagewire-app.js';

const [outdir, extra = '{}'] = process.argv.slice(2);
if (!outdir) throw new Error('usage: tsx testkit/cdk-synth.ts <outdir> [context JSON]');
const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const { app } = createPagewireApp({ outdir, context: { ...cdkJson.context, ...JSON.parse(extra) } });
app.synth();
