// Arithmetic over the rounds of the gateway sections (3 and 8): 95 % intervals of per-round ratios
// and differences, a round of processes folded into a round of configurations (section 8), and
// pooled p99 latencies with a paired bootstrap. Every comparison pairs two gateways of one round.
import { seededRandom, t975 } from './common.mjs';

const BOOTSTRAP = 2000;

/** Mean and 95 % interval (Student's t) of `values`; an unbounded interval below two values. */
export function interval(values) {
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  if (n < 2) return { mean, low: -Infinity, high: Infinity };
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1));
  const half = (t975(n - 1) * sd) / Math.sqrt(n);
  return { mean, low: mean - half, high: mean + half };
}

/** Geometric mean of the per-round ratios `round[key][field] / round[base][field]`, with its interval. */
export function ratioPerRound(rounds, key, field, base = 'off') {
  const { mean, low, high } = interval(rounds.map((round) => Math.log(round[key][field] / round[base][field])));
  return { estimate: Math.exp(mean), ci: [Math.exp(low), Math.exp(high)] };
}

/** Mean of the per-round differences `round[key][field] − round[base][field]`, with its interval. */
export function deltaPerRound(rounds, key, field, base = 'off') {
  const { mean, low, high } = interval(rounds.map((round) => round[key][field] - round[base][field]));
  return { estimate: mean, ci: [low, high] };
}

/**
 * A round of processes (keyed by process) as a round of configurations, `processes` being
 * `[process key, configuration]` pairs: per configuration, the geometric mean of its processes'
 * req/s, the mean of their CPU per request, the sum of their requests and failures, their
 * latencies pooled. A field its runs do not have stays out.
 */
export function configRound(round, processes) {
  const configs = {};
  for (const config of new Set(processes.map(([, of]) => of))) {
    const runs = processes.filter(([, of]) => of === config).map(([key]) => round[key]);
    const sum = (field) => runs.reduce((total, run) => total + run[field], 0);
    const entry = { cpuUsPerRequest: sum('cpuUsPerRequest') / runs.length, failures: sum('failures') };
    if (runs[0].requestsPerSec !== undefined) {
      entry.requestsPerSec =
        runs.length === 1
          ? runs[0].requestsPerSec
          : Math.exp(runs.reduce((total, run) => total + Math.log(run.requestsPerSec), 0) / runs.length);
      entry.total = sum('total');
    }
    if (runs[0].latencies !== undefined)
      entry.latencies = Float64Array.from(runs.flatMap((run) => Array.from(run.latencies)));
    configs[config] = entry;
  }
  return configs;
}

/** p99 of the latencies of `key` pooled over the rounds at `picks` (indices, repeats allowed). */
export function pooledP99(rounds, key, picks) {
  const all = Float64Array.from(picks.flatMap((index) => Array.from(rounds[index][key].latencies))).sort();
  return all[Math.min(all.length - 1, Math.floor(all.length * 0.99))];
}

/** Pooled p99 of `key` minus that of `base`, with a 95 % interval from a paired bootstrap over rounds. */
export function pooledP99Delta(rounds, key, base = 'off') {
  const every = rounds.map((_, index) => index);
  const estimate = pooledP99(rounds, key, every) - pooledP99(rounds, base, every);
  if (rounds.length < 2) return { estimate, ci: [-Infinity, Infinity] };
  const random = seededRandom(20261203);
  const deltas = new Float64Array(BOOTSTRAP);
  for (let sample = 0; sample < BOOTSTRAP; sample++) {
    const picks = every.map(() => Math.floor(random() * rounds.length));
    deltas[sample] = pooledP99(rounds, key, picks) - pooledP99(rounds, base, picks);
  }
  deltas.sort();
  return { estimate, ci: [deltas[Math.floor(0.025 * BOOTSTRAP)], deltas[Math.ceil(0.975 * BOOTSTRAP) - 1]] };
}
