import { defineConfig } from 'vitest/config';
import root from '../vitest.config.js';

// The database benchmark runs under vitest so it can reuse the TypeScript test harness
// (test-support/postgres.ts) and the source aliases of the root configuration.
export default defineConfig({
  resolve: root.resolve,
  test: {
    include: ['bench/db/**/*.bench.test.ts', 'bench/gateway/**/*.bench.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
