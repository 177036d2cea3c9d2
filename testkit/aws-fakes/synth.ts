/**
 * `node --import tsx testkit/aws-fakes/synth.ts <outdir>`: synthesizes the stack with cdk.json's
 * context into <outdir>, bundles included (the plain variant `npm run synth` deploys), cdk-nag on.
 */
import { readFileSync } from 'node:fs';
import { createPagewireApp } from '../../lib/pagewire-app.js';

const outdir = process.argv[2];
if (!outdir) throw new Error('usage: synth.ts <outdir>');
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const { app } = createPagewireApp({ outdir, context: cdkJson.context });
app.synth();
