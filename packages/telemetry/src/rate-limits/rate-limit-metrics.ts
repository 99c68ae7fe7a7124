import { defineHelpers } from '../metrics/metric-recorder.js';
import { RATE_LIMIT_TYPES, type RateLimitSnapshot } from './rate-limit-headers.js';

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
   * header. Budgets the headers did not mention keep their previous values.
   */
  recordRateLimits(provider: string, snapshot: RateLimitSnapshot): void {
    const remaining = this.states.providerRateLimitRemaining;
    const reset = this.states.providerRateLimitResetSeconds;
    for (const limitType of RATE_LIMIT_TYPES) {
      const window = snapshot[limitType];
      if (window === undefined) continue;
      if (window.remaining !== undefined && this.acceptValue(remaining, window.remaining)) {
        const cell = this.cellFor(remaining, remaining.store.lookup(provider, limitType));
        if (cell !== undefined) cell.value = window.remaining;
      }
      if (window.resetSeconds !== undefined && this.acceptValue(reset, window.resetSeconds)) {
        const cell = this.cellFor(reset, reset.store.lookup(provider, limitType));
        if (cell !== undefined) cell.value = window.resetSeconds;
      }
    }
    const malformed = this.states.rateLimitHeadersMalformed;
    for (const { header } of snapshot.malformed) {
      const cell = this.cellFor(malformed, malformed.store.lookup(provider, header));
      if (cell !== undefined) cell.value += 1;
    }
  },
});

/** The rate-limit helpers of a `GatewayTelemetry`. */
export type RateLimitMetrics = typeof rateLimitMetrics;
