import type { Attributes, AttributeValue } from '@opentelemetry/api';
import {
  DataPointType,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  escapePrometheusText,
  prometheusBaseName,
  prometheusExposedName,
  sanitizePrometheusName,
} from '@gatewayz/telemetry/metrics';
import {
  SeriesOfFamily,
  expositionFamilies,
  scopeAttributes,
  type ExpositionDrop,
  type ExpositionFamily,
} from './exposition-families.js';

/**
 * Options of {@link serializePrometheus}, {@link prometheusChunks}, {@link serializeOpenMetrics} and
 * {@link openMetricsChunks}.
 *
 * @example
 * ```ts
 * const options: SerializeOptions = { filter: (name) => name.startsWith('gatewayz_'), withoutTargetInfo: true };
 * const text = serializePrometheus(resourceMetrics, options);
 * ```
 */
export interface SerializeOptions {
  /** Keep only metrics whose instrument name passes. Default: all. */
  filter?: (instrumentName: string) => boolean;
  /** Add `otel_scope_name`/`otel_scope_version` labels to every series, as the stock exporter does by default. */
  withScopeInfo?: boolean;
  /** Omit the `target_info` series built from the resource. */
  withoutTargetInfo?: boolean;
  /**
   * Told of every instrument (or series) the exposition leaves out because its name collides with
   * another family's (see `ExpositionDrop`); called during serialisation, on every scrape.
   */
  onDrop?: (drop: ExpositionDrop) => void;
}

// The text format wants every line, the last included, ended by a line feed: without it promtool
// (and any parser built on the Go client's) refused an empty category endpoint as a truncated body.
const NO_REGISTERED_METRICS = '# no registered metrics\n';

/**
 * Label strings are cached per attributes object. The SDK hands back the attribute objects it was
 * given, and our helpers pass the same frozen object for a series every time, so a scrape of an
 * unchanged registry formats each label set once.
 */
const labelCache = new WeakMap<Attributes, string>();

function escapeLabelValue(value: AttributeValue | undefined): string {
  const text = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (!/[\\\n"]/.test(text)) return text;
  return escapePrometheusText(text).replace(/"/g, '\\"');
}

const sanitizedLabelNames = new Map<string, string>();
/**
 * An attribute key made a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`): other characters become `_`
 * (runs collapsed), and `_` goes in front of a leading digit, of an empty key and of the reserved
 * names `le` and `quantile` (`le` → `_le`). Resource attributes
 * come from `OTEL_RESOURCE_ATTRIBUTES`, where `1zone=a` is a legal key: written as is, it made every
 * scrape of the endpoint fail.
 */
function labelName(key: string): string {
  let name = sanitizedLabelNames.get(key);
  if (name === undefined) {
    name = sanitizePrometheusName(key);
    // `le` (histogram buckets) and `quantile` (summary quantiles) are reserved: an attribute `le` on a
    // histogram repeated the label and Prometheus refused the scrape; elsewhere promtool flags both.
    if (name.length === 0 || (name[0]! >= '0' && name[0]! <= '9') || name === 'le' || name === 'quantile')
      name = `_${name}`;
    if (sanitizedLabelNames.size < 10_000) sanitizedLabelNames.set(key, name);
  }
  return name;
}

/** Label names of the label set being formatted (reused: formatting is synchronous and allocates none). */
const namesSeen: string[] = [];

export function formatLabels(attributes: Attributes): string {
  let cached = labelCache.get(attributes);
  if (cached !== undefined) return cached;
  cached = '';
  namesSeen.length = 0;
  for (const key in attributes) {
    const name = labelName(key);
    if (namesSeen.includes(name)) {
      cached = formatCollidingLabels(attributes);
      break;
    }
    namesSeen.push(name);
    if (cached.length > 0) cached += ',';
    cached += `${name}="${escapeLabelValue(attributes[key])}"`;
  }
  labelCache.set(attributes, cached);
  return cached;
}

/**
 * Labels of attributes of which two or more keys sanitise to one label name (`a.b` and `a_b`): a
 * label name repeated in a series makes Prometheus refuse the whole scrape, so, as the OpenTelemetry
 * Prometheus compatibility specification says, their values are joined with `;` in the
 * lexicographical order of the original keys, under the first position the name took. A name in
 * `reserved` (a label the exposition adds itself) is written as `exported_<name>` (prefixed again
 * while that is taken), as Prometheus keeps a scraped label that clashes with a target label.
 */
function formatCollidingLabels(attributes: Attributes, reserved: readonly string[] = []): string {
  const byName = new Map<string, Array<[key: string, value: string]>>();
  for (const key in attributes) {
    const name = labelName(key);
    const text = escapeLabelValue(attributes[key]);
    const values = byName.get(name);
    if (values === undefined) byName.set(name, [[key, text]]);
    else values.push([key, text]);
  }
  let text = '';
  for (const [name, values] of byName) {
    values.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    let exposed = name;
    if (reserved.includes(name)) {
      exposed = `exported_${name}`;
      while (byName.has(exposed) || reserved.includes(exposed)) exposed = `exported_${exposed}`;
    }
    if (text.length > 0) text += ',';
    text += `${exposed}="${values.map(([, value]) => value).join(';')}"`;
  }
  return text;
}

/** The label names `withScopeInfo` adds (see `scopeAttributes`), all starting with {@link SCOPE_LABEL_PREFIX}. */
const SCOPE_LABEL_NAMES = ['otel_scope_name', 'otel_scope_schema_url', 'otel_scope_version'] as const;
const SCOPE_LABEL_PREFIX = 'otel_scope_';

/** Per attributes object, the labels last formatted beside a scope's labels that clash with them. */
const besideScopeCache = new WeakMap<Attributes, { readonly scopeLabels: string; readonly text: string }>();

/**
 * A point's labels followed by its scope's (`scopeLabels`, empty without `withScopeInfo`). The
 * scope's labels win: a point attribute that sanitises to one of their names (`otel.scope.name`) is
 * written as `exported_otel_scope_name`, where it used to repeat the label name and make Prometheus
 * refuse the whole scrape. Only label texts that name an `otel_scope_` label pay for the check.
 */
export function pointLabels(attributes: Attributes, scopeLabels: string): string {
  const own = formatLabels(attributes);
  if (scopeLabels.length === 0 || own.length === 0) return joinLabels(own, scopeLabels);
  // A label name starts the text or follows a comma; a value holding `,otel_scope_` only costs the exact check.
  if (!own.startsWith(SCOPE_LABEL_PREFIX) && !own.includes(`,${SCOPE_LABEL_PREFIX}`)) return `${own},${scopeLabels}`;
  const cached = besideScopeCache.get(attributes);
  if (cached !== undefined && cached.scopeLabels === scopeLabels) return cached.text;
  // An escaped value never holds `="` (its quotes are `\"`): these are the names the scope writes.
  const reserved = SCOPE_LABEL_NAMES.filter(
    (name) => scopeLabels.startsWith(`${name}="`) || scopeLabels.includes(`,${name}="`),
  );
  const text = joinLabels(formatCollidingLabels(attributes, reserved), scopeLabels);
  besideScopeCache.set(attributes, { scopeLabels, text });
  return text;
}

export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Whether collected data is a counter (a monotonic sum). */
/** An instrument name made a valid metric name: see `prometheusBaseName()`. */
export function baseName(metric: MetricData): string {
  return prometheusBaseName(metric.descriptor.name);
}

/** The exposed name of collected data: see `prometheusExposedName()`. */
export function exposedName(metric: MetricData): string {
  return prometheusExposedName(metric.descriptor.name, isCounter(metric));
}

export function isCounter(metric: MetricData): boolean {
  return metric.dataPointType === DataPointType.SUM && metric.isMonotonic;
}

/** The exposition type of collected data; `unknown` stands for what neither format can type. */
export function metricTypeOf(metric: MetricData, unknown: 'untyped' | 'unknown'): string {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      // Written with classic buckets (see `forEachExponentialBucket`).
      return 'histogram';
    default:
      return unknown;
  }
}

/**
 * Serialise collected metrics in the Prometheus text exposition format (0.0.4), producing the same
 * text as `@opentelemetry/exporter-prometheus` for the same data, faster, and optionally only for
 * the metrics a filter keeps (the per-category endpoints). Writes `# no registered metrics` when no
 * metric is left.
 *
 * @example
 * ```ts
 * const { resourceMetrics } = await exporter.collect();
 * res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(serializePrometheus(resourceMetrics));
 * ```
 */
export function serializePrometheus(resourceMetrics: ResourceMetrics, options: SerializeOptions = {}): string {
  return [...prometheusChunks(resourceMetrics, options)].join('');
}

/**
 * Data points per chunk of the streamed exposition: small enough to keep the event loop responsive.
 *
 * @example
 * ```ts
 * const maxPointsPerWrite = POINTS_PER_CHUNK; // 500
 * ```
 */
export const POINTS_PER_CHUNK = 500;

/**
 * The exposition of `serializePrometheus` in pieces of at most `POINTS_PER_CHUNK` data points, so a
 * large registry can be written to the response with the event loop free between pieces.
 *
 * @example
 * ```ts
 * for (const chunk of prometheusChunks(resourceMetrics, { filter: index.filterFor('providers') })) {
 *   if (!res.write(chunk)) await once(res, 'drain');
 * }
 * res.end();
 * ```
 */
export function* prometheusChunks(resourceMetrics: ResourceMetrics, options: SerializeOptions = {}): Generator<string> {
  if (!options.withoutTargetInfo) {
    const labels = formatLabels(resourceMetrics.resource.attributes);
    yield `# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info${labels.length > 0 ? `{${labels}}` : ''} 1\n`;
  }
  const families = expositionFamilies(
    resourceMetrics,
    'prometheus',
    exposedName,
    (metric) => metricTypeOf(metric, 'untyped'),
    options.filter,
    options.onDrop,
    !options.withoutTargetInfo,
  );
  for (const family of families) yield* familyChunks(family, options);
  if (families.length === 0) yield NO_REGISTERED_METRICS;
}

/** The scope labels of each part of a family (`withScopeInfo`), or '' for every part. */
export function scopeLabelsOf(
  scope: ExpositionFamily['parts'][number]['scope'],
  withScopeInfo: boolean,
  withSchemaUrl: boolean,
): string {
  return withScopeInfo ? formatLabels(scopeAttributes(scope, withSchemaUrl)) : '';
}

/** Join two label lists, either of which may be empty. */
export function joinLabels(own: string, extra: string): string {
  if (own.length === 0) return extra;
  if (extra.length === 0) return own;
  return `${own},${extra}`;
}

function* familyChunks(family: ExpositionFamily, options: SerializeOptions): Generator<string> {
  const { name } = family;
  const first = (family.parts[0] as ExpositionFamily['parts'][number]).metric;
  let text = `# HELP ${name} ${escapePrometheusText(first.descriptor.description || 'description missing')}\n`;
  if (first.descriptor.unit) text += `# UNIT ${name} ${escapePrometheusText(first.descriptor.unit)}\n`;
  text += `# TYPE ${name} ${family.type}\n`;
  const series = new SeriesOfFamily(family, 'prometheus', options.onDrop);
  let points = 0;
  for (const part of family.parts) {
    const { metric } = part;
    const scopeLabels = scopeLabelsOf(part.scope, options.withScopeInfo === true, true);
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      for (const point of metric.dataPoints) {
        const labels = pointLabels(point.attributes, scopeLabels);
        if (!series.admit(part, labels)) continue;
        text += serializeHistogramPoint(name, point, labels);
        if (++points % POINTS_PER_CHUNK === 0) {
          yield text;
          text = '';
        }
      }
    } else if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
      for (const point of metric.dataPoints) {
        const labels = pointLabels(point.attributes, scopeLabels);
        if (!series.admit(part, labels)) continue;
        text += serializeExponentialPoint(name, point, labels);
        if (++points % POINTS_PER_CHUNK === 0) {
          yield text;
          text = '';
        }
      }
    } else {
      for (const point of metric.dataPoints) {
        const labels = pointLabels(point.attributes, scopeLabels);
        if (!series.admit(part, labels)) continue;
        text += `${name}${labels.length > 0 ? `{${labels}}` : ''} ${formatValue(point.value)}\n`;
        if (++points % POINTS_PER_CHUNK === 0) {
          yield text;
          text = '';
        }
      }
    }
  }
  if (text !== '') yield text;
}

function serializeHistogramPoint(name: string, point: DataPoint<Histogram>, labels: string): string {
  const histogram = point.value;
  const braced = labels.length > 0 ? `{${labels}}` : '';
  let text = `${name}_count${braced} ${formatValue(histogram.count)}\n`;
  if (histogram.sum !== undefined) text += `${name}_sum${braced} ${formatValue(histogram.sum)}\n`;
  const prefix = labels.length > 0 ? `${name}_bucket{${labels},le="` : `${name}_bucket{le="`;
  const { boundaries, counts } = histogram.buckets;
  let cumulative = 0;
  for (let index = 0; index < counts.length; index++) {
    cumulative += counts[index] as number;
    const upper = boundaries[index];
    // Every count from the first unbounded bucket on is in `+Inf`, written once below.
    if (upper === undefined || upper === Infinity) continue;
    text += `${prefix}${String(upper)}"} ${formatValue(cumulative)}\n`;
  }
  // Also for a point with no count above its last bound, or one bounded by `Infinity` (from a
  // producer other than the SDK): `histogram_quantile()` reads the `+Inf` bucket as the total.
  return `${text}${prefix}+Inf"} ${formatValue(cumulative)}\n`;
}

/**
 * `base^index` of a base-2 exponential histogram at `scale` (`base = 2^(2^-scale)`): exact for every
 * scale ≤ 0 and for the powers of two of the others (one rounding otherwise).
 */
function exponentialBound(index: number, scale: number): number {
  if (scale <= 0) return 2 ** (index * 2 ** -scale);
  const power = 2 ** scale;
  const whole = Math.floor(index / power);
  const rest = index - whole * power;
  return rest === 0 ? 2 ** whole : 2 ** whole * 2 ** (rest / power);
}

/**
 * The buckets of a base-2 exponential histogram point as classic cumulative buckets, in increasing
 * order of their upper bound, the `+Inf` one last (text formats have no exponential histograms):
 * negative bucket `i` (values in `[−base^(i+1), −base^i)`) under `le` `−base^i`, the zero bucket
 * under `0`, positive bucket `i` (values in `(base^i, base^(i+1)]`) under `base^(i+1)`. A bound a
 * double cannot hold (beyond its range, or rounded onto the previous one) is left out: its count
 * goes to the next bucket written, whose bound holds it too.
 *
 * @example
 * ```ts
 * forEachExponentialBucket(point.value, (upper, cumulative) => (text += `le="${upper}" ${cumulative}\n`));
 * ```
 */
export function forEachExponentialBucket(
  histogram: ExponentialHistogram,
  bucket: (upper: number, cumulative: number) => void,
): void {
  const { scale, positive, negative } = histogram;
  let cumulative = 0;
  let last = -Infinity;
  for (let k = negative.bucketCounts.length - 1; k >= 0; k--) {
    cumulative += negative.bucketCounts[k] as number;
    const upper = -exponentialBound(negative.offset + k, scale);
    if (upper > last && upper < 0) bucket((last = upper), cumulative);
  }
  cumulative += histogram.zeroCount;
  bucket((last = 0), cumulative);
  for (let k = 0; k < positive.bucketCounts.length; k++) {
    cumulative += positive.bucketCounts[k] as number;
    const upper = exponentialBound(positive.offset + k + 1, scale);
    if (upper > last && upper < Infinity) bucket((last = upper), cumulative);
  }
  bucket(Infinity, cumulative);
}

function serializeExponentialPoint(name: string, point: DataPoint<ExponentialHistogram>, labels: string): string {
  const histogram = point.value;
  const braced = labels.length > 0 ? `{${labels}}` : '';
  let text = `${name}_count${braced} ${formatValue(histogram.count)}\n`;
  if (histogram.sum !== undefined) text += `${name}_sum${braced} ${formatValue(histogram.sum)}\n`;
  const prefix = labels.length > 0 ? `${name}_bucket{${labels},le="` : `${name}_bucket{le="`;
  forEachExponentialBucket(histogram, (upper, cumulative) => {
    text += `${prefix}${upper === Infinity ? '+Inf' : String(upper)}"} ${formatValue(cumulative)}\n`;
  });
  return text;
}
