/**
 * Source files stay small enough to read in one sitting: no `.ts` file under `packages/*\/src` or
 * `examples/gateway/src` may exceed 450 lines, the dashboard's browser code included (it is split
 * into self-contained parts the page embeds).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_LINES = 450;

function typeScriptFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : typeScriptFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const roots = [
  ...readdirSync(join(ROOT, 'packages')).map((name) => join(ROOT, 'packages', name, 'src')),
  join(ROOT, 'examples', 'gateway', 'src'),
];

describe(`source files are at most ${MAX_LINES} lines`, () => {
  const files = roots
    .flatMap((root) => typeScriptFiles(root))
    .map((path) => relative(ROOT, path).split('\\').join('/'));

  it('finds the sources it checks', () => {
    expect(files.some((path) => path.startsWith('packages/telemetry/src/'))).toBe(true);
    expect(files.some((path) => path.startsWith('examples/gateway/src/'))).toBe(true);
  });

  it.each(files)('%s', (path) => {
    const lines = readFileSync(join(ROOT, path), 'utf8').split('\n').length - 1;
    expect(lines, `${path} has ${lines} lines; split it by concern (limit ${MAX_LINES})`).toBeLessThanOrEqual(
      MAX_LINES,
    );
  });
});
