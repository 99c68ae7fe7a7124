/**
 * Milliseconds since the epoch on a monotonic clock (`performance.timeOrigin + performance.now()`,
 * what `hrTime()` of `@opentelemetry/core` reads): it starts at the wall time of process start and
 * then only moves forward, so a step of the wall clock (NTP correcting it, a VM resumed) does not
 * move it. Read it for deadlines and countdowns; read `Date.now()` for times that are stored or
 * shown, which it drifts away from with every step of the wall clock.
 *
 * @example
 * ```ts
 * const deadline = monotonicNow() + 5_000;
 * const left = deadline - monotonicNow(); // 5 s minus the time elapsed, whatever the wall clock did
 * ```
 */
export function monotonicNow(): number {
  // Read through the global at each call, so test fake timers that replace `performance` move it.
  return performance.timeOrigin + performance.now();
}
