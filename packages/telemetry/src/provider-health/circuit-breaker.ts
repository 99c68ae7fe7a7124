import type { CircuitBreakerState } from '../metrics/metric-definition.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';
import type { GatewayTelemetry } from '../metrics/gateway-telemetry.js';

/**
 * The part of a circuit breaker the binding needs. opossum's `CircuitBreaker` fits it; so does any
 * breaker that emits `open`, `halfOpen` and `close` and exposes its current state.
 *
 * @example
 * ```ts
 * import CircuitBreaker from 'opossum';
 *
 * const breaker: CircuitBreakerLike = new CircuitBreaker(callAnthropic, { resetTimeout: 30_000 });
 * ```
 */
export interface CircuitBreakerLike {
  /** Add a listener for a state-change event; the binding listens to `open`, `halfOpen` and `close`. */
  on(event: 'open' | 'halfOpen' | 'close' | 'shutdown', listener: () => void): unknown;
  /** Remove a listener added with `on` (called by the function `bindCircuitBreakerMetrics()` returns). */
  removeListener(event: 'open' | 'halfOpen' | 'close' | 'shutdown', listener: () => void): unknown;
  /** True while the breaker is open and refuses calls. */
  readonly opened: boolean;
  /** True while the breaker is half-open and lets a trial call through; takes precedence over `opened`. */
  readonly halfOpen: boolean;
}

/**
 * The state a breaker is in now, derived from its flags rather than from the last event seen:
 * `half_open` when `halfOpen` is set, else `open` when `opened` is set, else `closed`.
 *
 * @example
 * ```ts
 * for (const { provider, breaker } of failoverChain) {
 *   if (circuitBreakerStateOf(breaker) === 'open') continue; // skip providers whose breaker is open
 *   // ... call the provider
 * }
 * ```
 */
export function circuitBreakerStateOf(breaker: CircuitBreakerLike): CircuitBreakerState {
  if (breaker.halfOpen) return 'half_open';
  if (breaker.opened) return 'open';
  return 'closed';
}

const EVENTS = ['open', 'halfOpen', 'close'] as const;

/**
 * Keep `gatewayz_circuit_breaker_state{provider,state}` in step with a breaker: sets it now and on
 * every `open`, `halfOpen` and `close` event, always from the breaker's current state. Returns a
 * function that detaches the listeners.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker(callOpenAI, { resetTimeout: 30_000 });
 * const unbind = bindCircuitBreakerMetrics(breaker, 'openai');
 * ```
 */
export function bindCircuitBreakerMetrics(
  breaker: CircuitBreakerLike,
  provider: string,
  telemetry: GatewayTelemetry = getTelemetry(),
): () => void {
  const update = (): void => telemetry.setCircuitBreakerState(provider, circuitBreakerStateOf(breaker));
  for (const event of EVENTS) breaker.on(event, update);
  update();
  return () => {
    for (const event of EVENTS) breaker.removeListener(event, update);
  };
}
