import { attributionMetrics, type AttributionMetrics } from '../attribution/attribution-metrics.js';
import type { BusinessMetrics } from '../gateway-metrics/business-metrics.js';
import { businessMetrics } from '../gateway-metrics/business-metrics.js';
import { modelMetrics, type ModelMetrics } from '../gateway-metrics/model-metrics.js';
import { serverMetrics, type ServerMetrics } from '../gateway-metrics/server-metrics.js';
import { genAiMetrics, type GenAiMetrics } from '../genai/genai-metrics.js';
import { providerMetrics, type ProviderMetrics } from '../provider-health/provider-metrics.js';
import { rateLimitMetrics, type RateLimitMetrics } from '../rate-limits/rate-limit-metrics.js';
import { keepRateLimitWindows } from '../rate-limits/rate-limit-windows.js';
import { MetricRecorder } from './metric-recorder.js';
import type { GatewayTelemetryOptions } from './recorder-types.js';
import { seriesRemoval, type SeriesRemoval } from './series-removal.js';

/**
 * Typed recording helpers over one set of OpenTelemetry instruments derived from the metric
 * catalog: the generic machinery of `MetricRecorder` plus one typed helper per metric, each defined
 * next to its domain (`provider-health/provider-metrics.ts`, `gateway-metrics/*-metrics.ts`,
 * `genai/genai-metrics.ts`) and installed here.
 *
 * Counters and gauges are aggregated in-process (a number per label set) and reported through
 * observable instruments at collection time, so the record path is a map lookup and an addition.
 * Histograms record into the SDK's histogram with a cached attribute object. Invalid input is
 * dropped and counted in `gatewayz_telemetry_dropped_total{reason,metric}`; it never throws unless
 * `onInvalidInput: 'throw'`.
 *
 * @example
 * ```ts
 * const telemetry = new GatewayTelemetry({ meterProvider });
 * telemetry.recordProviderResponseTime('openai', 0.42);
 * telemetry.incrementCostByProvider('openai', 0.0031);
 * telemetry.setCircuitBreakerState('openai', 'open');
 * telemetry.removeGaugeSeries('modelUptime24h', { model: 'gpt-4-0314' }); // a model no longer served
 * ```
 */
// The domain helpers are plain methods on the prototype (installed below): a call is as direct as
// a class method's. The interface declares them; each is implemented once, in its domain's file.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class GatewayTelemetry extends MetricRecorder {
  /**
   * Validate `options` and, when a `meterProvider` is given (and `exportVia` is `instruments`),
   * create the instruments on it right away. Throws a `TelemetryConfigurationError` for options
   * that are not an object, a prefix that is not a valid metric name prefix, limits that are not
   * positive integers, an unknown `exportVia` or `onInvalidInput`, an `exemplars` that is not a
   * boolean or an exemplar filter, a `semconvStabilityOptIn` that is not a string, a `captureGenAiContent` that is not a
   * boolean or a capture mode, an `emitGenAiEvents` that is not a boolean or a `genAiContentMaxLength`
   * that is not a positive integer, a `meterProvider` without `getMeter()`,
   * or a `continueFrom` that is not an instance or is already bound to a meter provider.
   */
  constructor(options: GatewayTelemetryOptions = {}) {
    super(options);
    // At construction rather than on the first recordRateLimits(): an instance that continues
    // another (`continueFrom`) counts down the rate-limit series it took over before recording any.
    keepRateLimitWindows(this);
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface GatewayTelemetry
  extends
    ProviderMetrics,
    ModelMetrics,
    GenAiMetrics,
    BusinessMetrics,
    AttributionMetrics,
    ServerMetrics,
    RateLimitMetrics,
    SeriesRemoval {}
Object.assign(
  GatewayTelemetry.prototype,
  providerMetrics,
  modelMetrics,
  genAiMetrics,
  businessMetrics,
  attributionMetrics,
  serverMetrics,
  rateLimitMetrics,
  seriesRemoval,
);
