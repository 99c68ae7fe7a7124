// Shared helpers for the benchmark sections: run mode, timing statistics, tinybench rounds and
// result hand-off to bench/run.mjs. Everything here is plain Node 20 ESM.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Bench } from 'tinybench';
import { MetricReader } from '@opentelemetry/sdk-metrics';

/** `BENCH_SHORT=1`: tiny iteration counts, used by `npm run bench:ci`. */
export const SHORT = process.env.BENCH_SHORT === '1';

/** Pick a value for the full run or for the short (CI) run. */
export function pick(full, short) {
  return SHORT ? short : full;
}

/**
 * A MetricReader that only collects on demand. Attaching one to a MeterProvider makes the SDK
 * create real metric storage for every instrument (without a reader the SDK drops recordings).
 */
export class BenchReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

/** Progress line on stderr, prefixed with the section name. */
export function log(section, message) {
  process.stderr.write(`[bench:${section}] ${message}\n`);
}

/**
 * Hand a section's result to the orchestrator (BENCH_RESULT_FILE) or print it. Adds `_meta` with the
 * section's CPU time over wall time: well below 1 for a single-threaded CPU-bound section means the
 * process was starved by other load on the machine, and its wall-clock figures are inflated.
 */
export function emit(result) {
  const file = process.env.BENCH_RESULT_FILE;
  const cpu = process.cpuUsage();
  const wallS = process.uptime();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  result._meta = { wallS, cpuS, cpuShare: cpuS / wallS, loadavg: loadavg() };
  const text = JSON.stringify(result, null, 2);
  if (file) writeFileSync(file, text);
  else process.stdout.write(`${text}\n`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

// Two-sided 97.5 % quantiles of Student's t for small samples (df 1-30); 1.96 beyond.
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom (table to 30, then a series expansion). */
export function t975(df) {
  if (df >= 1 && df <= 30) return T_975[df - 1];
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

/** Quantile `q` of ascending `sorted` values, interpolated between neighbours; NaN when empty. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/**
 * Summary of per-operation samples (any unit): mean, relative margin of error of the mean at 95 %
 * (Student's t), median, p99, min, max.
 */
export function summarize(samples) {
  const n = samples.length;
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  const mean = sum / n;
  let squares = 0;
  for (const value of sorted) squares += (value - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  const t = n > 1 ? t975(n - 1) : 1.96;
  const moe = n > 1 ? (t * sd) / Math.sqrt(n) : 0;
  return {
    n,
    mean,
    rme: mean !== 0 ? (100 * moe) / mean : 0,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    min: sorted[0],
    max: sorted[n - 1],
  };
}

/**
 * Run `tasks` side by side with tinybench in `rounds` interleaved rounds (the task order rotates
 * every round, so slow drifts of a noisy machine hit every contender alike). Each task function
 * runs `batch` operations per call; samples are pooled across rounds and reported per operation.
 *
 * @param {{ tasks: Array<{ id: string, label: string, fn: () => unknown }>, batch?: number,
 *           rounds?: number, timeMs?: number, warmupMs?: number, minSamples?: number, warmupIterations?: number }} options
 * @returns {Promise<Record<string, { label: string, ns: ReturnType<typeof summarize>, opsPerSec: number }>>}
 */
export async function compareTasks({
  tasks,
  batch = 1,
  rounds = 3,
  timeMs = 300,
  warmupMs = 100,
  minSamples = 10,
  warmupIterations = Math.min(minSamples, 5),
}) {
  const pooled = new Map(tasks.map((task) => [task.id, []]));
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      time: timeMs,
      iterations: minSamples,
      // JIT warm-up in the first round only; later rounds start from optimised code.
      warmup: round === 0 && (warmupIterations > 0 || warmupMs > 0),
      warmupTime: warmupMs,
      warmupIterations,
      retainSamples: true,
      throws: true,
    });
    const rotated = tasks.map((_, index) => tasks[(index + round) % tasks.length]);
    for (const task of rotated) bench.add(task.id, task.fn);
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed')
        throw new Error(`task ${task.name} ended in state ${result.state}: ${result.error ?? ''}`);
      const samples = result.latency.samples;
      const target = pooled.get(task.name);
      // tinybench samples are milliseconds per call; one call runs `batch` operations.
      for (const ms of samples) target.push((ms * 1e6) / batch);
    }
    if (globalThis.gc) globalThis.gc();
  }
  const results = {};
  for (const task of tasks) {
    const ns = summarize(pooled.get(task.id));
    results[task.id] = { label: task.label, ns, opsPerSec: 1e9 / ns.mean };
  }
  return results;
}

/** Deterministic pseudo-random numbers (mulberry32), so every contender sees the same values. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Heap in use after a full garbage collection (requires --expose-gc). */
export function heapAfterGc() {
  if (!globalThis.gc) throw new Error('run with --expose-gc');
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}
