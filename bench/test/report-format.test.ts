import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain-JS bench module without type declarations
import { bytes, ci, fixed, int, pct, signed, signedMs, times } from '../lib/report-format.mjs';

describe('interval bounds', () => {
  it('are rounded outward, so a bound never shows on the passing side of a target the interval misses', () => {
    // 0.8951 is below a ≥ 0.90× target: nearest rounding showed 0.90×.
    expect(ci([0.8951, 0.9649], times)).toBe(' [95 % CI 0.89× … 0.97×]');
    expect(ci([25.04, 35.04], (value: number, rounding: string) => fixed(value, 1, rounding))).toBe(
      ' [95 % CI 25.0 … 35.1]',
    );
    expect(ci([-0.004, 1.004], signedMs)).toBe(' [95 % CI -0.01 ms … +1.01 ms]');
    expect(ci([0.94951, 1.01], pct)).toBe(' [95 % CI 94.9 % … 101.0 %]');
  });

  it('stay as they are when already at the precision shown (no floating-point step outward)', () => {
    expect(ci([0.29, 0.57], times)).toBe(' [95 % CI 0.29× … 0.57×]');
    expect(ci([1.1, 2.3], (value: number, rounding: string) => fixed(value, 1, rounding))).toBe(' [95 % CI 1.1 … 2.3]');
  });

  it('show n/a for an unbounded interval (one round)', () => {
    expect(ci([-Infinity, Infinity], times)).toBe(' [95 % CI n/a … n/a]');
  });
});

describe('negative zero', () => {
  it('prints as 0, with the sign of a difference a plus', () => {
    expect(int(-0.4)).toBe('0');
    expect(fixed(-0.04, 1)).toBe('0.0');
    expect(signed(-0.04)).toBe('+0.0');
    expect(signedMs(-0.001)).toBe('+0.00 ms');
    expect(ci([-0.4, 0.4], (value: number, rounding: string) => fixed(value, 0, rounding))).toBe(' [95 % CI -1 … 1]');
    expect(signed(-0.06)).toBe('-0.1');
  });

  it('leaves point estimates rounded to the nearest, as before', () => {
    expect(times(0.8951)).toBe('0.90×');
    expect(pct(0.9496)).toBe('95.0 %');
    expect(signed(1.25, 1)).toBe('+1.3');
  });
});

describe('bytes per call', () => {
  it('never reads on the other side of the < 1 B allocation limit', () => {
    // Rounded to the nearest, 0.996 showed as "1.00 B" beside "< 1 B/call, met".
    expect(bytes(0.996)).toBe('0.99 B');
    expect(bytes(1.004)).toBe('1.00 B');
    expect(bytes(0.51)).toBe('0.51 B');
    expect(bytes(-0.996)).toBe('-0.99 B');
    expect(bytes(0.004)).toBe('0.00 B');
    expect(bytes(-0.004)).toBe('0.00 B');
  });

  it('shows whole bytes from 10 B on, and n/a for a missing figure', () => {
    expect(bytes(12.6)).toBe('13 B');
    expect(bytes(Number.NaN)).toBe('n/a');
  });
});
