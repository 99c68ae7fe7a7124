import { defineConfig } from 'tsup';

export default defineConfig({
  // One entry per public entry point (see `exports` in package.json): the root and the subpaths.
  entry: {
    index: 'src/index.ts',
    'metrics/index': 'src/metrics/index.ts',
    'model-health/index': 'src/model-health/index.ts',
    'provider-health/index': 'src/provider-health/index.ts',
    'genai/index': 'src/genai/index.ts',
    'scheduling/index': 'src/scheduling/index.ts',
    'rate-limits/index': 'src/rate-limits/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  treeshake: true,
  // Shared code goes to common chunks in both formats, so the entry points of one build share one
  // module instance (one shared `GatewayTelemetry`, one set of classes) instead of each bundling a copy.
  splitting: true,
});
