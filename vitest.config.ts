import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// In-process tests run the workspace packages from source, so every test file (and the packages it
// imports) shares one copy of each and nothing depends on a stale build. (Errors are recognised
// across copies and builds anyway: see `isInstance()` and packages/telemetry-node/test/dual-build.test.ts.) Child processes started by tests load the built packages, as users do.
const source = (folder: string): string => fileURLToPath(new URL(`./packages/${folder}/src/index.ts`, import.meta.url));
const coreSubpath = fileURLToPath(new URL('./packages/telemetry/src/', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@gatewayz\/telemetry$/, replacement: source('telemetry') },
      // The core's subpath entry points (`@gatewayz/telemetry/model-health`, …): src/<subpath>/index.ts.
      { find: /^@gatewayz\/telemetry\/([a-z-]+)$/, replacement: `${coreSubpath}$1/index.ts` },
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
      'bench/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
