import type { MeterProvider } from '@opentelemetry/api';
import { TelemetryConfigurationError } from '../errors.js';
import { genAiSemconvModeFrom, type GenAiSemconvMode } from '../genai/semconv-stability.js';
import {
  GEN_AI_CONTENT_CAPTURE_MODES,
  genAiContentCaptureOf,
  type GenAiContentCapture,
  type GenAiContentCaptureMode,
} from '../genai/content-capture.js';
import type { MetricRecorder } from './metric-recorder.js';
import { DEFAULT_METRIC_PREFIX } from './naming.js';
import type { GatewayTelemetryOptions } from './recorder-types.js';
import { exponentialLimitsOf, type ExponentialHistogramLimits } from './exponential-histogram.js';
import { EXEMPLAR_FILTERS, type ExemplarFilter } from './exemplars.js';

/** `GatewayTelemetryOptions` checked, with the defaults (or the continued instance's values) filled in. */
export interface ResolvedRecorderOptions {
  readonly previous: MetricRecorder | undefined;
  readonly meterProvider: MeterProvider | undefined;
  readonly prefix: string;
  readonly maxSeriesPerMetric: number;
  readonly maxLabelLength: number;
  /** As given; undefined when not given (the continued instance's value, or the default, applies). */
  readonly onInvalidInput: 'drop' | 'throw' | undefined;
  /** As given; undefined when not given (the continued instance's value, or the default, applies). */
  readonly exemplars: ExemplarFilter | undefined;
  readonly exportVia: 'instruments' | 'producer';
  /** The exponential aggregation's limits when on (the continued instance's when not given). */
  readonly exponentialHistograms: ExponentialHistogramLimits | undefined;
  readonly genAiSemconvMode: GenAiSemconvMode;
  readonly genAiContent: GenAiContentCapture;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Check the options of a `GatewayTelemetry` (or `configureTelemetry()`) and fill in the defaults.
 * Options are read from plain JavaScript too, so each is checked for its type as well as its range:
 * a wrong value throws a `TelemetryConfigurationError` naming the option, never a `TypeError` from
 * deep inside, and never a silently ignored setting.
 */
export function resolveRecorderOptions(given: GatewayTelemetryOptions | undefined): ResolvedRecorderOptions {
  if (given !== undefined && (!isObject(given) || Array.isArray(given))) {
    throw new TelemetryConfigurationError(
      'options',
      `expected an object of options (or nothing), got ${given === null ? 'null' : typeof given}`,
    );
  }
  const options: GatewayTelemetryOptions = given ?? {};
  let previous = options.continueFrom;
  if (previous !== undefined && (!isObject(previous) || !isObject((previous as { states?: unknown }).states))) {
    throw new TelemetryConfigurationError(
      'continueFrom',
      'expected a GatewayTelemetry instance whose series this one continues',
    );
  }
  // An instance continued already writes into its successor's series: continue the latest one.
  while (previous?.continuedBy !== undefined) previous = previous.continuedBy;
  if (previous !== undefined && previous.isBound) {
    throw new TelemetryConfigurationError(
      'continueFrom',
      'that instance (or the one that already continued it) reports to a meter provider; keep using it instead of continuing it',
    );
  }
  const meterProvider = options.meterProvider;
  if (meterProvider !== undefined && (!isObject(meterProvider) || typeof meterProvider.getMeter !== 'function')) {
    throw new TelemetryConfigurationError(
      'meterProvider',
      "expected an OpenTelemetry MeterProvider (an object with getMeter()), e.g. the SDK's MeterProvider",
    );
  }
  const prefix = options.prefix ?? previous?.prefix ?? DEFAULT_METRIC_PREFIX;
  if (typeof prefix !== 'string' || (prefix !== '' && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(prefix))) {
    throw new TelemetryConfigurationError(
      'prefix',
      `"${String(prefix)}" is not a valid metric name prefix; use letters, digits and underscores, e.g. "gatewayz_"`,
    );
  }
  const maxSeriesPerMetric = positiveInteger(
    'maxSeriesPerMetric',
    options.maxSeriesPerMetric,
    previous?.maxSeriesPerMetric ?? 2000,
  );
  const maxLabelLength = positiveInteger('maxLabelLength', options.maxLabelLength, previous?.maxLabelLength ?? 128);
  const onInvalidInput = options.onInvalidInput;
  if (onInvalidInput !== undefined && onInvalidInput !== 'drop' && onInvalidInput !== 'throw') {
    throw new TelemetryConfigurationError(
      'onInvalidInput',
      `expected "drop" or "throw", got "${String(options.onInvalidInput)}"`,
    );
  }
  const exemplars = exemplarFilterOf(options.exemplars);
  const exportVia = options.exportVia ?? 'instruments';
  if (exportVia !== 'instruments' && exportVia !== 'producer') {
    throw new TelemetryConfigurationError(
      'exportVia',
      `expected "instruments" or "producer", got "${String(options.exportVia)}"`,
    );
  }
  const exponentialHistograms =
    options.exponentialHistograms === undefined
      ? previous?.exponentialHistograms
      : exponentialLimitsOf(options.exponentialHistograms);
  if (exponentialHistograms !== undefined && exportVia !== 'producer') {
    throw new TelemetryConfigurationError(
      'exponentialHistograms',
      "needs exportVia: 'producer'; with instruments the SDK aggregates histograms (choose exponential ones with a View)",
    );
  }
  const optIn = options.semconvStabilityOptIn;
  if (optIn !== undefined && typeof optIn !== 'string') {
    throw new TelemetryConfigurationError(
      'semconvStabilityOptIn',
      `expected the comma list of OTEL_SEMCONV_STABILITY_OPT_IN as a string, got ${typeof optIn}`,
    );
  }
  const mode = captureModeOf(options.captureGenAiContent) ?? previous?.genAiContent.mode ?? 'no_content';
  const emitEvents = options.emitGenAiEvents;
  if (emitEvents !== undefined && typeof emitEvents !== 'boolean') {
    throw new TelemetryConfigurationError('emitGenAiEvents', `expected true or false, got ${shown(emitEvents)}`);
  }
  // A continued instance keeps an explicit event switch only when the mode is kept too.
  const previousEvents =
    options.captureGenAiContent === undefined && previous !== undefined ? previous.genAiContent.events : undefined;
  const maxLength =
    options.genAiContentMaxLength === undefined
      ? previous?.genAiContent.maxLength
      : positiveInteger('genAiContentMaxLength', options.genAiContentMaxLength, undefined);
  return {
    previous,
    meterProvider,
    prefix,
    maxSeriesPerMetric,
    maxLabelLength,
    onInvalidInput,
    exemplars,
    exportVia,
    exponentialHistograms,
    genAiSemconvMode: optIn !== undefined ? genAiSemconvModeFrom(optIn) : (previous?.genAiSemconvMode ?? 'default'),
    genAiContent: genAiContentCaptureOf(mode, emitEvents ?? previousEvents, maxLength),
  };
}

function positiveInteger(option: string, given: unknown, fallback: number | undefined): number {
  const value = given ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TelemetryConfigurationError(option, `expected a positive integer, got ${shown(given)}`);
  }
  return value;
}

/** A value as a message shows it: strings quoted, so `"10"` and `10` read differently. */
/** The `exemplars` option as a filter (`true`: trace_based, `false`: always_off); undefined when not given. */
function exemplarFilterOf(given: unknown): ExemplarFilter | undefined {
  if (given === undefined) return undefined;
  if (given === true) return 'trace_based';
  if (given === false) return 'always_off';
  if (EXEMPLAR_FILTERS.includes(given as ExemplarFilter)) return given as ExemplarFilter;
  throw new TelemetryConfigurationError(
    'exemplars',
    `expected true, false, "trace_based", "always_on" or "always_off", got ${shown(given)}`,
  );
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The capture mode `captureGenAiContent` names: `true` is `span_only`, `false` is `no_content`. */
function captureModeOf(given: unknown): GenAiContentCaptureMode | undefined {
  if (given === undefined) return undefined;
  if (given === true) return 'span_only';
  if (given === false) return 'no_content';
  if (typeof given === 'string' && (GEN_AI_CONTENT_CAPTURE_MODES as readonly string[]).includes(given))
    return given as GenAiContentCaptureMode;
  throw new TelemetryConfigurationError(
    'captureGenAiContent',
    `expected true, false or one of ${GEN_AI_CONTENT_CAPTURE_MODES.join(', ')}, got ${shown(given)}`,
  );
}
