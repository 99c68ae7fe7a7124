import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  treeshake: true,
  // Gives the CommonJS build `import.meta.url` (MIGRATIONS_DIR is resolved from it).
  shims: true,
});
