import { TelemetryConfigurationError } from './errors.js';

/*
 * Checks of the options that hand the package an object or a function it calls later (a `telemetry`
 * instance, a `clock`, a callback): a wrong one must fail where it is given, naming the option, not
 * later as a `TypeError` from a timer or the record path (where nothing can catch it, or where the
 * package promises not to throw).
 */

/**
 * What a full `GatewayTelemetry` has that a look-alike (the handle `startTelemetry()` returns, a meter
 * provider, a plain options object) has not: the generic record methods and the per-metric states
 * the package's own consumers call. Checked by shape, so an instance of another build of the
 * package (ESM beside CommonJS) passes.
 */
const GATEWAY_TELEMETRY_METHODS = ['add', 'set', 'record', 'drop', 'beforeCollect', 'removeGaugeSeries'] as const;

/** The methods of a `TrackerClock`: `monotonicNow` is optional, but a function when given. */
export const TRACKER_CLOCK_METHODS = ['now', 'setTimeout', 'clearTimeout'] as const;
/** The optional method of a `TrackerClock`. */
export const TRACKER_CLOCK_OPTIONAL_METHODS = ['monotonicNow'] as const;

/** How a message shows a value that is not what the option expects. */
function described(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'function':
      return 'a function';
    case 'string':
      return `the string ${JSON.stringify(value.slice(0, 40))}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${value.toString()}`;
    default:
      return typeof value;
  }
}

/** The first of `methods` that `value` lacks as a function, or undefined when it has them all. */
function missingMethod(value: unknown, methods: readonly string[]): string | undefined {
  if (typeof value !== 'object' || value === null) return methods[0];
  return methods.find((method) => typeof (value as Record<string, unknown>)[method] !== 'function');
}

/**
 * Check an option that takes a telemetry instance, where it is given rather than on the first record:
 * throws a `TelemetryConfigurationError` naming `option` unless `value` is undefined (not given: the
 * caller's default applies) or a `GatewayTelemetry`, or, when `methods` is given, an object with
 * those methods (what an option typed as a part of one, such as `Pick<GatewayTelemetry, 'set' |
 * 'add'>`, calls). Checked by shape, so an instance of another build of the package passes. `null`
 * is refused like any other wrong value. The handle `startTelemetry()` returns, passed by mistake,
 * gets a message pointing at its `telemetry` property.
 *
 * @param value - the option as given
 * @param option - its name, shown in the error
 * @param methods - the methods the option calls; default those of a full `GatewayTelemetry`
 *
 * @example
 * ```ts
 * import { requireTelemetryOption } from '@gatewayz/telemetry/scheduling';
 *
 * requireTelemetryOption(options.telemetry, 'telemetry', ['set', 'add']);
 * // Invalid option "telemetry": expected an object with set(), add(), got an object without add()
 * ```
 */
export function requireTelemetryOption(value: unknown, option: string, methods?: readonly string[]): void {
  if (value === undefined) return;
  const wanted = methods ?? GATEWAY_TELEMETRY_METHODS;
  /** What `candidate` lacks, shown in the message; undefined when it is what the option needs. */
  const lackOf = (candidate: unknown): string | undefined => {
    const missing = missingMethod(candidate, wanted);
    if (missing !== undefined) return `${missing}()`;
    return methods === undefined && typeof (candidate as { states?: unknown }).states !== 'object'
      ? 'states'
      : undefined;
  };
  const lacking = lackOf(value);
  if (lacking === undefined) return;
  const what = methods === undefined ? 'a GatewayTelemetry instance' : `an object with ${methods.join('(), ')}()`;
  const isObject = typeof value === 'object' && value !== null;
  const inner = isObject ? (value as { telemetry?: unknown }).telemetry : undefined;
  const hint =
    inner !== undefined && lackOf(inner) === undefined
      ? `; this looks like what startTelemetry() returns: pass its \`telemetry\` property (\`${option}: otel.telemetry\`)`
      : '';
  throw new TelemetryConfigurationError(
    option,
    `expected ${what}, got ${described(value)}${isObject ? ` without ${lacking}` : ''}${hint}`,
  );
}

/**
 * Check an option that takes a clock the code calls later, often from a timer where a missing method
 * would throw with nothing to catch it: throws a `TelemetryConfigurationError` naming `option`
 * unless `value` is undefined (not given) or an object with each of `methods` as a function, and
 * each of `optionalMethods` a function when present. Without `methods` it checks for a
 * `TrackerClock`: `now()`, `setTimeout()` and `clearTimeout()`, and `monotonicNow()` when present.
 * `null` is refused like any other wrong value.
 *
 * @param value - the option as given
 * @param option - its name, shown in the error
 * @param methods - what the clock must have; default `now`, `setTimeout` and `clearTimeout` (a `TrackerClock`)
 * @param optionalMethods - what must be a function when present; default `monotonicNow` when `methods`
 *   is left out, else none
 *
 * @example
 * ```ts
 * import { requireClockOption, systemClock, type TrackerClock } from '@gatewayz/telemetry/scheduling';
 *
 * requireClockOption(options.clock, 'clock');
 * const clock: TrackerClock = options.clock ?? systemClock;
 * ```
 */
export function requireClockOption(
  value: unknown,
  option: string,
  methods: readonly string[] = TRACKER_CLOCK_METHODS,
  optionalMethods: readonly string[] = methods === TRACKER_CLOCK_METHODS ? TRACKER_CLOCK_OPTIONAL_METHODS : [],
): void {
  if (value === undefined) return;
  const isObject = typeof value === 'object' && value !== null;
  const wrongOptional = isObject
    ? optionalMethods.find((method) => {
        const member = (value as Record<string, unknown>)[method];
        return member !== undefined && typeof member !== 'function';
      })
    : undefined;
  const missing = missingMethod(value, methods) ?? wrongOptional;
  if (missing === undefined) return;
  const optional = optionalMethods.length > 0 ? ` (and optionally ${optionalMethods.join('(), ')}())` : '';
  throw new TelemetryConfigurationError(
    option,
    `expected a clock with ${methods.join('(), ')}()${optional}, got ${described(value)}${isObject ? ` without ${missing}() as a function` : ''}`,
  );
}

/**
 * @internal Throw a `TelemetryConfigurationError` for `option` unless `value` is undefined (not
 * given) or a function; `expected` says what it should be, e.g. `a function returning a batch id`.
 */
export function requireFunctionOption(value: unknown, option: string, expected: string): void {
  if (value === undefined || typeof value === 'function') return;
  throw new TelemetryConfigurationError(option, `expected ${expected}, got ${described(value)}`);
}
