import { ForwardWallClock } from './forward-wall-clock.js';

/**
 * The clock a telemetry instance stamps its points' times and its exemplars with: the wall clock
 * (`Date.now()`, which the OpenTelemetry SDK stamps its own metric points with), except that it never
 * goes back. Stepped back (NTP correcting it, a VM resumed), the wall clock would end points before
 * they start and open a delta before the last one ended; this clock then goes on from its last
 * reading at the pace of a monotonic clock (`performance.now()`), so a point still spans the time it
 * covered. A step forward it follows at once.
 *
 * @example
 * ```ts
 * const clock = new PointClock();
 * const start = clock.nowMs();
 * const end = clock.nowMs(); // >= start, whatever the wall clock did in between
 * ```
 */
export class PointClock extends ForwardWallClock {
  constructor() {
    // Read through the global at each call, so test fake timers that replace `Date` move it.
    super(() => Date.now(), 'continue');
  }
}
