/**
 * The plain variant of the stack, synthesized with bundling once per test run by the `deploy` project's
 * globalSetup (testkit/plain-synth.global.ts). Test files run in separate forks, so they share it on
 * disk: `plainSynth()` waits for the synth's status file and answers the cloud assembly's directory.
 * The directory belongs to the run: read it, never write into it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { inject } from 'vitest';

export interface PlainSynth {
  /** The cloud assembly directory (cdk.out). */
  outdir: string;
  /** Written when the synth has ended: `{ ok, error? }`. */
  status: string;
}

const POLL_MS = 200;

/** The outdir of the run's plain synth, once it is complete; throws the synth's output if it failed. */
export async function plainSynth(timeoutMs = 170_000): Promise<string> {
  const { outdir, status } = inject('plainSynth');
  const giveUp = Date.now() + timeoutMs;
  // Polling a file: the synth runs in the main vitest process's child, which can't call into this fork.
  while (!existsSync(status)) {
    if (Date.now() > giveUp) throw new Error(`the plain synth did not end within ${timeoutMs} ms`);
    await delay(POLL_MS);
  }
  const result = JSON.parse(readFileSync(status, 'utf8')) as { ok: boolean; error?: string };
  if (!result.ok) throw new Error(result.error);
  return outdir;
}
