import { GatewayTelemetry } from './gateway-telemetry.js';
import type { GatewayTelemetryOptions } from './recorder-types.js';

let shared: GatewayTelemetry | undefined;

/**
 * The shared `GatewayTelemetry` instance behind the module-level helpers. Created on first use with
 * default options, reporting to the global meter provider once one is registered.
 *
 * @example
 * ```ts
 * getTelemetry().recordCacheHit('responses');
 * ```
 */
export function getTelemetry(): GatewayTelemetry {
  return (shared ??= new GatewayTelemetry());
}

/**
 * Replace the shared instance with one built from `options` (prefix, series limits, meter
 * provider). Call it at start-up, before recording; values recorded on the previous instance stay there.
 *
 * @example
 * ```ts
 * configureTelemetry({ prefix: 'acme_', maxSeriesPerMetric: 5000 });
 * ```
 */
export function configureTelemetry(options: GatewayTelemetryOptions = {}): GatewayTelemetry {
  shared = new GatewayTelemetry(options);
  return shared;
}

/**
 * The shared instance if something created it already, without creating one.
 *
 * @example
 * ```ts
 * const telemetry = peekTelemetry();
 * console.log(telemetry?.seriesCount('providerResponseTime') ?? 0);
 * ```
 */
export function peekTelemetry(): GatewayTelemetry | undefined {
  return shared;
}

/**
 * Use an existing instance as the shared one (for example one created by `startTelemetry()`);
 * `undefined` forgets it, so the next use creates a fresh one.
 *
 * @example
 * ```ts
 * setTelemetry(new GatewayTelemetry({ meterProvider, prefix: 'acme_' }));
 * afterEach(() => setTelemetry(undefined)); // tests: a fresh shared instance per test
 * ```
 */
export function setTelemetry(telemetry: GatewayTelemetry | undefined): void {
  shared = telemetry;
}
