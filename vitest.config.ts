import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// In-process tests run the workspace packages from source, so every test file (and the packages it
// imports) shares one copy of each: errors match with instanceof and nothing depends on a stale
// build. Child processes started by tests load the built packages, as users do.
const source = (folder: string): string => fileURLToPath(new URL(`./packages/${folder}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@gatewayz\/telemetry$/, replacement: source('telemetry') },
      { find: /^@gatewayz\/telemetry-node$/, replacement: source('telemetry-node') },
      { find: /^@gatewayz\/telemetry-supabase$/, replacement: source('telemetry-supabase') },
    ],
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'test-support/test/**/*.test.ts',
      'deploy/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
