import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain-JS bench module without type declarations
import { withAddenda } from '../lib/report-file.mjs';
import { rawFile } from './fixtures/report-results.js';

const RUN = fileURLToPath(new URL('../run.mjs', import.meta.url));
const ADDENDA = '## Addendum: section 8 re-run\n\nWritten by hand.\n\n## Addendum: Node.js 24\n\nAlso by hand.\n';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'gatewayz-bench-run-test-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

/** `node bench/run.mjs …` with its temp files (raw results, default reports) in the test's directory. */
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [RUN, ...args], {
    env: { ...process.env, TMPDIR: directory, ...env },
    encoding: 'utf8',
    // Every case here ends before any section could start; a hang is a failure, not a benchmark.
    timeout: 20_000,
    killSignal: 'SIGKILL',
  });

describe('BENCH_ONLY', () => {
  it('refuses a name no section id starts with, naming the sections, before anything runs', () => {
    for (const only of ['bogus', 'gatway,bogus']) {
      const output = join(directory, 'report.md');
      const started = Date.now();
      const outcome = run([], { BENCH_ONLY: only, BENCH_OUTPUT: output, BENCH_SHORT: '1' });
      expect(outcome.signal).toBeNull();
      expect(outcome.status).not.toBe(0);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(outcome.stderr).toMatch(/BENCH_ONLY: no section id starts with "(bogus|gatway)"/);
      expect(outcome.stderr).toContain('gateway, traces');
      expect(outcome.stderr).not.toContain(': start');
      // Nothing written: no report, no raw results.
      expect(existsSync(output)).toBe(false);
      expect(readdirSync(directory)).toEqual([]);
    }
  });
});

describe('writing the report', () => {
  it('keeps everything from the first "## Addendum" heading on, after the new report', () => {
    const previous = `# Benchmarks\n\nOld figures.\n\n${ADDENDA}`;
    expect(withAddenda('# Benchmarks\n\nNew figures.\n', previous)).toBe(`# Benchmarks\n\nNew figures.\n\n${ADDENDA}`);
    expect(withAddenda('# Benchmarks\n\nNew.\n', '# Benchmarks\n\nOld.\n')).toBe('# Benchmarks\n\nNew.\n');
    expect(withAddenda('# Benchmarks\n\nNew.\n', undefined)).toBe('# Benchmarks\n\nNew.\n');
    // A heading that only contains the word is not an addendum.
    expect(withAddenda('new\n', 'old\n\n### Addendum-like\n\n## Addenda\n')).toBe('new\n');
  });

  it('--render rewrites the file above its addenda and keeps them', () => {
    const rawPath = join(directory, 'raw.json');
    const output = join(directory, 'benchmarks.md');
    writeFileSync(rawPath, JSON.stringify(rawFile({})));
    writeFileSync(output, `# Benchmarks\n\nOld figures.\n\n${ADDENDA}`);
    expect(run(['--render', rawPath, output]).status).toBe(0);
    const report = readFileSync(output, 'utf8');
    expect(report).not.toContain('Old figures.');
    expect(report).toContain('## Targets');
    expect(report.endsWith(`\n\n${ADDENDA}`)).toBe(true);
    expect(report.match(/^## Addendum/gm)).toHaveLength(2);
    expect(report).toContain('kept when the report is re-rendered');
  });

  it('--render shows the partial-run banner for partial raw results only', () => {
    const render = (extra: Record<string, unknown>) => {
      const rawPath = join(directory, 'raw.json');
      const output = join(directory, 'benchmarks.md');
      writeFileSync(rawPath, JSON.stringify(rawFile({}, extra)));
      expect(run(['--render', rawPath, output]).status).toBe(0);
      return readFileSync(output, 'utf8');
    };
    expect(render({ partial: true, only: ['traces'] })).toContain('> **Partial run (`BENCH_ONLY`)**');
    // Raw results written before the flag was recorded render as a whole run, as they did.
    expect(render({})).not.toContain('Partial run');
  });
});
