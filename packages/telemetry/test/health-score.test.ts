import { describe, expect, it } from 'vitest';
import { providerHealthScore } from '../src/index.js';
import { LATENCY_SCORE_FULL_SECONDS, LATENCY_SCORE_ZERO_SECONDS, latencyScore } from '../src/provider-health/index.js';

describe('latencyScore', () => {
  it('uses the 2 s / 10 s thresholds of seed 000', () => {
    expect(LATENCY_SCORE_FULL_SECONDS).toBe(2);
    expect(LATENCY_SCORE_ZERO_SECONDS).toBe(10);
  });

  it.each([
    [0, 1],
    [0.8, 1],
    [1.999, 1],
    [2, 1],
    [4, 0.75],
    [6, 0.5],
    [9, 0.125],
    [10, 0],
    [12, 0],
    [3600, 0],
  ])('latencyScore(%s) = %s', (seconds, expected) => {
    expect(latencyScore(seconds)).toBeCloseTo(expected, 12);
  });

  it('falls linearly between 2 s and 10 s', () => {
    for (let seconds = 2; seconds <= 10; seconds += 0.5) {
      expect(latencyScore(seconds), String(seconds)).toBeCloseTo((10 - seconds) / 8, 12);
    }
  });

  it.each([Number.NaN, -0.001, -1, Infinity, -Infinity])('throws a RangeError for %s', (seconds) => {
    expect(() => latencyScore(seconds)).toThrow(RangeError);
  });
});

describe('providerHealthScore', () => {
  it('computes 0.4·availability + 0.3·(1 − error rate) + 0.3·latency score', () => {
    expect(providerHealthScore({ availability: 1, errorRate: 0.05, responseTimeSeconds: 0.8 })).toBeCloseTo(0.985, 12);
    expect(providerHealthScore({ availability: 1, errorRate: 0, responseTimeSeconds: 0 })).toBeCloseTo(1, 12);
    expect(providerHealthScore({ availability: 0, errorRate: 1, responseTimeSeconds: 12 })).toBe(0);
    expect(providerHealthScore({ availability: 0.5, errorRate: 0.5, responseTimeSeconds: 6 })).toBeCloseTo(0.5, 12);
    expect(providerHealthScore({ availability: 1, errorRate: 0.1, responseTimeSeconds: 1 })).toBeCloseTo(0.97, 12);
    expect(providerHealthScore({ availability: 1, errorRate: 0.5, responseTimeSeconds: 6 })).toBeCloseTo(0.7, 12);
    expect(providerHealthScore({ availability: 0, errorRate: 0, responseTimeSeconds: 0 })).toBeCloseTo(0.6, 12);
  });

  it('weights each input as the formula says', () => {
    const base = { availability: 1, errorRate: 0, responseTimeSeconds: 0 };
    expect(1 - providerHealthScore({ ...base, availability: 0 })).toBeCloseTo(0.4, 12);
    expect(1 - providerHealthScore({ ...base, errorRate: 1 })).toBeCloseTo(0.3, 12);
    expect(1 - providerHealthScore({ ...base, responseTimeSeconds: 10 })).toBeCloseTo(0.3, 12);
  });

  it.each([
    ['NaN availability', { availability: Number.NaN, errorRate: 0, responseTimeSeconds: 1 }],
    ['availability above 1', { availability: 1.5, errorRate: 0, responseTimeSeconds: 1 }],
    ['negative availability', { availability: -0.1, errorRate: 0, responseTimeSeconds: 1 }],
    ['NaN error rate', { availability: 1, errorRate: Number.NaN, responseTimeSeconds: 1 }],
    ['error rate above 1', { availability: 1, errorRate: 1.01, responseTimeSeconds: 1 }],
    ['negative error rate', { availability: 1, errorRate: -0.01, responseTimeSeconds: 1 }],
    ['NaN latency', { availability: 1, errorRate: 0, responseTimeSeconds: Number.NaN }],
    ['negative latency', { availability: 1, errorRate: 0, responseTimeSeconds: -1 }],
    ['infinite latency', { availability: 1, errorRate: 0, responseTimeSeconds: Infinity }],
  ])('throws a RangeError for %s', (_title, inputs) => {
    expect(() => providerHealthScore(inputs)).toThrow(RangeError);
  });

  it('names the offending input in the RangeError', () => {
    expect(() => providerHealthScore({ availability: 1, errorRate: 2, responseTimeSeconds: 1 })).toThrow(/errorRate/);
  });
});

describe('the README example', () => {
  it('shows the value providerHealthScore() really returns', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /providerHealthScore\((\{[^}]*\})\); \/\/ (\S+)/.exec(readme);
    expect(example, 'packages/telemetry/README.md has a providerHealthScore example').not.toBeNull();
    const inputs = new Function(`return ${example![1]};`)() as Parameters<typeof providerHealthScore>[0];
    expect(example![2]).toBe(String(providerHealthScore(inputs)));
  });
});
