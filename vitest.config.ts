import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
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
  },
});
