/**
 * The README presents as public only what the package entry exports. It once said "the exporter
 * classes this package exports" of three classes `src/index.ts` never exported; a user following
 * it got an import error. Every class, function or constant of `src/` the README names in
 * backticks is checked against the entry, except the internals it describes as such.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as entry from '../../src/index.js';

const SOURCE = fileURLToPath(new URL('../../src/', import.meta.url));
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** What the README names as how the default trace pipeline works, not as something to import. */
const DESCRIBED_AS_INTERNAL = new Set(['EncodingBatchSpanProcessor']);

function typeScriptFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((item) => {
    const path = join(folder, item.name);
    if (item.isDirectory()) return typeScriptFiles(path);
    return item.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every value `src/` declares with `export class`, `export function` or `export const`. */
const definedInSource = new Set(
  typeScriptFiles(SOURCE).flatMap((path) =>
    [...readFileSync(path, 'utf8').matchAll(/export (?:abstract )?(?:class|function|const) ([A-Za-z_$][\w$]*)/g)].map(
      (match) => match[1] as string,
    ),
  ),
);

describe('README', () => {
  it('names no class or function of the package that its entry does not export', () => {
    const named = [
      ...new Set([...README.matchAll(/`([A-Za-z_$][\w$]*)(?:\(\))?`/g)].map((match) => match[1] as string)),
    ];
    const ofThePackage = named.filter((name) => definedInSource.has(name));
    // The README does name the package's API (startTelemetry, toNodeListener, ...): the check bites.
    expect(ofThePackage.length).toBeGreaterThan(5);
    const notExported = ofThePackage.filter((name) => !(name in entry) && !DESCRIBED_AS_INTERNAL.has(name));
    expect(notExported).toEqual([]);
  });
});
