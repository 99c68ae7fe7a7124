import { getTelemetry } from '../metrics/shared-telemetry.js';
import type { RateLimitSnapshot } from './rate-limit-headers.js';

/**
 * Record what one response of `provider` said about its rate limits on the shared instance:
 * `gatewayz_provider_ratelimit_remaining{provider,limit_type}`,
 * `gatewayz_provider_ratelimit_reset_seconds{provider,limit_type}` and, per unreadable header,
 * `gatewayz_ratelimit_headers_malformed_total{provider,header}`.
 *
 * @example
 * ```ts
 * const response = await fetch('https://api.openai.com/v1/chat/completions', init);
 * recordRateLimits('openai', parseRateLimitHeaders(response.headers));
 * ```
 *
 * @see GatewayTelemetry.recordRateLimits
 */
export function recordRateLimits(provider: string, snapshot: RateLimitSnapshot): void {
  getTelemetry().recordRateLimits(provider, snapshot);
}
