import { MAX_RATE_LIMIT_WAIT_SECONDS } from '../rate-limits/header-values.js';
import { RATE_LIMIT_HEADERS, RATE_LIMIT_TYPES } from '../rate-limits/rate-limit-headers.js';
import { define, nonNegative, CIRCUIT_BREAKER_STATES } from './metric-definition.js';

/**
 * Why a request moved on from one provider of its failover chain to the next: the attempt failed
 * (`error`, `timeout`, `rate_limited`, `network_error`, the statuses of a failed model call) or the
 * provider was passed over without an attempt (`rate_limited`: no requests left until its reset;
 * `circuit_open`: its breaker refuses calls).
 *
 * @example
 * ```ts
 * const reason: FailoverReason = 'circuit_open';
 * ```
 */
export const FAILOVER_REASONS = ['error', 'timeout', 'rate_limited', 'network_error', 'circuit_open'] as const;
/**
 * One of `FAILOVER_REASONS`, the `reason` label of `gatewayz_failovers_total`.
 *
 * @example
 * ```ts
 * recordFailover('openai', 'openrouter', 'timeout' satisfies FailoverReason);
 * ```
 */
export type FailoverReason = (typeof FAILOVER_REASONS)[number];

/** Catalog entries of routing: provider rate-limit headroom, failovers and circuit-breaker history. */
export const ROUTING_METRICS = {
  providerRateLimitRemaining: define({
    name: 'provider_ratelimit_remaining',
    prefixed: true,
    kind: 'gauge',
    unit: '1',
    description:
      "Requests or tokens left in the provider's rate-limit window, from its latest response headers (the full limit once the announced reset has passed)",
    labels: ['provider', 'limit_type'],
    labelValues: { limit_type: RATE_LIMIT_TYPES },
    categories: ['providers'],
    range: nonNegative,
    integer: true,
    // Every worker reads the same provider's headers; the lowest value is the most recent budget.
    clusterMerge: 'min',
  }),
  providerRateLimitResetSeconds: define({
    name: 'provider_ratelimit_reset_seconds',
    prefixed: true,
    kind: 'gauge',
    unit: 's',
    description:
      "Seconds until the provider's rate-limit window resets, announced by its latest response headers and counted down at collection",
    labels: ['provider', 'limit_type'],
    labelValues: { limit_type: RATE_LIMIT_TYPES },
    categories: ['providers'],
    // Bounded so that the reset time it counts down to stays finite.
    range: { min: 0, max: MAX_RATE_LIMIT_WAIT_SECONDS },
    clusterMerge: 'max',
  }),
  rateLimitHeadersMalformed: define({
    name: 'ratelimit_headers_malformed',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Rate-limit response headers whose value could not be read (dropped), by provider and header',
    labels: ['provider', 'header'],
    labelValues: { header: RATE_LIMIT_HEADERS },
    categories: ['system'],
    integer: true,
  }),
  failovers: define({
    name: 'failovers',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description:
      'Moves from one provider of a failover chain to the next, by reason (a failed attempt, or a provider passed over)',
    labels: ['provider', 'next_provider', 'reason'],
    labelValues: { reason: FAILOVER_REASONS },
    categories: ['providers'],
    integer: true,
  }),
  circuitBreakerTransitions: define({
    name: 'circuit_breaker_transitions',
    prefixed: true,
    kind: 'counter',
    unit: '1',
    description: 'Circuit breaker state changes per provider',
    labels: ['provider', 'from_state', 'to_state'],
    labelValues: { from_state: CIRCUIT_BREAKER_STATES, to_state: CIRCUIT_BREAKER_STATES },
    categories: ['providers'],
    integer: true,
  }),
  circuitBreakerOpenSeconds: define({
    name: 'circuit_breaker_open_seconds',
    prefixed: true,
    kind: 'counter',
    unit: 's',
    description: 'Time each circuit breaker spent open, the current open interval included at collection',
    labels: ['provider'],
    categories: ['providers'],
  }),
} as const;
