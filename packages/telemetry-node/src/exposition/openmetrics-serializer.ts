import { escapePrometheusText, type Exemplar, type ExemplarSlots } from '@gatewayz/telemetry/metrics';
import { DataPointType, type DataPoint, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ExemplarDataPoint } from './exemplar-data-point.js';
import type { SerializeOptions } from './prometheus-serializer.js';
import {
  POINTS_PER_CHUNK,
  baseName,
  forEachExponentialBucket,
  formatLabels,
  formatValue,
  isCounter,
  metricTypeOf,
  pointLabels,
  scopeLabelsOf,
} from './prometheus-serializer.js';
import { SeriesOfFamily, expositionFamilies, type ExpositionFamily } from './exposition-families.js';

/**
 * `Content-Type` of the OpenMetrics 1.0 text format, sent when the `Accept` header asks for it.
 *
 * @example
 * ```ts
 * res.writeHead(200, { 'content-type': OPENMETRICS_CONTENT_TYPE }).end(serializeOpenMetrics(resourceMetrics));
 * ```
 */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

function familyName(metric: MetricData): string {
  const name = baseName(metric);
  // A counter family is named without `_total`; its sample carries the suffix.
  return isCounter(metric) && name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
}

/**
 * Escape a `# HELP` text as OpenMetrics writes an escaped-string: backslash, line feed and, unlike
 * the classic format, the double quote.
 */
function escapeHelp(text: string): string {
  return escapePrometheusText(text).replace(/"/g, '\\"');
}

function braced(labels: string): string {
  return labels.length > 0 ? `{${labels}}` : '';
}

function seconds(hrTime: DataPoint<unknown>['startTime']): string {
  return formatValue(hrTimeToMilliseconds(hrTime) / 1000);
}

/** OpenMetrics wants floats in `le` written as floats: `1.0`, not `1`. */
function leValue(bound: number): string {
  if (bound === Infinity) return '+Inf';
  const text = String(bound);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** ` # {trace_id,span_id} value timestamp`; an empty label set for an exemplar without a trace (`always_on`). */
function exemplarSuffix(exemplar: Exemplar | undefined): string {
  if (exemplar === undefined) return '';
  const labels =
    exemplar.traceId === undefined || exemplar.spanId === undefined
      ? '{}'
      : `{trace_id="${exemplar.traceId}",span_id="${exemplar.spanId}"}`;
  return ` # ${labels} ${formatValue(exemplar.value)} ${exemplar.timestampSeconds.toFixed(3)}`;
}

/**
 * The exemplar of each exposed bucket, placed by its value: on the first bucket whose upper bound
 * is at least the value, `+Inf` (index `bounded`) above the first `bounded` bounds; the newest when
 * several land in one bucket. The slot an exemplar sat in says nothing here: it was bucketed by the
 * bounds of whoever captured it, and a point's own bounds (a View's, a caller's) may differ.
 */
function exemplarsByBucket(
  exemplars: ExemplarSlots | undefined,
  boundaries: readonly number[],
  bounded: number,
): Array<Exemplar | undefined> | undefined {
  if (exemplars === undefined) return undefined;
  let placed: Array<Exemplar | undefined> | undefined;
  for (const exemplar of exemplars.slots) {
    // NaN is in no bucket: no bound is at least NaN.
    if (exemplar === undefined || Number.isNaN(exemplar.value)) continue;
    let low = 0;
    let high = bounded;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((boundaries[middle] as number) < exemplar.value) low = middle + 1;
      else high = middle;
    }
    placed ??= new Array<Exemplar | undefined>(bounded + 1).fill(undefined);
    const current = placed[low];
    if (current === undefined || exemplar.timestampSeconds > current.timestampSeconds) placed[low] = exemplar;
  }
  return placed;
}

function* familyChunks(family: ExpositionFamily, options: SerializeOptions): Generator<string> {
  const { name, type } = family;
  const first = (family.parts[0] as ExpositionFamily['parts'][number]).metric;
  let text = `# TYPE ${name} ${type}\n# HELP ${name} ${escapeHelp(first.descriptor.description || 'description missing')}\n`;
  const series = new SeriesOfFamily(family, 'openmetrics', options.onDrop);
  let points = 0;
  for (const part of family.parts) {
    const scopeLabels = scopeLabelsOf(part.scope, options.withScopeInfo === true, false);
    for (const chunk of partLines(part.metric, name, type, scopeLabels, (labels) => series.admit(part, labels))) {
      text += chunk;
      if (++points % POINTS_PER_CHUNK === 0) {
        yield text;
        text = '';
      }
    }
  }
  if (text !== '') yield text;
}

/** The lines of one instrument's points in a family, one string per point. */
function* partLines(
  metric: MetricData,
  name: string,
  type: string,
  scopeLabels: string,
  admit: (labels: string) => boolean,
): Generator<string> {
  if (metric.dataPointType === DataPointType.HISTOGRAM) {
    for (const point of metric.dataPoints) {
      const histogram = point.value;
      const labels = pointLabels(point.attributes, scopeLabels);
      if (!admit(labels)) continue;
      const prefix = labels.length > 0 ? `${name}_bucket{${labels},le="` : `${name}_bucket{le="`;
      const { boundaries, counts } = histogram.buckets;
      // The bounds written below: every bound that has a count, then `+Inf`.
      const bounded = Math.min(boundaries.length, counts.length);
      const exemplars = exemplarsByBucket((point as ExemplarDataPoint).exemplars, boundaries, bounded);
      let text = '';
      let cumulative = 0;
      let infinite = false;
      for (let index = 0; index < counts.length && !infinite; index++) {
        cumulative += counts[index] as number;
        const upper = index < boundaries.length ? (boundaries[index] as number) : Infinity;
        // Counts past the first unbounded bucket (a malformed point) are in `+Inf` too, written once.
        if (upper === Infinity) {
          infinite = true;
          for (let rest = index + 1; rest < counts.length; rest++) cumulative += counts[rest] as number;
        }
        text += `${prefix}${leValue(upper)}"} ${formatValue(cumulative)}${exemplarSuffix(exemplars?.[index])}\n`;
      }
      if (!infinite) text += `${prefix}+Inf"} ${formatValue(cumulative)}${exemplarSuffix(exemplars?.[bounded])}\n`;
      text += `${name}_count${braced(labels)} ${formatValue(histogram.count)}\n`;
      if (histogram.sum !== undefined) text += `${name}_sum${braced(labels)} ${formatValue(histogram.sum)}\n`;
      yield `${text}${name}_created${braced(labels)} ${seconds(point.startTime)}\n`;
    }
    return;
  }
  if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
    for (const point of metric.dataPoints) {
      const histogram = point.value;
      const labels = pointLabels(point.attributes, scopeLabels);
      if (!admit(labels)) continue;
      const prefix = labels.length > 0 ? `${name}_bucket{${labels},le="` : `${name}_bucket{le="`;
      let text = '';
      let negative = false;
      forEachExponentialBucket(histogram, (upper, cumulative) => {
        if (upper < 0) negative = true;
        text += `${prefix}${leValue(upper)}"} ${formatValue(cumulative)}\n`;
      });
      // OpenMetrics: a histogram with negative buckets has no sum (it would be no counter), and a
      // count only beside a sum.
      if (!negative) {
        text += `${name}_count${braced(labels)} ${formatValue(histogram.count)}\n`;
        if (histogram.sum !== undefined) text += `${name}_sum${braced(labels)} ${formatValue(histogram.sum)}\n`;
      }
      yield `${text}${name}_created${braced(labels)} ${seconds(point.startTime)}\n`;
    }
    return;
  }
  for (const point of metric.dataPoints) {
    const labels = pointLabels(point.attributes, scopeLabels);
    if (!admit(labels)) continue;
    if (type === 'counter') {
      yield `${name}_total${braced(labels)} ${formatValue(point.value)}\n${name}_created${braced(labels)} ${seconds(point.startTime)}\n`;
    } else {
      yield `${name}${braced(labels)} ${formatValue(point.value)}\n`;
    }
  }
}

/**
 * Serialise collected metrics in the OpenMetrics 1.0 text format: counters as `_total` with
 * `_created`, histograms with `_created` and, per bucket, the latest exemplar captured inside a
 * sampled span (`# {trace_id="…",span_id="…"} value timestamp`), `target_info` as an info metric,
 * and the closing `# EOF`. Instruments of several scopes with one family name and type are one
 * family; one whose name collides with another family's is left out (see `expositionFamilies`).
 *
 * @example
 * ```ts
 * const { resourceMetrics } = await exporter.collect();
 * res.writeHead(200, { 'content-type': OPENMETRICS_CONTENT_TYPE }).end(serializeOpenMetrics(resourceMetrics));
 * ```
 */
export function serializeOpenMetrics(resourceMetrics: ResourceMetrics, options: SerializeOptions = {}): string {
  return [...openMetricsChunks(resourceMetrics, options)].join('');
}

/**
 * The exposition of `serializeOpenMetrics` in pieces of at most `POINTS_PER_CHUNK` data points.
 *
 * @example
 * ```ts
 * for (const chunk of openMetricsChunks(resourceMetrics, { filter: index.filterFor('models') })) {
 *   if (!res.write(chunk)) await once(res, 'drain');
 * }
 * res.end();
 * ```
 */
export function* openMetricsChunks(
  resourceMetrics: ResourceMetrics,
  options: SerializeOptions = {},
): Generator<string> {
  if (!options.withoutTargetInfo) {
    yield `# TYPE target info\n# HELP target Target metadata\ntarget_info${braced(formatLabels(resourceMetrics.resource.attributes))} 1\n`;
  }
  const families = expositionFamilies(
    resourceMetrics,
    'openmetrics',
    familyName,
    (metric) => metricTypeOf(metric, 'unknown'),
    options.filter,
    options.onDrop,
    !options.withoutTargetInfo,
  );
  for (const family of families) yield* familyChunks(family, options);
  yield '# EOF\n';
}
