/**
 * Where metrics leave the process: the standard `OTEL_METRICS_EXPORTER` list (`prometheus`, `otlp`,
 * `console`, `none`) and the `OTEL_EXPORTER_OTLP_*` / `OTEL_METRIC_EXPORT_*` variables of the
 * OpenTelemetry specification, resolved once at start-up into one typed value. Options passed to
 * `startTelemetry()` win over variables. An option that cannot be honoured is a
 * `TelemetryConfigurationError`; a variable whose value the specification does not allow is
 * reported through `diag.warn` and ignored (its default applies), as the specification asks,
 * except an endpoint that is not an http(s) URL (or, for gRPC, a `host:port`), which fails loudly
 * because no default could reach the collector meant.
 */
import { TelemetryConfigurationError, type ExponentialHistogramLimits } from '@gatewayz/telemetry';
import { DEFAULT_EXPONENTIAL_MAX_SIZE, MAX_EXPONENTIAL_SCALE } from '@gatewayz/telemetry/metrics';
import {
  AT_MOST_LONGEST_TIMER,
  NO_TIMEOUT_MILLIS,
  readEnvList,
  readEnvString,
  warnIgnoredVariable,
} from '../env/standard-variables.js';
import {
  checkOtlpEndpoint,
  checkHeadersOption,
  firstValidVariable,
  isCompression,
  isMillis,
  MILLIS_EXPECTED,
  millisFromVariable,
  otlpEndpointFromEnv,
  otlpHeadersFromEnv,
  otlpProtocolFromEnv,
  OTLP_PROTOCOLS,
} from '../env/otlp-exporter-variables.js';
import { otlpTlsFromEnv, type OtlpTlsSettings } from '../env/otlp-tls-from-env.js';
import { AggregationType, InstrumentType, type PushMetricExporter } from '@opentelemetry/sdk-metrics';

/**
 * Exporters `OTEL_METRICS_EXPORTER` (and the `metrics.exporters` option) can name.
 *
 * @example
 * ```ts
 * const exporters: MetricsExporterName[] = ['otlp', 'prometheus'];
 * startTelemetry({ metrics: { exporters } });
 * ```
 */
export type MetricsExporterName = 'prometheus' | 'otlp' | 'console';

/**
 * OTLP transports: protobuf (the specification's default) or JSON over HTTP, or protobuf over gRPC.
 *
 * @example
 * ```ts
 * const protocol: OtlpMetricsProtocol = 'grpc';
 * startTelemetry({ metrics: { exporters: ['otlp'], otlp: { protocol, url: 'http://collector:4317' } } });
 * ```
 */
export type OtlpMetricsProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/**
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` values: `cumulative` (default), `delta`
 * (counters and histograms as delta) or `lowmemory` (counters and histograms as delta, the rest
 * cumulative).
 *
 * @example
 * ```ts
 * const temporalityPreference: MetricsTemporalityPreference = 'delta';
 * startTelemetry({ metrics: { exporters: ['otlp'], otlp: { temporalityPreference } } });
 * ```
 */
export type MetricsTemporalityPreference = 'cumulative' | 'delta' | 'lowmemory';

/**
 * `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION` values: `explicit_bucket_histogram`
 * (default), the catalog's buckets, or `base2_exponential_bucket_histogram`, base-2 exponential
 * histograms with the specification's defaults (160 buckets per sign, scale from 20 down).
 *
 * @example
 * ```ts
 * const histogramAggregation: OtlpHistogramAggregation = 'base2_exponential_bucket_histogram';
 * startTelemetry({ metrics: { exporters: ['otlp'], otlp: { histogramAggregation } } });
 * ```
 */
export type OtlpHistogramAggregation = 'explicit_bucket_histogram' | 'base2_exponential_bucket_histogram';

/**
 * Options of the OTLP metrics push (the `metrics.otlp` option of `startTelemetry()`); each falls
 * back to its standard variable, then to the specification's default.
 *
 * @example
 * ```ts
 * const otlp: OtlpMetricsOptions = {
 *   url: 'http://collector:4318/v1/metrics',
 *   temporalityPreference: 'delta',
 *   exportIntervalMillis: 10_000,
 * };
 * startTelemetry({ metrics: { exporters: ['otlp', 'prometheus'], otlp } });
 * ```
 */
export interface OtlpMetricsOptions {
  /**
   * Full URL; default `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`,
   * `http://localhost:4318/v1/metrics`. For `grpc`: the collector's address (`http://host:4317`
   * plaintext, `https://…` or `host:port` TLS), default the same variables as they are, `http://localhost:4317`.
   */
  url?: string;
  /** Default `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL`, `http/protobuf`. */
  protocol?: OtlpMetricsProtocol;
  /**
   * Extra request headers (gRPC metadata for `grpc`); default from `OTEL_EXPORTER_OTLP_HEADERS` and
   * `OTEL_EXPORTER_OTLP_METRICS_HEADERS`. Values are sent as given (not trimmed): one the transport
   * cannot send (a line break, such as a token file's trailing newline; over gRPC also a key of other
   * characters than `a-z0-9-_.`, a `-bin` key, a value that is not printable ASCII) is a
   * `TelemetryConfigurationError` naming the header's key.
   */
  headers?: Record<string, string>;
  /** Per-request timeout; default `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT`, 10 000 ms. */
  timeoutMillis?: number;
  /** Default `OTEL_EXPORTER_OTLP_METRICS_COMPRESSION`, `OTEL_EXPORTER_OTLP_COMPRESSION`, `none`. */
  compression?: 'gzip' | 'none';
  /** Default `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, `cumulative`. */
  temporalityPreference?: MetricsTemporalityPreference;
  /**
   * How histograms are pushed; default `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`,
   * `explicit_bucket_histogram`. The Prometheus endpoints keep the explicit buckets either way. An
   * `exporter` given here chooses with its own `selectAggregation()` instead.
   */
  histogramAggregation?: OtlpHistogramAggregation;
  /** Time between exports; default `OTEL_METRIC_EXPORT_INTERVAL`, 60 000 ms. */
  exportIntervalMillis?: number;
  /** Longest an export may take; default `OTEL_METRIC_EXPORT_TIMEOUT`, 30 000 ms (never above the interval). */
  exportTimeoutMillis?: number;
  /** Use this exporter instead of building the OTLP one (interval, timeout and temporality still apply). */
  exporter?: PushMetricExporter;
}

/**
 * The `metrics` option of `startTelemetry()`.
 *
 * @example
 * ```ts
 * startTelemetry({ metrics: { exporters: ['otlp'], otlp: { url: 'http://127.0.0.1:4318/v1/metrics' } } });
 * ```
 */
export interface MetricsExportOptions {
  /** Which exporters run; default `OTEL_METRICS_EXPORTER`, else `['prometheus']`. An empty list turns them all off. */
  exporters?: readonly MetricsExporterName[];
  /** OTLP push settings, used when `otlp` is among the exporters. */
  otlp?: OtlpMetricsOptions;
  /**
   * The metrics endpoints: `compression` `gzip` (default) gzip-codes an exposition when the
   * scraper's `Accept-Encoding` allows it (Prometheus always does), `none` never does.
   */
  prometheus?: { compression?: 'gzip' | 'none' };
}

/** How often a periodic metric reader exports, and how long one export may take. */
export interface PeriodicExport {
  readonly exportIntervalMillis: number;
  readonly exportTimeoutMillis: number;
}

/** The OTLP push, fully resolved. */
export interface ResolvedOtlpMetrics extends PeriodicExport {
  readonly url: string;
  readonly protocol: OtlpMetricsProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMillis: number;
  readonly compression: 'gzip' | 'none';
  readonly temporalityPreference: MetricsTemporalityPreference;
  /** Limits of the exponential histograms pushed, or undefined when histograms go with explicit buckets. */
  readonly exponentialHistograms: ExponentialHistogramLimits | undefined;
  readonly exporter: PushMetricExporter | undefined;
  /**
   * The CA, client certificate and `_INSECURE` of `OTEL_EXPORTER_OTLP_(METRICS_)*`, files read at
   * resolution; left out, the push trusts Node.js's bundled authorities and presents no certificate.
   */
  readonly tls?: OtlpTlsSettings;
}

/** What {@link resolveMetricsExport} found. */
export interface ResolvedMetricsExport {
  readonly prometheus: boolean;
  /** The console exporter's reader (`OTEL_METRIC_EXPORT_INTERVAL`, `_TIMEOUT`), when it runs. */
  readonly console: PeriodicExport | undefined;
  readonly otlp: ResolvedOtlpMetrics | undefined;
  /** `OTEL_EXPORTER_PROMETHEUS_HOST`/`_PORT` when set: the exporter starts no server of its own here. */
  readonly prometheusServerVariables: readonly string[];
  /** Whether the metrics endpoints may gzip their expositions. */
  readonly prometheusCompression: 'gzip' | 'none';
}

const EXPORTER_NAMES: readonly string[] = ['prometheus', 'otlp', 'console', 'none'];
const TEMPORALITIES: readonly string[] = ['cumulative', 'delta', 'lowmemory'];
const HISTOGRAM_AGGREGATIONS: readonly string[] = ['explicit_bucket_histogram', 'base2_exponential_bucket_histogram'];
const SPECIFICATION_EXPONENTIAL_LIMITS: ExponentialHistogramLimits = {
  maxSize: DEFAULT_EXPONENTIAL_MAX_SIZE,
  maxScale: MAX_EXPONENTIAL_SCALE,
};

/**
 * The exponential limits the push asks for: an exporter passed in code chooses with its own
 * `selectAggregation()` (the SDK's way; its `maxSize` is honoured, the scale starts at 20), the
 * built one with the option or `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`.
 */
function exponentialLimitsFrom(
  env: NodeJS.ProcessEnv,
  options: OtlpMetricsOptions,
): ExponentialHistogramLimits | undefined {
  const selected = options.exporter?.selectAggregation?.(InstrumentType.HISTOGRAM);
  if (selected !== undefined) {
    if (selected.type !== AggregationType.EXPONENTIAL_HISTOGRAM) return undefined;
    const maxSize = selected.options?.maxSize;
    return maxSize === undefined ? SPECIFICATION_EXPONENTIAL_LIMITS : { maxSize, maxScale: MAX_EXPONENTIAL_SCALE };
  }
  const aggregation = oneOf<OtlpHistogramAggregation>(
    sourceOf({ name: 'metrics.otlp.histogramAggregation', value: options.histogramAggregation }, env, [
      'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
    ]),
    HISTOGRAM_AGGREGATIONS,
    'explicit_bucket_histogram',
  );
  return aggregation === 'base2_exponential_bucket_histogram' ? SPECIFICATION_EXPONENTIAL_LIMITS : undefined;
}

function firstVariable(env: NodeJS.ProcessEnv, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = readEnvString(env, name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function exportersFrom(env: NodeJS.ProcessEnv, option: readonly MetricsExporterName[] | undefined): Set<string> {
  if (option !== undefined) {
    for (const name of option) {
      if ((name as string) === 'none' || !EXPORTER_NAMES.includes(name))
        throw new TelemetryConfigurationError(
          'metrics.exporters',
          `unknown exporter "${String(name)}"; expected prometheus, otlp or console (an empty list turns them off)`,
        );
    }
    return new Set(option);
  }
  const raw = readEnvString(env, 'OTEL_METRICS_EXPORTER') ?? '';
  const names = (readEnvList(env, 'OTEL_METRICS_EXPORTER') ?? []).filter((name) => {
    if (EXPORTER_NAMES.includes(name)) return true;
    warnIgnoredVariable('OTEL_METRICS_EXPORTER', name, 'prometheus, otlp, console or none', 'skipping it');
    return false;
  });
  if (names.length === 0) return new Set(['prometheus']);
  if (names.includes('none')) {
    if (names.length > 1) warnIgnoredVariable('OTEL_METRICS_EXPORTER', raw, '"none" alone', 'exporting no metrics');
    return new Set();
  }
  return new Set(names);
}

/**
 * Milliseconds from an option (a positive integer, else a `TelemetryConfigurationError`) or a
 * variable (a non-negative integer, `0` meaning no limit where `zeroIsNoLimit`, else a warning and
 * `fallback`); either at most 2^31 − 1, the longest timer Node.js keeps.
 */
function millis(
  source: { name: string; value: number | string; fromOption: boolean } | undefined,
  fallback: number,
  zeroIsNoLimit: boolean,
): number {
  if (source === undefined) return fallback;
  const { name, value, fromOption } = source;
  if (fromOption) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > NO_TIMEOUT_MILLIS)
      throw new TelemetryConfigurationError(
        name,
        `expected a positive whole number of milliseconds ${AT_MOST_LONGEST_TIMER}, got "${value}"`,
      );
    return value;
  }
  return millisFromVariable({ name, value: String(value) }, fallback, zeroIsNoLimit);
}

function urlFrom(env: NodeJS.ProcessEnv, option: string | undefined, grpc: boolean): string {
  return option !== undefined
    ? checkOtlpEndpoint(option, 'metrics.otlp.url', grpc)
    : otlpEndpointFromEnv(env, 'METRICS', grpc);
}

function headersFrom(
  env: NodeJS.ProcessEnv,
  option: Record<string, string> | undefined,
  grpc: boolean,
): Record<string, string> {
  return option !== undefined
    ? checkHeadersOption(option, 'metrics.otlp.headers', grpc)
    : otlpHeadersFromEnv(env, 'METRICS', grpc);
}

/** One of `allowed` (any case): from an option, else a `TelemetryConfigurationError`; from a variable, else a warning and `fallback`. */
function oneOf<T extends string>(
  source: { name: string; value: string; fromOption: boolean } | undefined,
  allowed: readonly string[],
  fallback: T,
): T {
  if (source === undefined) return fallback;
  const normalised = source.value.trim().toLowerCase();
  if (allowed.includes(normalised)) return normalised as T;
  if (source.fromOption)
    throw new TelemetryConfigurationError(source.name, `expected ${allowed.join(', ')}; got "${source.value}"`);
  warnIgnoredVariable(source.name, source.value, `one of ${allowed.join(', ')}`, `using ${fallback}`);
  return fallback;
}

/**
 * The option if given, else the first of `names` set in `env`; with `valid`, the first set that it
 * accepts (see `firstValidVariable`: an invalid signal variable gives way to the general one).
 */
function sourceOf<T extends string | number>(
  option: { name: string; value: T | undefined },
  env: NodeJS.ProcessEnv,
  names: readonly string[],
  valid?: { check: (value: string) => boolean; expected: string },
): { name: string; value: T | string; fromOption: boolean } | undefined {
  if (option.value !== undefined) return { name: option.name, value: option.value, fromOption: true };
  const found =
    valid === undefined ? firstVariable(env, names) : firstValidVariable(env, names, valid.check, valid.expected);
  return found === undefined ? undefined : { ...found, fromOption: false };
}

/**
 * `OTEL_METRIC_EXPORT_INTERVAL` (default 60 000 ms) and `OTEL_METRIC_EXPORT_TIMEOUT` (30 000 ms, `0`
 * no limit), which the specification defines for the periodic reader whatever its exporter (the
 * OTLP push and the console exporter alike); `options` (the OTLP push's, in code) win over them.
 */
function periodicExportFrom(
  env: NodeJS.ProcessEnv,
  options: Pick<OtlpMetricsOptions, 'exportIntervalMillis' | 'exportTimeoutMillis'>,
): PeriodicExport {
  const exportIntervalMillis = millis(
    sourceOf({ name: 'metrics.otlp.exportIntervalMillis', value: options.exportIntervalMillis }, env, [
      'OTEL_METRIC_EXPORT_INTERVAL',
    ]),
    60_000,
    false,
  );
  const exportTimeoutMillis = millis(
    sourceOf({ name: 'metrics.otlp.exportTimeoutMillis', value: options.exportTimeoutMillis }, env, [
      'OTEL_METRIC_EXPORT_TIMEOUT',
    ]),
    30_000,
    true,
  );
  // An export may not outlast its interval (the SDK clamps the same way).
  return { exportIntervalMillis, exportTimeoutMillis: Math.min(exportTimeoutMillis, exportIntervalMillis) };
}

function resolveOtlp(env: NodeJS.ProcessEnv, options: OtlpMetricsOptions): ResolvedOtlpMetrics {
  // An option must be valid; of the variables, an invalid signal one is ignored for the general one.
  const protocol =
    options.protocol !== undefined
      ? oneOf<OtlpMetricsProtocol>(
          { name: 'metrics.otlp.protocol', value: options.protocol, fromOption: true },
          OTLP_PROTOCOLS,
          'http/protobuf',
        )
      : otlpProtocolFromEnv(env, 'METRICS');
  return {
    url: urlFrom(env, options.url, protocol === 'grpc'),
    protocol,
    headers: headersFrom(env, options.headers, protocol === 'grpc'),
    timeoutMillis: millis(
      sourceOf(
        { name: 'metrics.otlp.timeoutMillis', value: options.timeoutMillis },
        env,
        ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'],
        { check: isMillis, expected: MILLIS_EXPECTED },
      ),
      10_000,
      true,
    ),
    compression: oneOf<'gzip' | 'none'>(
      sourceOf(
        { name: 'metrics.otlp.compression', value: options.compression },
        env,
        ['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION'],
        { check: isCompression, expected: 'one of gzip, none' },
      ),
      ['gzip', 'none'],
      'none',
    ),
    temporalityPreference: oneOf<MetricsTemporalityPreference>(
      sourceOf({ name: 'metrics.otlp.temporalityPreference', value: options.temporalityPreference }, env, [
        'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
      ]),
      TEMPORALITIES,
      'cumulative',
    ),
    exponentialHistograms: exponentialLimitsFrom(env, options),
    ...periodicExportFrom(env, options),
    exporter: options.exporter,
    // Only for the push this package builds: an exporter passed in code has its own transport.
    ...(options.exporter === undefined ? { tls: otlpTlsFromEnv(env, 'METRICS') } : {}),
  };
}

/**
 * Resolve where metrics go from `options` and the standard variables of `env`. Throws a
 * `TelemetryConfigurationError` naming the option or variable at fault.
 *
 * @example
 * ```ts
 * const resolved = resolveMetricsExport(undefined, { OTEL_METRICS_EXPORTER: 'otlp,prometheus' });
 * resolved.prometheus; // true
 * resolved.otlp?.url; // 'http://localhost:4318/v1/metrics' ('http://localhost:4317' with OTEL_EXPORTER_OTLP_PROTOCOL=grpc)
 * ```
 */
export function resolveMetricsExport(
  options: MetricsExportOptions | undefined,
  env: NodeJS.ProcessEnv,
): ResolvedMetricsExport {
  const exporters = exportersFrom(env, options?.exporters);
  const compression: unknown = options?.prometheus?.compression;
  if (compression !== undefined && compression !== 'gzip' && compression !== 'none')
    throw new TelemetryConfigurationError(
      'metrics.prometheus.compression',
      `expected 'gzip' or 'none', got ${JSON.stringify(compression) ?? typeof compression}`,
    );
  return {
    prometheus: exporters.has('prometheus'),
    console: exporters.has('console') ? periodicExportFrom(env, {}) : undefined,
    otlp: exporters.has('otlp') ? resolveOtlp(env, options?.otlp ?? {}) : undefined,
    prometheusServerVariables: ['OTEL_EXPORTER_PROMETHEUS_HOST', 'OTEL_EXPORTER_PROMETHEUS_PORT'].filter(
      (name) => readEnvString(env, name) !== undefined,
    ),
    prometheusCompression: compression ?? 'gzip',
  };
}
