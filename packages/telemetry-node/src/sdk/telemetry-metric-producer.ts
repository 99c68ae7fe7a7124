import { ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { PACKAGE_NAME, PACKAGE_VERSION, TelemetryConfigurationError, type GatewayTelemetry } from '@gatewayz/telemetry';
import { GEN_AI_SEMCONV_SCHEMA_URL } from '@gatewayz/telemetry/genai';
import type { ExemplarSlots, MetricDefinition, SeriesCell } from '@gatewayz/telemetry/metrics';
import type { ExemplarDataPoint } from '../exposition/exemplar-data-point.js';

/**
 * Options of {@link createTelemetryMetricProducer}.
 *
 * @example
 * ```ts
 * const options: TelemetryMetricProducerOptions = { histograms: 'exponential' };
 * ```
 */
export interface TelemetryMetricProducerOptions {
  /**
   * Which aggregation of the histograms to export: `explicit` (default), the catalog's buckets, or
   * `exponential`, the base-2 exponential histograms the instance keeps when created with
   * `exponentialHistograms` (a `TelemetryConfigurationError` otherwise).
   */
  readonly histograms?: 'explicit' | 'exponential';
}

type Time = DataPoint<unknown>['startTime'];

/** The point value of a series, or undefined when it has none of that kind. */
type PointValueOf = (cell: SeriesCell) => Histogram | ExponentialHistogram | undefined;

/** The explicit-bucket value of a series (the catalog's `boundaries`). */
const explicitValueOf =
  (boundaries: number[]): PointValueOf =>
  (cell) => {
    const histogram = cell.histogram;
    if (histogram === undefined) return undefined;
    const { count, sum, min, max } = histogram;
    return { buckets: { boundaries, counts: [...histogram.counts] }, count, sum, min, max };
  };

/** The base-2 exponential value of a series. */
const exponentialValueOf: PointValueOf = (cell) => {
  const histogram = cell.exponentialHistogram;
  if (histogram === undefined) return undefined;
  const { count, sum, min, max, scale, zeroCount, positive, negative } = histogram;
  return {
    count,
    sum,
    min,
    max,
    scale,
    zeroCount,
    positive: { offset: positive.offset, bucketCounts: [...positive.counts] },
    negative: { offset: negative.offset, bucketCounts: [...negative.counts] },
  };
};

function histogramDataOf(
  descriptor: MetricData['descriptor'],
  cells: readonly SeriesCell[],
  startTime: Time,
  endTime: Time,
  exponential: boolean,
  boundaries: number[],
): MetricData | undefined {
  const valueOf = exponential ? exponentialValueOf : explicitValueOf(boundaries);
  const dataPoints: Array<DataPoint<Histogram | ExponentialHistogram> & { exemplars?: ExemplarSlots }> = [];
  for (const cell of cells) {
    const value = valueOf(cell);
    if (value === undefined) continue;
    // The series' exemplars travel with its point, explicit or exponential.
    const exemplars = cell.exemplars !== undefined ? { exemplars: cell.exemplars } : {};
    dataPoints.push({ startTime, endTime, attributes: cell.attributes, value, ...exemplars });
  }
  if (dataPoints.length === 0) return undefined;
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  return exponential
    ? {
        descriptor,
        aggregationTemporality,
        dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
        dataPoints: dataPoints as Array<DataPoint<ExponentialHistogram>>,
      }
    : {
        descriptor,
        aggregationTemporality,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: dataPoints as ExemplarDataPoint[],
      };
}

function metricDataOf(
  name: string,
  definition: MetricDefinition,
  cells: readonly SeriesCell[],
  startTime: Time,
  endTime: Time,
  exponential: boolean,
): MetricData | undefined {
  const descriptor = { name, description: definition.description, unit: definition.unit, valueType: ValueType.DOUBLE };
  if (definition.kind === 'histogram')
    return histogramDataOf(descriptor, cells, startTime, endTime, exponential, [...(definition.buckets ?? [])]);
  if (cells.length === 0) return undefined;
  const dataPoints: Array<DataPoint<number>> = cells.map((cell) => ({
    startTime,
    endTime,
    attributes: cell.attributes,
    value: cell.value,
  }));
  if (definition.kind === 'gauge') {
    return {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints,
    };
  }
  return {
    descriptor,
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: definition.kind === 'counter',
    dataPoints,
  };
}

/**
 * A `MetricProducer` exporting a `GatewayTelemetry` created with `exportVia: 'producer'`: at each
 * collection it turns the in-process series (counters, gauges and histogram buckets) into cumulative
 * metric data, so recording never enters the SDK. With `histograms: 'exponential'` the histograms go
 * out as base-2 exponential histograms (the instance must keep them: `exponentialHistograms`). Each histogram point carries its series'
 * exemplars (see `ExemplarDataPoint`) for the OpenMetrics exposition. Register it with a metric reader —
 * `startTelemetry()` does so with its Prometheus exporter; an OTLP `PeriodicExportingMetricReader`
 * takes it the same way. Point times are the wall clock's, as the SDK's own, but never go back: a
 * step of the wall clock back (NTP correcting it) leaves them moving on from where they were, so a
 * point never ends before it starts and a delta never starts before the last one ended.
 *
 * @example
 * ```ts
 * const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
 * const reader = new PeriodicExportingMetricReader({ exporter, metricProducers: [createTelemetryMetricProducer(telemetry)] });
 * ```
 */
export function createTelemetryMetricProducer(
  telemetry: GatewayTelemetry,
  options: TelemetryMetricProducerOptions = {},
): MetricProducer {
  const histograms = options.histograms ?? 'explicit';
  if (histograms !== 'explicit' && histograms !== 'exponential')
    throw new TelemetryConfigurationError(
      'histograms',
      `expected "explicit" or "exponential", got "${String(histograms)}"`,
    );
  const exponential = histograms === 'exponential';
  if (exponential && telemetry.exponentialHistograms === undefined) {
    throw new TelemetryConfigurationError(
      'histograms',
      "exponential histograms need a GatewayTelemetry created with exportVia: 'producer' and exponentialHistograms",
    );
  }
  const startTime = millisToHrTime(telemetry.startTimeMs);
  // The clock startTimeMs and the exemplars were read from; a core older than this package (the
  // caret range allows one) has none, and its points keep to the wall clock.
  const pointClock = (telemetry as { readonly pointClock?: GatewayTelemetry['pointClock'] }).pointClock;
  return {
    async collect(): Promise<CollectionResult> {
      const endTime = millisToHrTime(pointClock !== undefined ? pointClock.nowMs() : Date.now());
      const metrics: MetricData[] = [];
      for (const { name, definition, cells } of telemetry.exportableMetrics()) {
        const data = metricDataOf(name, definition, cells, startTime, endTime, exponential);
        if (data !== undefined) metrics.push(data);
      }
      return {
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: [
            { scope: { name: PACKAGE_NAME, version: PACKAGE_VERSION, schemaUrl: GEN_AI_SEMCONV_SCHEMA_URL }, metrics },
          ],
        },
        errors: [],
      };
    },
  };
}
