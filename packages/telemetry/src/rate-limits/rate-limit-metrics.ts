import { defineHelpers } from '../metrics/metric-recorder.js';
import type { SeriesCell } from '../metrics/series-store.js';
import { RATE_LIMIT_TYPES, type RateLimitSnapshot } from './rate-limit-headers.js';
import { noteRateLimitWindow } from './rate-limit-windows.js';

/**
 * Rate-limit helpers of a `GatewayTelemetry`: the headroom gauges and the count of unreadable
 * headers. Installed on `GatewayTelemetry.prototype`.
 */
export const rateLimitMetrics = defineHelpers({
  /**
   * Record what one response of `provider` said about its rate limits (see
   * `parseRateLimitHeaders()`): `gatewayz_provider_ratelimit_remaining{provider,limit_type}` and
   * `gatewayz_provider_ratelimit_reset_seconds{provider,limit_type}` for each budget the headers
   * described, and one `gatewayz_ratelimit_headers_malformed_total{provider,header}` per unreadable
   * header. Budgets the headers did not mention keep their previous values. Between responses the
   * reset gauge counts down to the announced reset, and once it has passed the remaining gauge reads
   * the budget's limit (when the headers gave one): the provider has refilled it by then. Providers
   * folded into `other` by the series limit share that series and its countdown: the newest
   * response wins. A reset above 10^10 s (the longest wait `retry-after` can express) is dropped
   * and counted (`out_of_range`).
   */
  recordRateLimits(provider: string, snapshot: RateLimitSnapshot): void {
    const remaining = this.states.providerRateLimitRemaining;
    const reset = this.states.providerRateLimitResetSeconds;
    // A snapshot from plain JavaScript may be missing or hand-built: drop and count, never throw.
    if (typeof snapshot !== 'object' || snapshot === null) {
      this.drop(
        remaining,
        'not_a_number',
        `${remaining.name} got ${String(snapshot)} instead of a rate-limit snapshot`,
      );
      return;
    }
    for (const limitType of RATE_LIMIT_TYPES) {
      const window = snapshot[limitType];
      if (typeof window !== 'object' || window === null) continue;
      let remainingCell: SeriesCell | undefined;
      let resetCell: SeriesCell | undefined;
      // Only values the gauges accept go on to the window's refresh (a dropped reset or limit is
      // counted, and must not come back as a NaN, infinite or negative gauge at collection).
      let resetSeconds: number | undefined;
      if (window.remaining !== undefined && this.acceptValue(remaining, window.remaining)) {
        remainingCell = this.cellFor(remaining, remaining.store.lookup(provider, limitType));
        if (remainingCell !== undefined) remainingCell.value = window.remaining;
      }
      if (window.resetSeconds !== undefined && this.acceptValue(reset, window.resetSeconds)) {
        resetSeconds = window.resetSeconds;
        resetCell = this.cellFor(reset, reset.store.lookup(provider, limitType));
        if (resetCell !== undefined) resetCell.value = window.resetSeconds;
      }
      if (remainingCell === undefined && resetCell === undefined) continue;
      // The limit refills the remaining gauge at the reset: checked as a remaining count is.
      const limit = window.limit !== undefined && this.acceptValue(remaining, window.limit) ? window.limit : undefined;
      // Without a count of its own, a new reset or limit still moves the refill of the count this
      // provider wrote last (found, never created: a series without a count would read 0).
      const countCell = remainingCell ?? remaining.store.find(provider, limitType);
      noteRateLimitWindow(provider, resetCell, countCell, remainingCell !== undefined, limit, resetSeconds);
    }
    const malformed = this.states.rateLimitHeadersMalformed;
    for (const entry of Array.isArray(snapshot.malformed) ? snapshot.malformed : []) {
      const header: unknown = (entry as { header?: unknown } | null)?.header;
      const cell = this.cellFor(malformed, malformed.store.lookup(provider, header));
      if (cell !== undefined) cell.value += 1;
    }
  },
});

/** The rate-limit helpers of a `GatewayTelemetry`. */
export type RateLimitMetrics = typeof rateLimitMetrics;
