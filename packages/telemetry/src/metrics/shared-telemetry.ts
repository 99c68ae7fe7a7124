import { diag } from '@opentelemetry/api';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';
import { GatewayTelemetry } from './gateway-telemetry.js';
import type { GatewayTelemetryOptions } from './recorder-types.js';

/** Where the shared instance lives, and the version of the package that created the slot. */
interface SharedSlot {
  readonly version: string;
  telemetry: GatewayTelemetry | undefined;
}

// The shared instance lives in one process-wide slot, not in this module, because a process can
// load this package twice: its ESM build for the application's `import` and its CommonJS build for a
// dependency's `require()`. With an instance per build, both report the same metric names, the
// scrape carries those families twice (invalid exposition: promtool refuses it, and Prometheus keeps
// only one of them) and start-up options reach one build only. The helpers are methods of the
// instance, so whichever build created it, every build records through the same code and state.
const SLOT_KEY = Symbol.for(`${PACKAGE_NAME}.shared-telemetry`);
let slot: SharedSlot | undefined;

function sharedSlot(): SharedSlot {
  if (slot !== undefined) return slot;
  const holder = globalThis as { [SLOT_KEY]?: SharedSlot };
  const existing = holder[SLOT_KEY];
  if (existing === undefined) {
    slot = { version: PACKAGE_VERSION, telemetry: undefined };
    Object.defineProperty(holder, SLOT_KEY, { value: slot, enumerable: false, configurable: true, writable: false });
  } else if (existing.version === PACKAGE_VERSION) {
    slot = existing;
  } else {
    // Another version's instance may lack helpers this one has: keep a separate one, and say so.
    slot = { version: PACKAGE_VERSION, telemetry: undefined };
    diag.warn(
      `${PACKAGE_NAME}: versions ${existing.version} and ${PACKAGE_VERSION} are both loaded; each keeps its own ` +
        'shared instance, so metrics recorded through both are exposed twice. Install one version ' +
        `(npm ls ${PACKAGE_NAME}).`,
    );
  }
  return slot;
}

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
  return ((slot ?? sharedSlot()).telemetry ??= new GatewayTelemetry());
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
  const telemetry = new GatewayTelemetry(options);
  sharedSlot().telemetry = telemetry;
  return telemetry;
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
  return (slot ?? sharedSlot()).telemetry;
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
  sharedSlot().telemetry = telemetry;
}
