/** Hours of calls `gatewayz_model_uptime_24h` covers. */
export const UPTIME_WINDOW_HOURS = 24;

/**
 * Per-model calls and successes in hourly buckets, oldest first, for `gatewayz_model_uptime_24h`.
 * Hours are read from the tracker's clock, which may jump: when it goes back, buckets stamped with
 * a later hour than the current one are folded into the current hour's bucket, so the buckets stay
 * in order and each one leaves the window 24 hours after the clock's present, never later.
 */
export class HourlyWindow {
  private readonly buckets: Array<{ hour: number; calls: number; successes: number }> = [];

  /** Whether adding nothing in `hour` would leave the uptime as it is (no bucket to expire or fold). */
  unchangedWithoutCalls(hour: number): boolean {
    const first = this.buckets[0];
    const last = this.buckets[this.buckets.length - 1];
    return first === undefined || (first.hour > hour - UPTIME_WINDOW_HOURS && (last as { hour: number }).hour <= hour);
  }

  add(hour: number, calls: number, successes: number): void {
    let last = this.buckets[this.buckets.length - 1];
    // The clock went back: calls stamped with a later hour were made no later than now.
    while (last !== undefined && last.hour > hour) {
      this.buckets.pop();
      calls += last.calls;
      successes += last.successes;
      last = this.buckets[this.buckets.length - 1];
    }
    if (last !== undefined && last.hour === hour) {
      last.calls += calls;
      last.successes += successes;
    } else {
      this.buckets.push({ hour, calls, successes });
    }
    while (this.buckets.length > 0 && (this.buckets[0] as { hour: number }).hour <= hour - UPTIME_WINDOW_HOURS) {
      this.buckets.shift();
    }
  }

  uptime(): number | undefined {
    let calls = 0;
    let successes = 0;
    for (const bucket of this.buckets) {
      calls += bucket.calls;
      successes += bucket.successes;
    }
    return calls > 0 ? successes / calls : undefined;
  }
}
