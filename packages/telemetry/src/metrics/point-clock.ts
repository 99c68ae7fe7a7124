/**
 * The clock a telemetry instance stamps its points' times and its exemplars with: the wall clock
 * (`Date.now()`, which the OpenTelemetry SDK stamps its own metric points with), except that it never
 * goes back. Stepped back (NTP correcting it, a VM resumed), the wall clock would end points before
 * they start and open a delta before the last one ended; this clock then goes on from its last
 * reading at the pace of a monotonic clock (`performance.now()`). A step forward it follows at once.
 *
 * @example
 * ```ts
 * const clock = new PointClock();
 * const start = clock.nowMs();
 * const end = clock.nowMs(); // >= start, whatever the wall clock did in between
 * ```
 */
export class PointClock {
  private lastMs = -Infinity;
  private lastMonotonicMs = 0;

  /** Milliseconds since the epoch: the wall clock, or more when it went back since the last reading. */
  nowMs(): number {
    const monotonicMs = performance.now();
    const next = Math.max(Date.now(), this.lastMs + (monotonicMs - this.lastMonotonicMs));
    this.lastMs = next;
    this.lastMonotonicMs = monotonicMs;
    return next;
  }
}
