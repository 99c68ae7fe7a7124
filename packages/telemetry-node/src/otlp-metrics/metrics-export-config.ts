/**
 * Where metrics leave the process: the standard `OTEL_METRICS_EXPORTER` list (`prometheus`, `otlp`,
 * `console`, `none`) and the `OTEL_EXPORTER_OTLP_*` / `OTEL_METRIC_EXPORT_*` variables of the
 * OpenTelemetry specification, resolved once at start-up into one typed value. Options passed to
 * `startTelemetry()` win over variables; a value that cannot be honoured is a
 * `TelemetryConfigurationError`, never silently ignored.
 */
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';

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
 * OTLP/HTTP encodings; `http/protobuf` is the specification's default.
 *
 * @example
 * ```ts
 * const protocol: OtlpMetricsProtocol = 'http/json';
 * startTelemetry({ metrics: { exporters: ['otlp'], otlp: { protocol } } });
 * ```
 */
export type OtlpMetricsProtocol = 'http/protobuf' | 'http/json';

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
  /** Full URL; default `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`, `http://localhost:4318/v1/metrics`. */
  url?: string;
  /** Default `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL`, `http/protobuf`. */
  protocol?: OtlpMetricsProtocol;
  /** Extra request headers; default from `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_METRICS_HEADERS`. */
  headers?: Record<string, string>;
  /** Per-request timeout; default `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT`, 10 000 ms. */
  timeoutMillis?: number;
  /** Default `OTEL_EXPORTER_OTLP_METRICS_COMPRESSION`, `OTEL_EXPORTER_OTLP_COMPRESSION`, `none`. */
  compression?: 'gzip' | 'none';
  /** Default `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, `cumulative`. */
  temporalityPreference?: MetricsTemporalityPreference;
  /** Time between exports; default `OTEL_METRIC_EXPORT_INTERVAL`, 60 000 ms. */
  exportIntervalMillis?: number;
  /** Longest an export may take; default `OTEL_METRIC_EXPORT_TIMEOUT`, 30 000 ms (never above the interval). */
  exportTimeoutMillis?: number;
  /** Use this exporter instead of building the OTLP/HTTP one (interval, timeout and temporality still apply). */
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
}

/** The OTLP push, fully resolved. */
export interface ResolvedOtlpMetrics {
  readonly url: string;
  readonly protocol: OtlpMetricsProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMillis: number;
  readonly compression: 'gzip' | 'none';
  readonly temporalityPreference: MetricsTemporalityPreference;
  readonly exportIntervalMillis: number;
  readonly exportTimeoutMillis: number;
  readonly exporter: PushMetricExporter | undefined;
}

/** What {@link resolveMetricsExport} found. */
export interface ResolvedMetricsExport {
  readonly prometheus: boolean;
  readonly console: boolean;
  readonly otlp: ResolvedOtlpMetrics | undefined;
  /** Standard variables that are set but that this package does not honour, for one start-up warning. */
  readonly unsupportedVariables: readonly string[];
}

const EXPORTER_NAMES: readonly string[] = ['prometheus', 'otlp', 'console', 'none'];
const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json'];
const TEMPORALITIES: readonly string[] = ['cumulative', 'delta', 'lowmemory'];

/** Set for OTLP/gRPC or TLS client certificates, which this package does not configure. */
const UNSUPPORTED_VARIABLES = [
  'OTEL_EXPORTER_OTLP_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_KEY',
  'OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY',
  'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_INSECURE',
  'OTEL_EXPORTER_OTLP_METRICS_INSECURE',
  'OTEL_METRICS_EXEMPLAR_FILTER',
];

function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function firstVariable(env: NodeJS.ProcessEnv, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = variable(env, name);
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
  const raw = variable(env, 'OTEL_METRICS_EXPORTER');
  if (raw === undefined) return new Set(['prometheus']);
  const names = raw
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!EXPORTER_NAMES.includes(name))
      throw new TelemetryConfigurationError(
        'OTEL_METRICS_EXPORTER',
        `unknown exporter "${name}" in "${raw}"; expected a comma list of prometheus, otlp and console, or none`,
      );
  }
  if (names.includes('none')) {
    if (names.length > 1)
      throw new TelemetryConfigurationError(
        'OTEL_METRICS_EXPORTER',
        `"none" cannot be combined with other exporters (got "${raw}")`,
      );
    return new Set();
  }
  return new Set(names);
}

function positiveMillis(option: string, value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new TelemetryConfigurationError(option, `expected a positive whole number of milliseconds, got "${value}"`);
  return number;
}

function urlFrom(env: NodeJS.ProcessEnv, option: string | undefined): string {
  const specific = option ?? variable(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const name = option !== undefined ? 'metrics.otlp.url' : 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT';
  let url: string;
  if (specific !== undefined) url = specific;
  else {
    const base = variable(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    // The generic endpoint is a base: the signal path is appended (specification, "Endpoint URLs for OTLP/HTTP").
    url = base === undefined ? 'http://localhost:4318/v1/metrics' : `${base.replace(/\/+$/, '')}/v1/metrics`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TelemetryConfigurationError(
      specific !== undefined ? name : 'OTEL_EXPORTER_OTLP_ENDPOINT',
      `"${url}" is not a URL`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new TelemetryConfigurationError(name, `expected an http or https URL, got "${url}"`);
  return url;
}

/** Parse `key=value,key2=value2` (values percent-decoded), as the specification's header variables are written. */
export function parseOtlpHeaders(variableName: string, raw: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue;
    const equals = entry.indexOf('=');
    const key = equals < 0 ? '' : entry.slice(0, equals).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key))
      throw new TelemetryConfigurationError(
        variableName,
        `expected comma-separated key=value pairs, got an entry "${entry.trim()}"`,
      );
    let value: string;
    try {
      value = decodeURIComponent(entry.slice(equals + 1).trim());
    } catch {
      throw new TelemetryConfigurationError(variableName, `the value of "${key}" is not valid percent-encoding`);
    }
    headers[key.toLowerCase()] = value;
  }
  return headers;
}

function headersFrom(env: NodeJS.ProcessEnv, option: Record<string, string> | undefined): Record<string, string> {
  if (option !== undefined) return { ...option };
  const generic = variable(env, 'OTEL_EXPORTER_OTLP_HEADERS');
  const specific = variable(env, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS');
  return {
    ...(generic !== undefined ? parseOtlpHeaders('OTEL_EXPORTER_OTLP_HEADERS', generic) : {}),
    ...(specific !== undefined ? parseOtlpHeaders('OTEL_EXPORTER_OTLP_METRICS_HEADERS', specific) : {}),
  };
}

function oneOf<T extends string>(option: string, value: string, allowed: readonly string[]): T {
  const normalised = value.trim().toLowerCase();
  if (!allowed.includes(normalised))
    throw new TelemetryConfigurationError(option, `expected ${allowed.join(', ')}; got "${value}"`);
  return normalised as T;
}

function resolveOtlp(env: NodeJS.ProcessEnv, options: OtlpMetricsOptions): ResolvedOtlpMetrics {
  const protocolSource =
    options.protocol !== undefined
      ? { name: 'metrics.otlp.protocol', value: options.protocol }
      : firstVariable(env, ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']);
  if (protocolSource?.value.trim().toLowerCase() === 'grpc')
    throw new TelemetryConfigurationError(
      protocolSource.name,
      'OTLP/gRPC is not supported for metrics; use http/protobuf (the default) or http/json',
    );
  const protocol =
    protocolSource === undefined
      ? 'http/protobuf'
      : oneOf<OtlpMetricsProtocol>(protocolSource.name, protocolSource.value, PROTOCOLS);
  const timeoutSource =
    options.timeoutMillis !== undefined
      ? { name: 'metrics.otlp.timeoutMillis', value: options.timeoutMillis }
      : firstVariable(env, ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT']);
  const compressionSource =
    options.compression !== undefined
      ? { name: 'metrics.otlp.compression', value: options.compression }
      : firstVariable(env, ['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION']);
  const temporalitySource =
    options.temporalityPreference !== undefined
      ? { name: 'metrics.otlp.temporalityPreference', value: options.temporalityPreference }
      : firstVariable(env, ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE']);
  const intervalName =
    options.exportIntervalMillis !== undefined ? 'metrics.otlp.exportIntervalMillis' : 'OTEL_METRIC_EXPORT_INTERVAL';
  const exportIntervalMillis = positiveMillis(
    intervalName,
    options.exportIntervalMillis ?? variable(env, 'OTEL_METRIC_EXPORT_INTERVAL'),
    60_000,
  );
  const timeoutName =
    options.exportTimeoutMillis !== undefined ? 'metrics.otlp.exportTimeoutMillis' : 'OTEL_METRIC_EXPORT_TIMEOUT';
  const exportTimeoutMillis = positiveMillis(
    timeoutName,
    options.exportTimeoutMillis ?? variable(env, 'OTEL_METRIC_EXPORT_TIMEOUT'),
    30_000,
  );
  return {
    url: urlFrom(env, options.url),
    protocol,
    headers: headersFrom(env, options.headers),
    timeoutMillis: positiveMillis(timeoutSource?.name ?? 'OTEL_EXPORTER_OTLP_TIMEOUT', timeoutSource?.value, 10_000),
    compression:
      compressionSource === undefined
        ? 'none'
        : oneOf<'gzip' | 'none'>(compressionSource.name, compressionSource.value, ['gzip', 'none']),
    temporalityPreference:
      temporalitySource === undefined
        ? 'cumulative'
        : oneOf<MetricsTemporalityPreference>(temporalitySource.name, temporalitySource.value, TEMPORALITIES),
    exportIntervalMillis,
    // An export may not outlast its interval (the SDK clamps the same way).
    exportTimeoutMillis: Math.min(exportTimeoutMillis, exportIntervalMillis),
    exporter: options.exporter,
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
 * resolved.otlp?.url; // 'http://localhost:4318/v1/metrics'
 * ```
 */
export function resolveMetricsExport(
  options: MetricsExportOptions | undefined,
  env: NodeJS.ProcessEnv,
): ResolvedMetricsExport {
  const exporters = exportersFrom(env, options?.exporters);
  return {
    prometheus: exporters.has('prometheus'),
    console: exporters.has('console'),
    otlp: exporters.has('otlp') ? resolveOtlp(env, options?.otlp ?? {}) : undefined,
    unsupportedVariables: exporters.has('otlp')
      ? UNSUPPORTED_VARIABLES.filter((name) => variable(env, name) !== undefined)
      : [],
  };
}
