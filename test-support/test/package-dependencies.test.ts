/**
 * What each published package declares it needs at run time is what its built code loads: every
 * entry of `dependencies` is imported or required somewhere in `dist`, and everything `dist` loads
 * (other than Node.js built-ins and the package itself) is a dependency or a peer dependency. An
 * unused dependency costs every application an install; an undeclared one breaks it.
 * Needs the built packages (`npx turbo run build`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function builtFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return builtFiles(path);
    return /\.(c|m)?js$/.test(entry.name) ? [path] : [];
  });
}

/** The package a bare specifier names: `@scope/name` or `name` (subpaths dropped). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * Packages the built code loads: static imports, re-exports, dynamic import(), require(), and calls
 * of a require function made with createRequire (`const load = createRequire(import.meta.url)`).
 */
function loadedPackages(distFolder: string): Set<string> {
  const loaded = new Set<string>();
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"'./][^"']*)["']/gm;
  for (const file of builtFiles(distFolder)) {
    const text = readFileSync(file, 'utf8');
    const loaders = [...text.matchAll(/\b([A-Za-z_$][\w$]*)\s*=\s*(?:[\w$]+\.)?createRequire\s*\(/g)].map(
      (match) => new RegExp(`(?<![\\w$.])${match[1]!.replace(/\$/g, '\\$')}\\s*\\(\\s*["']([^"'./][^"']*)["']`, 'g'),
    );
    for (const match of [pattern, ...loaders].flatMap((each) => [...text.matchAll(each)])) {
      const specifier = match[1]!;
      if (specifier.startsWith('node:') || builtinModules.includes(packageOf(specifier))) continue;
      loaded.add(packageOf(specifier));
    }
  }
  return loaded;
}

const packages = readdirSync(join(ROOT, 'packages')).filter((name) =>
  existsSync(join(ROOT, 'packages', name, 'package.json')),
);

describe.each(packages)('packages/%s: declared run-time dependencies', (folder) => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', folder, 'package.json'), 'utf8')) as {
    name: string;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const dist = join(ROOT, 'packages', folder, 'dist');

  it('are all loaded by the built code, and the built code loads nothing undeclared', () => {
    expect(existsSync(dist), `${dist} is missing: run npx turbo run build`).toBe(true);
    const loaded = loadedPackages(dist);
    loaded.delete(manifest.name);
    const dependencies = Object.keys(manifest.dependencies ?? {});
    const declared = new Set([...dependencies, ...Object.keys(manifest.peerDependencies ?? {})]);
    expect(
      dependencies.filter((name) => !loaded.has(name)),
      'dependencies the built code never loads',
    ).toEqual([]);
    expect(
      [...loaded].filter((name) => !declared.has(name)),
      'packages the built code loads without declaring them',
    ).toEqual([]);
  });
});
