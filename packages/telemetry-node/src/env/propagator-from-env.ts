import { propagation, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import { readEnvList, warnConfiguration, warnIgnoredVariable } from './standard-variables.js';

const PROPAGATORS: Record<string, () => TextMapPropagator> = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
  b3: () => new B3Propagator(),
  b3multi: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
  jaeger: () => new JaegerPropagator(),
};

/**
 * The propagator of `OTEL_PROPAGATORS`: a comma list (case-insensitive, duplicates once) of
 * `tracecontext`, `baggage`, `b3`, `b3multi` and `jaeger`, or `none` for no propagator (`null`).
 * Unknown names are warned about and skipped; unset, or nothing known, gives the specification's
 * default, `tracecontext,baggage`.
 *
 * @example
 * ```ts
 * const propagator = propagatorFromEnv({ OTEL_PROPAGATORS: 'tracecontext,b3multi' });
 * if (propagator !== null) propagation.setGlobalPropagator(propagator);
 * ```
 */
export function propagatorFromEnv(env: NodeJS.ProcessEnv): TextMapPropagator | null {
  const names = readEnvList(env, 'OTEL_PROPAGATORS');
  if (names?.includes('none')) {
    if (names.length > 1)
      warnIgnoredVariable('OTEL_PROPAGATORS', env['OTEL_PROPAGATORS'] ?? '', '"none" alone', 'propagating nothing');
    return null;
  }
  const propagators = (names ?? []).flatMap((name) => {
    // Own names only: `constructor` or `__proto__` would find Object.prototype's members.
    const create = Object.hasOwn(PROPAGATORS, name) ? PROPAGATORS[name] : undefined;
    if (create !== undefined) return [create()];
    warnIgnoredVariable('OTEL_PROPAGATORS', name, Object.keys(PROPAGATORS).join(', '), 'skipping it');
    return [];
  });
  if (propagators.length === 0) propagators.push(PROPAGATORS['tracecontext']!(), PROPAGATORS['baggage']!());
  return propagators.length === 1 ? propagators[0]! : new CompositePropagator({ propagators });
}

/**
 * Register `propagator` (from {@link propagatorFromEnv}) as the global propagator and return what
 * undoes it at shutdown. A propagator the application registered first is kept (with a warning) and
 * left registered at shutdown, as the context manager is: it is not ours to remove.
 */
export function registerPropagator(propagator: TextMapPropagator | null): () => void {
  if (propagator === null) return () => {};
  if (!propagation.setGlobalPropagator(propagator)) {
    warnConfiguration('@gatewayz/telemetry-node: a propagator is already registered; keeping it');
    return () => {};
  }
  return () => propagation.disable();
}
