/**
 * Machine-readable codes carried by every error this library throws: `INVALID_OPTION`
 * (`TelemetryConfigurationError`), `INVALID_INPUT` (`TelemetryInputError`), `UNKNOWN_METRIC` and
 * `UNKNOWN_PRICING`.
 *
 * @example
 * ```ts
 * const code: TelemetryErrorCode = 'INVALID_OPTION';
 * if (error instanceof TelemetryError && error.code === code) process.exitCode = 1;
 * ```
 */
export type TelemetryErrorCode = 'INVALID_OPTION' | 'INVALID_INPUT' | 'UNKNOWN_METRIC' | 'UNKNOWN_PRICING';

/**
 * Base class of the errors this library throws. Errors are only thrown at configuration time, or on
 * the record path when `onInvalidInput: 'throw'` is chosen (useful in development and tests).
 *
 * @example
 * ```ts
 * try {
 *   configureTelemetry({ prefix: 'gatewayz-' }); // '-' is not allowed in a metric name
 * } catch (error) {
 *   if (error instanceof TelemetryError) console.error(error.code, error.message); // INVALID_OPTION …
 * }
 * ```
 */
export class TelemetryError extends Error {
  /** Name of the error class (`TelemetryError`; each subclass sets its own), shown in stack traces and logs. */
  override readonly name: string = 'TelemetryError';
  /** Machine-readable code; see `TelemetryErrorCode`. */
  readonly code: TelemetryErrorCode;

  /** Create an error with a machine-readable `code` and a human-readable `message`. */
  constructor(code: TelemetryErrorCode, message: string) {
    super(message);
    this.code = code;
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
  /** Always `TelemetryConfigurationError`. */
  override readonly name = 'TelemetryConfigurationError';
  /** The option at fault, e.g. `maxSeriesPerMetric` or `pricing.openai.gpt-4o-mini.inputPerMillionTokens`. */
  readonly option: string;

  /** Create the error for `option`; the message becomes `Invalid option "<option>": <message>`. */
  constructor(option: string, message: string) {
    super('INVALID_OPTION', `Invalid option "${option}": ${message}`);
    this.option = option;
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
}
