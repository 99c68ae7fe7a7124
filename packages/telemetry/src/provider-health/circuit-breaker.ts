import { TelemetryConfigurationError, requireOptionsObject } from '../errors.js';
import { requireFunctionOption, requireTelemetryOption } from '../option-checks.js';
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
  /** Add a listener for an event; the binding listens to `open`, `halfOpen`, `close` and `shutdown`. */
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

/** Per telemetry instance and provider name, the live bindings' breakers, oldest first. */
const liveBindings = new WeakMap<GatewayTelemetry, Map<string, CircuitBreakerLike[]>>();

/** Note a live binding; returns the function that forgets it and settles the state gauge. */
function registerBinding(telemetry: GatewayTelemetry, provider: string, breaker: CircuitBreakerLike): () => void {
  const byProvider = liveBindings.get(telemetry) ?? new Map<string, CircuitBreakerLike[]>();
  liveBindings.set(telemetry, byProvider);
  const key = provider.trim();
  const live = byProvider.get(key) ?? [];
  byProvider.set(key, live);
  live.push(breaker);
  return () => {
    live.splice(live.indexOf(breaker), 1);
    const successor = live[live.length - 1];
    if (successor !== undefined) {
      telemetry.setCircuitBreakerState(provider, circuitBreakerStateOf(successor));
      return;
    }
    byProvider.delete(key);
    telemetry.removeGaugeSeries('circuitBreakerState', { provider });
  };
}

/**
 * Options of `bindCircuitBreakerMetrics()`.
 *
 * @example
 * ```ts
 * const options: CircuitBreakerBindingOptions = { now: () => performance.now() };
 * ```
 */
export interface CircuitBreakerBindingOptions {
  /**
   * A monotonic clock in milliseconds, for the open time. Default `performance.now()`; tests pass
   * a hand-driven one.
   */
  now?: () => number;
}

/**
 * Follow a breaker in the metrics until it is unbound or shut down:
 *
 * - `gatewayz_circuit_breaker_state{provider,state}`, set now and on every `open`, `halfOpen` and
 *   `close` event, always from the breaker's current state;
 * - `gatewayz_circuit_breaker_transitions_total{provider,from_state,to_state}`, one per change of
 *   that state (an event that leaves the state as it was counts nothing);
 * - `gatewayz_circuit_breaker_open_seconds_total{provider}`, the time the breaker spent open:
 *   credited when it leaves `open`, and, while it is open, up to the moment of each collection, so
 *   a scrape of a breaker open for a minute reads that minute without waiting for it to close.
 *
 * opossum's `shutdown` event (or calling the returned function) credits the open time so far,
 * detaches the binding and removes the provider's `gatewayz_circuit_breaker_state` series: a
 * breaker that no longer exists has no state, and one shut down while open must not keep
 * `GatewayzCircuitBreakerOpen` firing. When another breaker bound to the same provider (on the same
 * telemetry instance) is still live, the gauge takes that breaker's state instead (the most recently
 * bound one's), so a breaker can be replaced in either order. The transitions and open-time
 * counters are kept: they never go back while the process lives. Throws a
 * `TelemetryConfigurationError` for a breaker without `on()` and `removeListener()`, an empty
 * provider name, a `telemetry` that is not a `GatewayTelemetry` or a `now` that is not a function.
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
  options: CircuitBreakerBindingOptions = {},
): () => void {
  if (typeof breaker?.on !== 'function' || typeof breaker.removeListener !== 'function') {
    throw new TelemetryConfigurationError(
      'breaker',
      'expected a circuit breaker that emits events (on() and removeListener()), such as an opossum CircuitBreaker',
    );
  }
  if (typeof provider !== 'string' || provider.trim() === '') {
    throw new TelemetryConfigurationError(
      'provider',
      `expected the provider's name as a non-empty string, got ${typeof provider === 'string' ? '""' : typeof provider}`,
    );
  }
  requireTelemetryOption(telemetry, 'telemetry');
  requireOptionsObject(options, 'options', 'an object of options (or nothing)');
  requireFunctionOption(options.now, 'now', 'a function returning monotonic milliseconds');
  const now = options.now ?? (() => performance.now());
  let current = circuitBreakerStateOf(breaker);
  /** While open: when the open time was last credited to the counter. */
  let openCreditedAt = current === 'open' ? now() : undefined;
  const creditOpenTime = (): void => {
    if (openCreditedAt === undefined) return;
    const at = now();
    if (at > openCreditedAt) telemetry.add('circuitBreakerOpenSeconds', (at - openCreditedAt) / 1000, { provider });
    openCreditedAt = Math.max(at, openCreditedAt);
  };
  const update = (): void => {
    const next = circuitBreakerStateOf(breaker);
    telemetry.setCircuitBreakerState(provider, next);
    if (next === current) return;
    creditOpenTime();
    telemetry.add('circuitBreakerTransitions', 1, { provider, from_state: current, to_state: next });
    openCreditedAt = next === 'open' ? now() : undefined;
    current = next;
  };
  let detached = false;
  const detach = (): void => {
    if (detached) return;
    detached = true;
    creditOpenTime();
    openCreditedAt = undefined;
    removeHook();
    for (const event of EVENTS) breaker.removeListener(event, update);
    breaker.removeListener('shutdown', detach);
    unregister();
  };
  const removeHook = telemetry.beforeCollect('circuitBreakerOpenSeconds', creditOpenTime);
  for (const event of EVENTS) breaker.on(event, update);
  breaker.on('shutdown', detach);
  const unregister = registerBinding(telemetry, provider, breaker);
  telemetry.setCircuitBreakerState(provider, current);
  // The series exists from the start, so rate() and increase() see the first open interval whole.
  telemetry.add('circuitBreakerOpenSeconds', 0, { provider });
  return detach;
}
