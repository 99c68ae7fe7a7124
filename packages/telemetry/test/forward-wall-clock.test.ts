import { afterEach, describe, expect, it, vi } from 'vitest';
import { ForwardWallClock, type WallClockStepBackPolicy } from '../src/metrics/forward-wall-clock.js';

const HOUR = 3_600_000;
const START = Date.parse('2026-12-03T16:00:00Z');

afterEach(() => {
  vi.useRealTimers();
});

/** A clock over a wall time the test sets, with `performance.now()` faked so that only `elapse()` moves it. */
function clockOver(afterStepBack: WallClockStepBackPolicy): {
  clock: ForwardWallClock;
  setWall: (ms: number) => void;
  elapse: (ms: number) => void;
} {
  vi.useFakeTimers({ toFake: ['performance'] });
  let wallMs = START;
  const clock = new ForwardWallClock(() => wallMs, afterStepBack);
  return {
    clock,
    setWall: (ms) => void (wallMs = ms),
    elapse: (ms) => {
      vi.advanceTimersByTime(ms);
      wallMs += ms;
    },
  };
}

describe.each<WallClockStepBackPolicy>(['continue', 'hold'])('ForwardWallClock (%s)', (policy) => {
  it('reads the wall time while it goes forward, and follows a step forward at once', () => {
    const { clock, setWall, elapse } = clockOver(policy);
    expect(clock.nowMs()).toBe(START);
    expect(clock.nowMs()).toBe(START);
    elapse(1_000);
    expect(clock.nowMs()).toBe(START + 1_000);
    setWall(START + 1_000 + HOUR);
    expect(clock.nowMs()).toBe(START + 1_000 + HOUR);
  });

  it('reads the wall time again once it passes the last reading after a step back', () => {
    const { clock, setWall, elapse } = clockOver(policy);
    elapse(1_000);
    expect(clock.nowMs()).toBe(START + 1_000);
    setWall(START - HOUR);
    clock.nowMs();
    setWall(START + 2 * HOUR);
    expect(clock.nowMs()).toBe(START + 2 * HOUR);
  });
});

describe('ForwardWallClock after a step of its wall time back', () => {
  it('continue: goes on from its last reading at the pace of the monotonic clock', () => {
    const { clock, setWall, elapse } = clockOver('continue');
    expect(clock.nowMs()).toBe(START);
    elapse(1_000);
    setWall(START - HOUR);
    expect(clock.nowMs()).toBe(START + 1_000);
    elapse(2_000);
    expect(clock.nowMs()).toBe(START + 3_000);
    expect(clock.nowMs()).toBe(START + 3_000);
  });

  it('hold: returns its last reading however much time passes behind it', () => {
    const { clock, setWall, elapse } = clockOver('hold');
    elapse(1_000);
    expect(clock.nowMs()).toBe(START + 1_000);
    setWall(START - HOUR);
    expect(clock.nowMs()).toBe(START + 1_000);
    elapse(2_000);
    expect(clock.nowMs()).toBe(START + 1_000);
    elapse(HOUR);
    expect(clock.nowMs()).toBe(START + 2_000);
  });
});
