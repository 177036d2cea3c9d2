import { defineConfig } from 'vitest/config';

/** The tests that read the synthesized stack; they share one synth per run (testkit/plain-synth.ts). */
const DEPLOY = ['tests/cdk/**/*.test.ts', 'tests/bundle/deployed-bundles.test.ts'];

export default defineConfig({
  test: {
    setupFiles: ['tests/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time: most of the suite waits on child processes (dynalite, redis-server, the
    // local stack, bundles), so two workers on two cores take ~100 s where vitest's default of one
    // (cores - 1) takes ~170 s. The synthesis with bundling runs in child processes, never blocking a
    // worker (a blocked worker is what makes vitest's worker RPC time out).
    maxWorkers: 2,
    minWorkers: 1,
    env: {
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // `deploy` synthesizes the plain variant once in its globalSetup; `app` never pays for it
    // (vitest runs a project's globalSetup only when some of its files run).
    projects: [
      { extends: true, test: { name: 'app', include: ['tests/**/*.test.ts'], exclude: DEPLOY } },
      {
        extends: true,
        test: { name: 'deploy', include: DEPLOY, globalSetup: ['testkit/plain-synth.global.ts'] },
      },
    ],
  },
});
