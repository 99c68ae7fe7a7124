// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Shipped and example application code: linted with type information. */
const TYPED = ['packages/*/src/**/*.ts', 'examples/*/src/**/*.ts'];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/.turbo/**', 'coverage/**', 'docs/api/**', 'tools/**'],
  },
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: TYPED,
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Store methods are `async` so that validation errors become rejections, not throws.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests, benchmarks and scripts parse JSON and drive servers; `any` is fine there.
    files: ['**/test/**', '**/*.test.ts', 'bench/**', 'scripts/**', 'test-support/**', 'deploy/test/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The dashboard's client script runs in the browser.
    files: ['examples/gateway/src/dashboard/client.ts', 'examples/gateway/test/dashboard-browser.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The core package is the API layer: it must work with whatever SDK the host application
    // installs (or none), so it may import @opentelemetry/api only.
    files: ['packages/telemetry/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@opentelemetry/sdk-*', '@opentelemetry/sdk-*/**'],
              message:
                '@gatewayz/telemetry depends on @opentelemetry/api only; SDK wiring belongs in @gatewayz/telemetry-node.',
            },
            {
              group: ['@opentelemetry/*', '!@opentelemetry/api'],
              message: '@gatewayz/telemetry depends on @opentelemetry/api only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The example gateway's request path. On Node 20 (V8 11.3) an object literal that begins with
    // the spread of a non-empty object and then gains more properties builds new hidden classes at
    // every evaluation (1-2.6 µs and 150-200 bytes of old space each; docs/benchmarks.md). One
    // that only overrides properties the object already has stays fast, but a rule cannot tell the
    // two apart, so it asks for the fast shape everywhere on this path.
    files: [
      'examples/gateway/src/{request,protocol,routes,middleware,api-keys}/**/*.ts',
      'examples/gateway/src/providers/{upstream,provider-router,provider-chain,provider-rate-limits,try-providers}.ts',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ObjectExpression:has(> SpreadElement:first-child):has(> :nth-child(2))',
          message:
            'An object literal that starts with a spread and adds to it is slow on Node 20: use withFields(base, fields) or Object.assign, or put a fixed property first.',
        },
      ],
    },
  },
  prettier,
);
