/**
 * `node --import tsx testkit/cdk-synth.ts <outdir>`: synthesizes the app with cdk.json's context into
 * <outdir>, bundles included (the plain variant `npm run synth` deploys), cdk-nag on. It runs in its own
 * process (testkit/plain-synth.global.ts spawns it): esbuild bundling through spawnSync would block a
 * vitest worker for many seconds, long enough for vitest's worker RPC to time out.
 */
import { readFileSync } from 'node:fs';
import { createPagewireApp } from '../lib/pagewire-app.js';

const outdir = process.argv[2];
if (!outdir) throw new Error('usage: node --import tsx testkit/cdk-synth.ts <outdir>');
const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const { app } = createPagewireApp({ outdir, context: cdkJson.context });
app.synth();
