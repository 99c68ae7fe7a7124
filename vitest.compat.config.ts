import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import rootConfig from './vitest.config.js';

// Compatibility run: the core package's unit tests, with `@opentelemetry/api` served by API 1.4.1 (the
// `otel-api-1-4` alias package) to the core's source and to the tests (which play the host app), as
// when the host app brings an older 1.x. The SDK packages the tests use keep the current API
// (`@opentelemetry/sdk-metrics` 2.x requires api >=1.9 <1.10); the core and the tests share the 1.4
// copy and its global registry, as one host app would.
//
//   npx vitest run --config vitest.compat.config.ts
//
// COMPAT_SCOPE=src redirects only the core's source (the tests then register providers through the
// current API): two copies of the API in one process.

const require = createRequire(import.meta.url);
const apiPackage = dirname(require.resolve('otel-api-1-4/package.json'));
const apiVersion = (require('otel-api-1-4/package.json') as { version: string }).version;
// The package has no `exports` map; its ESM build is `module`. Vitest inlines files under `/esm/`, so
// the build and its relative imports run as ESM through Vite.
const apiEntry = join(apiPackage, 'build', 'esm', 'index.js');
const posix = (path: string): string => path.split(sep).join('/');
const core = posix(fileURLToPath(new URL('./packages/telemetry/', import.meta.url)));
const scopes = process.env['COMPAT_SCOPE'] === 'src' ? ['src/'] : ['src/', 'test/'];

const redirected = new Set<string>();

function coreUsesOldApi(): Plugin {
  return {
    name: 'gatewayz:core-uses-opentelemetry-api-1.4',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source !== '@opentelemetry/api' || importer === undefined) return null;
      const file = posix(importer.split('?')[0]!);
      if (!scopes.some((scope) => file.startsWith(core + scope))) return null;
      redirected.add(file.slice(core.length));
      return apiEntry;
    },
  };
}

// Not mergeConfig: it would append to the root config's `include` and `reporters` arrays.
export default defineConfig({
  ...rootConfig,
  plugins: [...(rootConfig.plugins ?? []), coreUsesOldApi()],
  test: {
    ...rootConfig.test,
    name: `core with @opentelemetry/api ${apiVersion}`,
    include: ['packages/telemetry/test/**/*.test.ts'],
    reporters: [
      'default',
      {
        // Guard against a run that silently used the current API (e.g. a renamed folder).
        onFinished() {
          const source = [...redirected].filter((file) => file.startsWith('src/')).length;
          if (source === 0) {
            console.error(
              `compat: no core module imported @opentelemetry/api through ${apiVersion}; the redirect did not apply`,
            );
            process.exitCode = 1;
          } else {
            console.log(
              `compat: ${source} core modules and ${redirected.size - source} test files used @opentelemetry/api ${apiVersion} (${apiEntry})`,
            );
          }
        },
      },
    ],
  },
});
