/** The part of an opossum circuit breaker `trackHalfOpenTime` reads. */
export interface OpeningBreaker {
  on(event: 'open', listener: () => void): unknown;
  readonly opened: boolean;
}

/**
 * Follow when an open breaker goes half-open: returns a function giving that time (epoch
 * milliseconds, on `now`'s clock) while the breaker is open, `undefined` otherwise.
 * `resetTimeoutMs` is the breaker's `resetTimeout`.
 *
 * opossum 9 starts its reset timer when it emits `open` and does not say when the timer will fire:
 * `toJSON().state.lastTimerAt` is set once, when the breaker is built, not at each opening. So the
 * time of the last `open` event is noted here (opossum's own listener, which starts the timer, was
 * added in its constructor and runs first, in the same tick).
 *
 * @example
 * ```ts
 * const halfOpenAt = trackHalfOpenTime(breaker, 30_000);
 * const waitMs = (halfOpenAt() ?? Date.now()) - Date.now();
 * ```
 */
export function trackHalfOpenTime(
  breaker: OpeningBreaker,
  resetTimeoutMs: number,
  now: () => number = Date.now,
): () => number | undefined {
  let openedAt: number | undefined;
  breaker.on('open', () => {
    openedAt = now();
  });
  return () => (breaker.opened && openedAt !== undefined ? openedAt + resetTimeoutMs : undefined);
}
