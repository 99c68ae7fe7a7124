/**
 * The OTLP metrics push: a `PeriodicExportingMetricReader` around the maintained OTLP exporter
 * (HTTP protobuf or JSON, or gRPC), fed by the helpers' own producer in the temporality the exporter
 * asks for. Every export that fails is reported to `onExportFailure` (the caller counts it); the
 * exporter holds no queue, so a backend that is down costs one bounded request per interval.
 */
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  InstrumentType,
  PeriodicExportingMetricReader,
  type AggregationOption,
  type AggregationTemporalitySelector,
  type MetricData,
  type MetricProducer,
  type PeriodicExportingMetricReaderOptions,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { FlushDeadline } from '../flush/flush-deadline.js';
import { FlushFailureWatch, exportFailure } from '../flush/flush-failures.js';
import type { MetricsTemporalityPreference, ResolvedOtlpMetrics } from './metrics-export-config.js';
import { TemporalityMetricProducer } from './temporality-metric-producer.js';
import type { ExemplarLookup } from './exemplar-serializer.js';
import { createOtlpMetricExporter } from './otlp-metric-exporter.js';

const DEFAULT_AGGREGATION: AggregationOption = { type: AggregationType.DEFAULT };

/**
 * Why an export failed, as the `reason` label of the failure counter; `rejected`: the backend
 * accepted the request but rejected some of its data points (an OTLP partial success).
 */
export type MetricsExportFailureReason = 'timeout' | 'http_error' | 'network_error' | 'exporter_error' | 'rejected';

/** The specification's temporality per instrument type for each preference (used for a custom exporter without its own). */
function selectorFor(preference: MetricsTemporalityPreference): AggregationTemporalitySelector {
  return (type) => {
    if (preference === 'cumulative') return AggregationTemporality.CUMULATIVE;
    if (type === InstrumentType.UP_DOWN_COUNTER || type === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER)
      return AggregationTemporality.CUMULATIVE;
    if (
      preference === 'lowmemory' &&
      (type === InstrumentType.OBSERVABLE_COUNTER ||
        type === InstrumentType.GAUGE ||
        type === InstrumentType.OBSERVABLE_GAUGE)
    )
      return AggregationTemporality.CUMULATIVE;
    return AggregationTemporality.DELTA;
  };
}

/** gRPC's status codes for a call past its deadline and for a server it could not reach or lost. */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** A gRPC call's failure (`ServiceError` of `@grpc/grpc-js`): a status code, details and metadata. */
function isGrpcError(error: Error): error is Error & { code: number; details: string } {
  const fields = error as { code?: unknown; details?: unknown; metadata?: unknown };
  return typeof fields.code === 'number' && typeof fields.details === 'string' && fields.metadata !== undefined;
}

function failureReason(error: Error | undefined): MetricsExportFailureReason {
  if (error === undefined) return 'exporter_error';
  const text = `${error.name} ${error.message}`.toLowerCase();
  if (isGrpcError(error)) {
    if (error.code === GRPC_DEADLINE_EXCEEDED) return 'timeout';
    // UNAVAILABLE is also a status a server may answer; the client's own says it found no connection.
    if (error.code === GRPC_UNAVAILABLE && /no connection established|connect|dns|resolution/i.test(error.details))
      return 'network_error';
    // Any other status is the backend's answer, as an HTTP error status is.
    return 'http_error';
  }
  // An HTTP status first: a collector's 504 says "Gateway Timeout", and is its answer.
  if ('code' in error && typeof (error as { code?: unknown }).code === 'number') return 'http_error';
  if (text.includes('timeout') || text.includes('timed out')) return 'timeout';
  // A retryable status (429, 502, 503, 504) still answered after the retries the timeout allows:
  // the exporter reports it without the status code.
  if (error instanceof OTLPExporterError && /retryable status/i.test(error.message)) return 'http_error';
  if (/econnrefused|econnreset|enotfound|ehostunreach|socket|network/.test(text)) return 'network_error';
  // A refused TLS handshake (a certificate the CA did not sign, a client certificate the collector
  // requires): no request was answered, as over gRPC, where the client reports it as no connection.
  const code = (error as { code?: unknown }).code;
  if (/certificate|cert_|ssl|tls/.test(`${text} ${typeof code === 'string' ? code.toLowerCase() : ''}`))
    return 'network_error';
  return 'exporter_error';
}

/** A delta the SDK's own aggregation made (runtime, host instruments): a refused push loses it. */
function isLostWhenRefused(metric: MetricData, producer: TemporalityMetricProducer): boolean {
  return (
    metric.dataPointType !== DataPointType.GAUGE &&
    metric.aggregationTemporality === AggregationTemporality.DELTA &&
    !producer.givesBack(metric)
  );
}

/**
 * Forwards to the real exporter, settles the delta baselines of `producer` with the outcome and
 * reports failures. The exporter's aggregation and temporality choices stay the exporter's.
 */
class SettlingMetricExporter implements PushMetricExporter {
  /** The collection number of the newest push accepted. */
  private newestAccepted = 0;

  constructor(
    private readonly inner: PushMetricExporter,
    private readonly producer: TemporalityMetricProducer,
    private readonly selector: AggregationTemporalitySelector,
    private readonly onExportFailure: (
      reason: MetricsExportFailureReason,
      error: Error | undefined,
      superseded: () => boolean,
    ) => void,
    private readonly onExportSuccess: () => void,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const token = this.producer.pendingToken();
    const collection = this.producer.collections;
    const sent = metrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const resendable = !sent.some((metric) => isLostWhenRefused(metric, this.producer));
    const givesBack = sent.some((metric) => this.producer.givesBack(metric));
    let settled = false;
    const finish = (result: ExportResult): void => {
      if (settled) return;
      settled = true;
      const accepted = result.code === ExportResultCode.SUCCESS;
      this.producer.settle(token, accepted);
      if (accepted) {
        this.newestAccepted = Math.max(this.newestAccepted, collection);
        this.onExportSuccess();
      } else {
        // Its data reached the backend once a push collected later is accepted: cumulative values
        // are superseded by any; handed-back counts go out with a collection made after this answer.
        const carriedBy = givesBack ? this.producer.collections : collection;
        const superseded = (): boolean => resendable && this.newestAccepted > carriedBy;
        this.onExportFailure(failureReason(result.error), result.error, superseded);
      }
      resultCallback(result);
    };
    try {
      this.inner.export(metrics, finish);
    } catch (error) {
      finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
    return this.selector(type);
  }

  selectAggregation(type: InstrumentType): AggregationOption {
    return this.inner.selectAggregation?.(type) ?? DEFAULT_AGGREGATION;
  }
}

/**
 * A metric reader pushing everything over OTLP (HTTP or gRPC) every `exportIntervalMillis`: the SDK's own
 * instruments (runtime, host) and the helpers' in-process series from `producer`, in the
 * temporality the exporter prefers. `onExportFailure` is called once per failed export.
 *
 * @example
 * ```ts
 * const reader = createOtlpMetricsReader(resolved.otlp, createTelemetryMetricProducer(telemetry), (reason) =>
 *   telemetry.add('telemetryExportFailures', 1, { signal: 'metrics', reason }),
 * );
 * ```
 */
export function createOtlpMetricsReader(
  config: ResolvedOtlpMetrics,
  producer: MetricProducer,
  onExportFailure: (reason: MetricsExportFailureReason, error: Error | undefined) => void,
  exemplars: ExemplarLookup = () => undefined,
): PeriodicExportingMetricReader {
  // One warning when exports start failing (or fail differently), not one per interval.
  let warnedReason: MetricsExportFailureReason | undefined;
  const flushFailures = new FlushFailureWatch();
  const reportFailure = (
    reason: MetricsExportFailureReason,
    error: Error | undefined,
    superseded?: () => boolean,
  ): void => {
    flushFailures.record(exportFailure(`metrics not exported (${reason})`, error), superseded);
    if (reason !== warnedReason) {
      warnedReason = reason;
      diag.warn(
        `@gatewayz/telemetry-node: OTLP metrics export to ${config.url} failed (${reason}); counted in gatewayz_telemetry_export_failures_total{signal="metrics"} (its prefix is the one configured)`,
        error?.message,
      );
    }
    onExportFailure(reason, error);
  };
  // A partial success is reported while its response is read, just before the export's success.
  let partialSuccess = false;
  // The reader's flushes bound the transport's exports: one export timeout per flush.
  const flushDeadline = new FlushDeadline();
  const inner =
    config.exporter ??
    createOtlpMetricExporter(
      config,
      exemplars,
      (rejected) => {
        partialSuccess = true;
        reportFailure(
          'rejected',
          new Error(
            `the backend rejected ${rejected.count} data point${rejected.count === 1 ? '' : 's'}: ${rejected.errorMessage || '(no message)'}`,
          ),
        );
      },
      flushDeadline,
    );
  const selector: AggregationTemporalitySelector =
    inner.selectAggregationTemporality !== undefined
      ? (type) => inner.selectAggregationTemporality!(type)
      : selectorFor(config.temporalityPreference);
  const temporal = new TemporalityMetricProducer(producer, selector);
  const exporter = new SettlingMetricExporter(inner, temporal, selector, reportFailure, () => {
    if (!partialSuccess) warnedReason = undefined;
    partialSuccess = false;
  });
  return new FlushReportingMetricReader(
    {
      exporter,
      exportIntervalMillis: config.exportIntervalMillis,
      exportTimeoutMillis: config.exportTimeoutMillis,
      metricProducers: [temporal],
    },
    flushFailures,
    flushDeadline,
  );
}

/**
 * The SDK's periodic reader, except that `forceFlush()` (and so `shutdown()`) rejects when an
 * export failed while it ran: the SDK's reader only hands the failure to the global error handler,
 * and the specification asks `ForceFlush` to let its caller know whether it succeeded. A scheduled
 * push that failed is not reported when a push collected later (the flush's own) was accepted and
 * carried its data; a partial success, or SDK instruments' deltas in the failed push, still are.
 * A flush first waits for a scheduled push in flight; its own push then gets what is left of the
 * export timeout counted from the flush's start (through `flushDeadline`, which the transport
 * shares), so a flush ends within one timeout.
 */
class FlushReportingMetricReader extends PeriodicExportingMetricReader {
  constructor(
    options: PeriodicExportingMetricReaderOptions,
    private readonly failures: FlushFailureWatch,
    private readonly flushDeadline: FlushDeadline,
  ) {
    super(options);
  }

  /** Set by `shutdown()`, whose own flush must go on to shut the exporter down, and reports at the end. */
  private shuttingDown = false;

  protected override onForceFlush(): Promise<void> {
    if (this.shuttingDown) return super.onForceFlush();
    return this.flushDeadline.during(() => this.failures.during(() => super.onForceFlush()));
  }

  protected override onShutdown(): Promise<void> {
    this.shuttingDown = true;
    return this.flushDeadline.during(() => this.failures.during(() => super.onShutdown()));
  }
}
