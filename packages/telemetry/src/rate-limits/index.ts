/**
 * Provider rate limits: a pure parser for the rate-limit headers of OpenAI-style
 * (`x-ratelimit-*`, Go-style durations) and Anthropic-style (`anthropic-ratelimit-*`, RFC 3339
 * times) responses and `retry-after`, and the helper that turns what it read into the headroom
 * gauges `gatewayz_provider_ratelimit_remaining` and `gatewayz_provider_ratelimit_reset_seconds`.
 *
 * - `rate-limit-headers.ts`: `parseRateLimitHeaders()` and its types
 * - `header-values.ts`: the value formats (counts, Go durations, RFC 3339, retry-after)
 * - `rate-limit-metrics.ts` / `rate-limit-helpers.ts`: `recordRateLimits()`, on an instance and on the shared one
 * - `rate-limit-windows.ts`: what each series counts down to, so the gauges move between responses
 *
 * @example
 * ```ts
 * import { parseRateLimitHeaders, recordRateLimits } from '@gatewayz/telemetry/rate-limits';
 *
 * const snapshot = parseRateLimitHeaders(response.headers);
 * recordRateLimits('openai', snapshot);
 * ```
 *
 * @packageDocumentation
 * @module @gatewayz/telemetry/rate-limits
 */
export { parseRateLimitHeaders, RATE_LIMIT_HEADERS, RATE_LIMIT_TYPES } from './rate-limit-headers.js';
export type {
  RateLimitSnapshot,
  RateLimitWindow,
  RateLimitType,
  RateLimitHeaderName,
  RateLimitHeaderSource,
  MalformedRateLimitHeader,
} from './rate-limit-headers.js';
export {
  parseGoDurationSeconds,
  parseRateLimitCount,
  parseRfc3339Millis,
  parseRetryAfterSeconds,
} from './header-values.js';
export { recordRateLimits } from './rate-limit-helpers.js';
