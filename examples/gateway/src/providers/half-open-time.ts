import { monotonicNow } from '@gatewayz/telemetry/scheduling';

/** The part of an opossum circuit breaker `trackHalfOpenTime` reads. */
export interface OpeningBreaker {
  on(event: 'open', listener: () => void): unknown;
  readonly opened: boolean;
}

/**
 * Follow when an open breaker goes half-open: returns a function giving that time (milliseconds
 * on `now`'s clock, by default `monotonicNow()`) while the breaker is open, `undefined` otherwise.
 * `resetTimeoutMs` is the breaker's `resetTimeout`. opossum's reset is a timer, which a step of the
 * wall clock does not move: neither may the time given here.
 *
 * opossum 9 starts its reset timer when it emits `open` and does not say when the timer will fire:
 * `toJSON().state.lastTimerAt` is set once, when the breaker is built, not at each opening. So the
 * time of the last `open` event is noted here (opossum's own listener, which starts the timer, was
 * added in its constructor and runs first, in the same tick).
 *
 * @example
 * ```ts
 * const halfOpenAt = trackHalfOpenTime(breaker, 30_000);
 * const waitMs = (halfOpenAt() ?? monotonicNow()) - monotonicNow();
 * ```
 */
export function trackHalfOpenTime(
  breaker: OpeningBreaker,
  resetTimeoutMs: number,
  now: () => number = monotonicNow,
): () => number | undefined {
  let openedAt: number | undefined;
  breaker.on('open', () => {
    openedAt = now();
  });
  return () => (breaker.opened && openedAt !== undefined ? openedAt + resetTimeoutMs : undefined);
}
