import { describe, expect, it } from 'vitest';
import {
  configRound,
  deltaPerRound,
  interval,
  pooledP99,
  pooledP99Delta,
  ratioPerRound,
  // @ts-expect-error -- a plain-JS bench module without type declarations
} from '../lib/round-stats.mjs';

const PROCESSES = [
  ['off', 'off'],
  ['traced', 'traced'],
  ['stock', 'stock'],
  ['offTwin', 'off'],
  ['tracedTwin', 'traced'],
];

describe('configRound', () => {
  it('folds two processes of a configuration into one figure: geometric mean of req/s, mean of CPU, sums, pooled latencies', () => {
    const round = {
      off: { requestsPerSec: 100, cpuUsPerRequest: 200, total: 100, failures: 1 },
      offTwin: { requestsPerSec: 400, cpuUsPerRequest: 260, total: 400, failures: 2 },
      traced: { requestsPerSec: 90, cpuUsPerRequest: 250, total: 90, failures: 0 },
      tracedTwin: { requestsPerSec: 160, cpuUsPerRequest: 230, total: 160, failures: 0 },
      stock: { requestsPerSec: 70, cpuUsPerRequest: 300, total: 70, failures: 5 },
    };
    const configs = configRound(round, PROCESSES);
    expect(Object.keys(configs).sort()).toEqual(['off', 'stock', 'traced']);
    expect(configs.off.requestsPerSec).toBeCloseTo(200, 10);
    expect(configs.off.cpuUsPerRequest).toBe(230);
    expect(configs.off.total).toBe(500);
    expect(configs.off.failures).toBe(3);
    expect(configs.traced.requestsPerSec).toBeCloseTo(120, 10);
    expect(configs.traced.cpuUsPerRequest).toBe(240);
    // A configuration of one process keeps its own figures.
    expect(configs.stock).toEqual({ requestsPerSec: 70, cpuUsPerRequest: 300, total: 70, failures: 5 });
    expect(configs.off.latencies).toBeUndefined();
  });

  it('pools the latencies of a fixed-load round and keeps no req/s it was not given', () => {
    const round = {
      off: { latencies: Float64Array.from([1, 2]), failures: 0, cpuUsPerRequest: 700 },
      offTwin: { latencies: Float64Array.from([3]), failures: 1, cpuUsPerRequest: 720 },
      traced: { latencies: Float64Array.from([4]), failures: 0, cpuUsPerRequest: 800 },
      tracedTwin: { latencies: Float64Array.from([5, 6]), failures: 0, cpuUsPerRequest: 780 },
      stock: { latencies: Float64Array.from([7]), failures: 0, cpuUsPerRequest: 900 },
    };
    const configs = configRound(round, PROCESSES);
    expect(Array.from(configs.off.latencies)).toEqual([1, 2, 3]);
    expect(Array.from(configs.traced.latencies)).toEqual([4, 5, 6]);
    expect(configs.off.cpuUsPerRequest).toBe(710);
    expect(configs.traced.cpuUsPerRequest).toBe(790);
    expect(configs.off.failures).toBe(1);
    expect('requestsPerSec' in configs.off).toBe(false);
  });
});

describe('per-round comparisons', () => {
  it('gives the mean difference with a Student t interval, against off or another base', () => {
    const rounds = [10, 12, 14].map((difference) => ({
      off: { cpuUsPerRequest: 100 },
      traced: { cpuUsPerRequest: 100 + difference },
      tracedTwin: { cpuUsPerRequest: 100 + difference + 3 },
    }));
    const added = deltaPerRound(rounds, 'traced', 'cpuUsPerRequest');
    expect(added.estimate).toBeCloseTo(12, 10);
    // sd 2, n 3: half-width t(0.975, 2) · 2 / √3 = 4.303 · 1.1547
    expect(added.ci[0]).toBeCloseTo(12 - 4.303 * (2 / Math.sqrt(3)), 2);
    expect(added.ci[1]).toBeCloseTo(12 + 4.303 * (2 / Math.sqrt(3)), 2);
    const twin = deltaPerRound(rounds, 'tracedTwin', 'cpuUsPerRequest', 'traced');
    expect(twin.estimate).toBeCloseTo(3, 10);
    expect(twin.ci[0]).toBeCloseTo(3, 10);
    expect(twin.ci[1]).toBeCloseTo(3, 10);
  });

  it('gives the geometric mean of per-round ratios', () => {
    const rounds = [
      { off: { requestsPerSec: 100 }, traced: { requestsPerSec: 80 } },
      { off: { requestsPerSec: 200 }, traced: { requestsPerSec: 200 } },
    ];
    const ratio = ratioPerRound(rounds, 'traced', 'requestsPerSec');
    expect(ratio.estimate).toBeCloseTo(Math.sqrt(0.8), 10);
    expect(ratio.ci[0]).toBeLessThan(0.8);
    expect(ratio.ci[1]).toBeGreaterThan(1);
  });

  it('leaves the interval unbounded with a single round', () => {
    expect(interval([5])).toEqual({ mean: 5, low: -Infinity, high: Infinity });
    const one = [{ off: { cpuUsPerRequest: 1 }, traced: { cpuUsPerRequest: 4 } }];
    expect(deltaPerRound(one, 'traced', 'cpuUsPerRequest')).toEqual({ estimate: 3, ci: [-Infinity, Infinity] });
  });
});

describe('pooled p99', () => {
  it('takes the p99 over the picked rounds and a bootstrap interval of the difference', () => {
    const latencies = (base: number) => Float64Array.from({ length: 100 }, (_, index) => base + index);
    const rounds = Array.from({ length: 6 }, () => ({
      off: { latencies: latencies(0) },
      traced: { latencies: latencies(2) },
    }));
    expect(pooledP99(rounds, 'off', [0])).toBe(99);
    const delta = pooledP99Delta(rounds, 'traced');
    // Every round is the same, so every resample gives the same +2.
    expect(delta).toEqual({ estimate: 2, ci: [2, 2] });
  });
});
