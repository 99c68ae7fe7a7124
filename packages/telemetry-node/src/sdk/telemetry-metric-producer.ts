import { ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { PACKAGE_NAME, PACKAGE_VERSION, type GatewayTelemetry } from '@gatewayz/telemetry';
import type { MetricDefinition, SeriesCell } from '@gatewayz/telemetry/metrics';
import type { ExemplarDataPoint } from '../exposition/exemplar-data-point.js';

function metricDataOf(
  name: string,
  definition: MetricDefinition,
  cells: readonly SeriesCell[],
  startTime: DataPoint<unknown>['startTime'],
  endTime: DataPoint<unknown>['endTime'],
): MetricData | undefined {
  const descriptor = { name, description: definition.description, unit: definition.unit, valueType: ValueType.DOUBLE };
  if (definition.kind === 'histogram') {
    const boundaries = [...(definition.buckets ?? [])];
    const dataPoints: ExemplarDataPoint[] = [];
    for (const cell of cells) {
      const histogram = cell.histogram;
      if (histogram === undefined) continue;
      dataPoints.push({
        startTime,
        endTime,
        attributes: cell.attributes,
        value: {
          buckets: { boundaries, counts: [...histogram.counts] },
          count: histogram.count,
          sum: histogram.sum,
          min: histogram.min,
          max: histogram.max,
        },
        ...(cell.exemplars !== undefined ? { exemplars: cell.exemplars } : {}),
      });
    }
    if (dataPoints.length === 0) return undefined;
    return {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints,
    };
  }
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
 * metric data, so recording never enters the SDK. Each histogram point carries its series'
 * exemplars (see `ExemplarDataPoint`) for the OpenMetrics exposition. Register it with a metric reader —
 * `startTelemetry()` does so with its Prometheus exporter; an OTLP `PeriodicExportingMetricReader`
 * takes it the same way.
 *
 * @example
 * ```ts
 * const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
 * const reader = new PeriodicExportingMetricReader({ exporter, metricProducers: [createTelemetryMetricProducer(telemetry)] });
 * ```
 */
export function createTelemetryMetricProducer(telemetry: GatewayTelemetry): MetricProducer {
  const startTime = millisToHrTime(telemetry.startTimeMs);
  return {
    async collect(): Promise<CollectionResult> {
      const endTime = millisToHrTime(Date.now());
      const metrics: MetricData[] = [];
      for (const { name, definition, cells } of telemetry.exportableMetrics()) {
        const data = metricDataOf(name, definition, cells, startTime, endTime);
        if (data !== undefined) metrics.push(data);
      }
      return {
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: [{ scope: { name: PACKAGE_NAME, version: PACKAGE_VERSION }, metrics }],
        },
        errors: [],
      };
    },
  };
}
