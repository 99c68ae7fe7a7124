import type { CircuitBreakerState } from './catalog.js';
import { getTelemetry } from './default-telemetry.js';
import type { GatewayTelemetry } from './gateway-telemetry.js';

/**
 * The part of a circuit breaker the binding needs. opossum's `CircuitBreaker` fits it; so does any
 * breaker that emits `open`, `halfOpen` and `close` and exposes its current state.
 */
export interface CircuitBreakerLike {
  on(event: 'open' | 'halfOpen' | 'close' | 'shutdown', listener: () => void): unknown;
  removeListener(event: 'open' | 'halfOpen' | 'close' | 'shutdown', listener: () => void): unknown;
  readonly opened: boolean;
  readonly halfOpen: boolean;
}

/** The state a breaker is in now, derived from its flags rather than from the last event seen. */
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
