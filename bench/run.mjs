#!/usr/bin/env node
// `npm run bench`: runs every comparison side by side in one run and writes docs/benchmarks.md.
// `npm run bench:ci` (BENCH_SHORT=1): the same sections with tiny iteration counts, no timing
// assertions, report written to a temp file (docs/benchmarks.md is left alone).
//
// Each section runs in its own child process (own heap, own JIT state, its own V8 flags) and hands
// its result back as JSON; this process renders the report. Options (environment):
//   BENCH_SHORT=1          short mode (CI)
//   BENCH_ONLY=a,b         run only sections whose id starts with one of these (report to a temp file);
//                          a name no section id starts with stops the run before anything starts
//   BENCH_OUTPUT=path      where to write the report (default: docs/benchmarks.md, or a temp file in short/partial mode)
//   BENCH_PIN=1            section 8: gateways on the second CPU, the load on the first (taskset)
// Raw results go to $TMPDIR/gatewayz-benchmarks*.json; `node bench/run.mjs --render <raw.json> [out.md]`
// re-renders a report from them. Writing a report keeps the hand-written addenda of the file it
// replaces (from its first `## Addendum` heading on).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderReport, targetSummary } from './lib/render.mjs';
import { writeReport } from './lib/report-file.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// `node bench/run.mjs --render <raw.json> [out.md]`: re-render a report from saved raw results.
if (process.argv[2] === '--render') {
  const raw = JSON.parse(readFileSync(process.argv[3], 'utf8'));
  const out = process.argv[4] ?? join(ROOT, 'docs', 'benchmarks.md');
  // Raw results written before `partial` was recorded render as a whole run, as they did.
  writeReport(
    out,
    renderReport({ ...raw, short: raw.machine.mode.startsWith('short'), partial: raw.partial ?? false }),
  );
  process.stdout.write(`${targetSummary(raw)}\n\nReport: ${out}\n`);
  process.exit(0);
}

const SHORT = process.env.BENCH_SHORT === '1';
const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((part) => part.trim())
  .filter(Boolean);
const REQUIRED_BUILDS = [
  'packages/telemetry/dist/index.js',
  'packages/telemetry-node/dist/index.js',
  'examples/gateway/dist/main.js',
];

const GC = ['--expose-gc'];
// Young generation big enough that no scavenge lands inside an allocation-measurement window.
const ALLOC = ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128'];

const SECTIONS = [
  { id: 'record-counter', script: 'record-path.mjs', args: ['counter'], flags: GC, timeoutS: 120 },
  { id: 'record-gauge', script: 'record-path.mjs', args: ['gauge'], flags: GC, timeoutS: 120 },
  { id: 'record-multiLabel', script: 'record-path.mjs', args: ['multiLabel'], flags: GC, timeoutS: 120 },
  { id: 'record-histogram', script: 'record-path.mjs', args: ['histogram'], flags: GC, timeoutS: 120 },
  { id: 'record-exponential', script: 'record-path.mjs', args: ['exponential'], flags: GC, timeoutS: 120 },
  { id: 'alloc', script: 'alloc.mjs', flags: ALLOC, timeoutS: 180 },
  { id: 'probes', script: 'probes.mjs', flags: ALLOC, timeoutS: 120 },
  { id: 'scrape-1000', script: 'scrape.mjs', args: ['1000'], flags: GC, timeoutS: 180 },
  { id: 'scrape-20000', script: 'scrape.mjs', args: ['20000'], flags: GC, timeoutS: 300 },
  { id: 'scrape-gzip', script: 'scrape-gzip.mjs', args: ['3000'], flags: GC, timeoutS: 180 },
  ...['helpers-counter', 'otel-counter', 'prom-counter', 'helpers-histogram', 'otel-histogram', 'prom-histogram'].map(
    (contender) => ({
      id: `memory-${contender}`,
      script: 'memory.mjs',
      args: [contender],
      flags: GC,
      timeoutS: 120,
    }),
  ),
  { id: 'memory-flood', script: 'memory.mjs', args: ['flood'], flags: GC, timeoutS: 180 },
  { id: 'model-health', script: 'model-health.mjs', flags: GC, timeoutS: 180 },
  { id: 'model-health-db', script: 'model-health-db.mjs', flags: [], timeoutS: 400 },
  { id: 'spans', script: 'spans.mjs', flags: GC, timeoutS: 180 },
  { id: 'otlp-push-1000', script: 'otlp-push.mjs', args: ['1000'], flags: GC, timeoutS: 180 },
  { id: 'otlp-push-20000', script: 'otlp-push.mjs', args: ['20000'], flags: GC, timeoutS: 240 },
  // The section process is the cluster primary; its workers are forked from cluster-worker.mjs.
  { id: 'cluster-scrape-2', script: 'cluster-primary.mjs', args: ['2'], flags: [], timeoutS: 180 },
  { id: 'cluster-scrape-4', script: 'cluster-primary.mjs', args: ['4'], flags: [], timeoutS: 240 },
  { id: 'gateway', script: 'gateway.mjs', flags: [], timeoutS: 1200 },
  // Seven gateways; the full run takes about 13 minutes (more with BENCH_COMPETITORS_DIR), the
  // short one (CI) about 70 s.
  { id: 'traces', script: 'traces.mjs', flags: [], timeoutS: 1500, shortTimeoutS: 150 },
];

// A misspelled name (`gatway`) would select nothing, run nothing and exit 0.
const unknown = ONLY.filter((prefix) => !SECTIONS.some((section) => section.id.startsWith(prefix)));
if (unknown.length > 0) {
  process.stderr.write(
    `[bench] BENCH_ONLY: no section id starts with ${unknown.map((name) => `"${name}"`).join(', ')}; the sections are ${SECTIONS.map((section) => section.id).join(', ')}\n`,
  );
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Other engineers rebuild the packages while we run: wait (up to 2 min) for the dist files to be back. */
async function waitForBuilds() {
  for (let attempt = 0; attempt < 60; attempt++) {
    const missing = REQUIRED_BUILDS.filter((file) => !existsSync(join(ROOT, file)));
    if (missing.length === 0) return;
    if (attempt === 0) process.stderr.write(`[bench] waiting for ${missing.join(', ')} (a build in progress?)\n`);
    await sleep(2000);
  }
  throw new Error(
    `missing ${REQUIRED_BUILDS.filter((file) => !existsSync(join(ROOT, file))).join(', ')}: run \`npx turbo run build\` first`,
  );
}

function runSection(section, resultFile) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...section.flags, join(ROOT, 'bench', 'sections', section.script), ...(section.args ?? [])],
      {
        cwd: ROOT,
        env: { ...process.env, BENCH_RESULT_FILE: resultFile, ...(SHORT ? { BENCH_SHORT: '1' } : {}) },
        stdio: ['ignore', 'inherit', 'pipe'],
      },
    );
    let tail = '';
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      tail = (tail + chunk).slice(-4000);
    });
    const timeoutS = SHORT ? Math.min(section.timeoutS, section.shortTimeoutS ?? 60) : section.timeoutS;
    const timer = setTimeout(() => {
      tail += `\n[bench] ${section.id} timed out after ${timeoutS} s`;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, tail });
    });
  });
}

const started = Date.now();
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGb: os.totalmem() / 1024 ** 3,
  node: process.version,
  v8: process.versions.v8,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  date: new Date().toISOString(),
  loadStart: os.loadavg(),
  mode: SHORT ? 'short (BENCH_SHORT=1)' : 'full',
};
const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
const dirty = spawnSync('git', ['status', '--porcelain', '--', 'packages', 'examples'], {
  cwd: ROOT,
  encoding: 'utf8',
});
machine.commit = git.status === 0 ? git.stdout.trim() : 'unknown';
try {
  // The benchmarks measure dist/, which may lag the sources while others edit them.
  machine.distBuilt = statSync(join(ROOT, REQUIRED_BUILDS[0])).mtime.toISOString();
} catch {
  machine.distBuilt = 'missing';
}
machine.dirtyFiles = dirty.status === 0 ? dirty.stdout.split('\n').filter(Boolean).length : 0;

const selected = SECTIONS.filter(
  (section) => ONLY.length === 0 || ONLY.some((prefix) => section.id.startsWith(prefix)),
);
const results = {};
const failures = {};
const temp = mkdtempSync(join(os.tmpdir(), 'gatewayz-bench-'));
for (const section of selected) {
  const resultFile = join(temp, `${section.id}.json`);
  let outcome;
  for (let attempt = 1; attempt <= 2; attempt++) {
    await waitForBuilds();
    const sectionStart = Date.now();
    process.stderr.write(`[bench] ${section.id}: start\n`);
    outcome = await runSection(section, resultFile);
    process.stderr.write(
      `[bench] ${section.id}: ${outcome.code === 0 ? 'done' : `failed (${outcome.signal ?? outcome.code})`} in ${((Date.now() - sectionStart) / 1000).toFixed(1)} s\n`,
    );
    if (outcome.code === 0) break;
    // A concurrent rebuild can delete dist/ under a running section: retry once.
    if (!/ERR_MODULE_NOT_FOUND|Cannot find module/.test(outcome.tail)) break;
  }
  if (outcome.code === 0 && existsSync(resultFile)) {
    results[section.id] = JSON.parse(readFileSync(resultFile, 'utf8'));
  } else {
    failures[section.id] = outcome.tail.split('\n').filter(Boolean).slice(-8).join('\n');
  }
}
rmSync(temp, { recursive: true, force: true });
machine.loadEnd = os.loadavg();
machine.durationS = (Date.now() - started) / 1000;

const report = renderReport({ machine, results, failures, short: SHORT, partial: ONLY.length > 0 });
const defaultOutput =
  SHORT || ONLY.length > 0
    ? join(os.tmpdir(), `gatewayz-benchmarks${SHORT ? '-short' : '-partial'}.md`)
    : join(ROOT, 'docs', 'benchmarks.md');
const output = process.env.BENCH_OUTPUT || defaultOutput;
writeReport(output, report);
// Raw results always go to the temp directory (the repository only keeps the rendered report).
const rawOutput = join(os.tmpdir(), `gatewayz-benchmarks${SHORT ? '-short' : ONLY.length > 0 ? '-partial' : ''}.json`);
// `partial` and `only`: so that `--render` of these results shows the partial-run banner again.
writeFileSync(rawOutput, JSON.stringify({ machine, results, failures, partial: ONLY.length > 0, only: ONLY }, null, 2));

process.stdout.write(`\n${targetSummary({ results, failures })}\n`);
process.stdout.write(`\nReport: ${output} (raw results: ${rawOutput}) in ${machine.durationS.toFixed(0)} s\n`);
if (Object.keys(failures).length > 0) {
  process.stderr.write(`[bench] failed sections: ${Object.keys(failures).join(', ')}\n`);
  process.exitCode = 1;
}
