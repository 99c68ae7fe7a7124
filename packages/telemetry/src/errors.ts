/**
 * Machine-readable codes of the errors the core throws: `INVALID_OPTION`
 * (`TelemetryConfigurationError`) and `INVALID_INPUT` (`TelemetryInputError`). Errors of other
 * packages (such as `SupabaseModelHealthStoreError`) extend `TelemetryError` with codes of their own.
 *
 * @example
 * ```ts
 * const code: TelemetryErrorCode = 'INVALID_OPTION';
 * if (TelemetryError.isInstance(error) && error.code === code) process.exitCode = 1;
 * ```
 */
export type TelemetryErrorCode = 'INVALID_OPTION' | 'INVALID_INPUT';

// Brands recognised by `isInstance()`: a `Symbol.for` key is the same symbol in every copy of the
// package (its ESM and CJS builds, or two installed versions), where `instanceof` is not.
const ERROR_MARKER = '@gatewayz/telemetry.error';
const errorBrand = Symbol.for(ERROR_MARKER);
const CONFIGURATION_MARKER = `${ERROR_MARKER}.TelemetryConfigurationError`;
const configurationBrand = Symbol.for(CONFIGURATION_MARKER);
const INPUT_MARKER = `${ERROR_MARKER}.TelemetryInputError`;
const inputBrand = Symbol.for(INPUT_MARKER);

/**
 * Base class of the errors the `@gatewayz/telemetry*` packages throw: a stable `name`, a
 * machine-readable `code` and a message that says how to fix the problem. Recognise them with the
 * static `isInstance()` checks, which also hold across the ESM and CJS builds and across two copies
 * of a package, where `instanceof` does not. Errors are only thrown at configuration time, or on
 * the record path when `onInvalidInput: 'throw'` is chosen (useful in development and tests).
 *
 * @example
 * ```ts
 * try {
 *   configureTelemetry({ prefix: 'gatewayz-' }); // '-' is not allowed in a metric name
 * } catch (error) {
 *   if (TelemetryError.isInstance(error)) console.error(error.code, error.message); // INVALID_OPTION …
 * }
 * ```
 */
export class TelemetryError<Code extends string = TelemetryErrorCode> extends Error {
  private readonly [errorBrand] = true;
  /** Name of the error class (`TelemetryError`; each subclass sets its own), shown in stack traces and logs. */
  override readonly name: string = 'TelemetryError';
  /** Machine-readable code; see `TelemetryErrorCode`. */
  readonly code: Code;

  /** Create an error with a machine-readable `code`, a human-readable `message` and an optional `cause`. */
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Whether `value` is an error of the `@gatewayz/telemetry*` packages, from any build or copy of them. */
  static isInstance(value: unknown): value is TelemetryError<string> {
    return TelemetryError.hasMarker(value, ERROR_MARKER);
  }

  /** Whether `value` carries the brand `Symbol.for(marker)`: what each subclass's `isInstance()` checks. */
  protected static hasMarker(value: unknown, marker: string): boolean {
    const brand = Symbol.for(marker);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/**
 * A configuration option has a value that cannot work; the message says which and how to fix it.
 * Code `INVALID_OPTION`.
 *
 * @example
 * ```ts
 * new GatewayTelemetry({ maxSeriesPerMetric: 0 });
 * // throws TelemetryConfigurationError: Invalid option "maxSeriesPerMetric": expected a positive integer, got 0
 * ```
 */
export class TelemetryConfigurationError extends TelemetryError {
  private readonly [configurationBrand] = true;
  /** Always `TelemetryConfigurationError`. */
  override readonly name = 'TelemetryConfigurationError';
  /** The option at fault, e.g. `maxSeriesPerMetric` or `pricing.openai.gpt-4o-mini.inputPerMillionTokens`. */
  readonly option: string;

  /** Create the error for `option`; the message becomes `Invalid option "<option>": <message>`. */
  constructor(option: string, message: string) {
    super('INVALID_OPTION', `Invalid option "${option}": ${message}`);
    this.option = option;
  }

  /** Whether `value` is a `TelemetryConfigurationError`, from any build or copy of the package. */
  static override isInstance(value: unknown): value is TelemetryConfigurationError {
    return TelemetryError.hasMarker(value, CONFIGURATION_MARKER);
  }
}

/**
 * @internal Throw a `TelemetryConfigurationError` for `option` unless `value` is an object (not
 * `null`, not an array): what a constructor or `start*()` function reads its options from. Options
 * passed from plain JavaScript then fail with the option named instead of a `TypeError` from inside.
 */
export function requireOptionsObject(value: unknown, option: string, expected: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new TelemetryConfigurationError(option, `expected ${expected}, got ${got}`);
  }
}

/**
 * A value or label was rejected. The metric helpers throw it only with `onInvalidInput: 'throw'`
 * (by default they drop and count bad input); model-health validation (`validateModelCall`, the
 * query validators and the stores built on them) always throws or rejects with it. Code
 * `INVALID_INPUT`.
 *
 * @example
 * ```ts
 * const telemetry = new GatewayTelemetry({ onInvalidInput: 'throw' });
 * telemetry.recordProviderResponseTime('openai', -0.2);
 * // throws TelemetryInputError with reason 'out_of_range' and metric 'provider_response_time_seconds'
 * ```
 */
export class TelemetryInputError extends TelemetryError {
  private readonly [inputBrand] = true;
  /** Always `TelemetryInputError`. */
  override readonly name = 'TelemetryInputError';
  /** Why the input was rejected: a `DropReason` such as `out_of_range` or `label_too_long`. */
  readonly reason: string;
  /** Instrument name of the metric the input was meant for, e.g. `provider_response_time_seconds`. */
  readonly metric: string;

  /** Create the error for an input to `metric` rejected for `reason`. */
  constructor(metric: string, reason: string, message: string) {
    super('INVALID_INPUT', message);
    this.metric = metric;
    this.reason = reason;
  }

  /** Whether `value` is a `TelemetryInputError`, from any build or copy of the package. */
  static override isInstance(value: unknown): value is TelemetryInputError {
    return TelemetryError.hasMarker(value, INPUT_MARKER);
  }
}
