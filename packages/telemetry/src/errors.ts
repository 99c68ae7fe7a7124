/** Machine-readable codes carried by every error this library throws. */
export type TelemetryErrorCode = 'INVALID_OPTION' | 'INVALID_INPUT' | 'UNKNOWN_METRIC' | 'UNKNOWN_PRICING';

/**
 * Base class of the errors this library throws. Errors are only thrown at configuration time, or on
 * the record path when `onInvalidInput: 'throw'` is chosen (useful in development and tests).
 */
export class TelemetryError extends Error {
  override readonly name: string = 'TelemetryError';
  readonly code: TelemetryErrorCode;

  constructor(code: TelemetryErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A configuration option has a value that cannot work; the message says which and how to fix it. */
export class TelemetryConfigurationError extends TelemetryError {
  override readonly name = 'TelemetryConfigurationError';
  readonly option: string;

  constructor(option: string, message: string) {
    super('INVALID_OPTION', `Invalid option "${option}": ${message}`);
    this.option = option;
  }
}

/** A recorded value or label was rejected. Thrown only with `onInvalidInput: 'throw'`. */
export class TelemetryInputError extends TelemetryError {
  override readonly name = 'TelemetryInputError';
  readonly reason: string;
  readonly metric: string;

  constructor(metric: string, reason: string, message: string) {
    super('INVALID_INPUT', message);
    this.metric = metric;
    this.reason = reason;
  }
}
