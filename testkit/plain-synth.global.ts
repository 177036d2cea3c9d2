/**
 * vitest globalSetup of the `deploy` project (tests/cdk, tests/bundle/deployed-bundles): synthesizes the
 * plain variant WITH bundling once per run, for every test file that reads it (testkit/plain-synth.ts).
 * The synth starts in a child process and is not awaited here, so test files start at once and run
 * their own work (the CDK test's in-process synths) while esbuild bundles. When it ends, a status file
 * says whether it worked; the test side waits for that file. The `app` project never pays for it.
 *
 * PAGEWIRE_BUNDLE_OUTDIR names an existing synth output to use instead (kept after the run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { stopChild } from './child-process.js';
import type { PlainSynth } from './plain-synth.js';

declare module 'vitest' {
  export interface ProvidedContext {
    plainSynth: PlainSynth;
  }
}

const SCRIPT = new URL('./cdk-synth.ts', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;

export default function setup(project: TestProject) {
  const given = process.env.PAGEWIRE_BUNDLE_OUTDIR;
  const work = mkdtempSync(join(tmpdir(), 'pagewire-plain-synth-'));
  const status = join(work, 'status.json');
  if (given) {
    writeFileSync(status, JSON.stringify({ ok: true }));
    project.provide('plainSynth', { outdir: given, status });
    return () => rmSync(work, { recursive: true, force: true });
  }
  const outdir = join(work, 'cdk.out');
  const child = startSynth(outdir, status);
  project.provide('plainSynth', { outdir, status });
  return async () => {
    // A filtered run (one test name, say) may end before the synth: stop it, then clean up.
    await stopChild(child);
    rmSync(work, { recursive: true, force: true });
  };
}

function startSynth(outdir: string, status: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, outdir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr])
    stream?.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.once('exit', (code, signal) => {
    const ok = code === 0;
    const error = ok ? undefined : `synth failed (exit ${code ?? signal}):\n${output.slice(-4000)}`;
    writeFileSync(status, JSON.stringify({ ok, error }));
  });
  return child;
}
