/**
 * The transport variables of an OTLP exporter (`OTEL_EXPORTER_OTLP_(<SIGNAL>_)ENDPOINT`, `_HEADERS`,
 * `_TIMEOUT`, `_COMPRESSION`), read from the `env` given to `startTelemetry()` as the
 * specification's "OpenTelemetry Protocol Exporter" page defines them: the signal's variable wins
 * over the general one; over HTTP the general endpoint is a base to which the signal's path is
 * appended, over gRPC the collector's address used as it is. The exporters are handed the result,
 * so none of them reads `process.env` behind `env`'s back.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';
import { createEmptyMetadata } from '@opentelemetry/otlp-grpc-exporter-base';
import {
  AT_MOST_LONGEST_TIMER,
  NO_TIMEOUT_MILLIS,
  decodePercent,
  readEnvEnum,
  readEnvString,
  warnConfiguration,
  warnIgnoredVariable,
} from './standard-variables.js';

/** The part of the OTLP variable names that selects a signal: `OTEL_EXPORTER_OTLP_<signal>_*`. */
export type OtlpSignal = 'TRACES' | 'METRICS' | 'LOGS';

/** The transport settings of one signal's OTLP exporter. */
export interface OtlpExporterVariables {
  /** Where to send: the full URL over HTTP (`…/v1/traces`), the collector's address over gRPC. */
  readonly url: string;
  /** `_HEADERS`: the general ones, overridden key by key by the signal's; names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** `_TIMEOUT` in milliseconds (default 10,000; `0` means no limit). */
  readonly timeoutMillis: number;
  /** `_COMPRESSION` (default `none`). */
  readonly compression: 'gzip' | 'none';
}

/** Each signal's path below an OTLP/HTTP base endpoint. */
/** The OTLP transports the specification names. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

/** One of {@link OTLP_PROTOCOLS}. */
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/**
 * A signal's protocol: `OTEL_EXPORTER_OTLP_<signal>_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`,
 * else `http/protobuf`. A value the specification does not name is warned about and ignored, so
 * the next in that order applies.
 */
export function otlpProtocolFromEnv(env: NodeJS.ProcessEnv, signal: OtlpSignal): OtlpProtocol {
  return (
    readEnvEnum(env, `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`, OTLP_PROTOCOLS, 'using the generic protocol') ??
    readEnvEnum(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', OTLP_PROTOCOLS, 'using http/protobuf') ??
    'http/protobuf'
  );
}

export const OTLP_SIGNAL_PATHS: Readonly<Record<OtlpSignal, string>> = {
  TRACES: 'v1/traces',
  METRICS: 'v1/metrics',
  LOGS: 'v1/logs',
};

/** The scheme of an endpoint (`http`, `https`, in lower case), or `undefined` for `host:port` without one. */
export function otlpEndpointScheme(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(url.trim())?.[1]?.toLowerCase();
}

/** `OTEL_EXPORTER_OTLP_<signal>_<suffix>`, then `OTEL_EXPORTER_OTLP_<suffix>`. */
const otlpNames = (signal: OtlpSignal, suffix: string): string[] => [
  `OTEL_EXPORTER_OTLP_${signal}_${suffix}`,
  `OTEL_EXPORTER_OTLP_${suffix}`,
];

/** The signal's variable when set and not blank, else the general one, with the name of the one read. */
export function otlpVariable(
  env: NodeJS.ProcessEnv,
  signal: OtlpSignal,
  suffix: string,
): { name: string; value: string } | undefined {
  for (const name of otlpNames(signal, suffix)) {
    const value = readEnvString(env, name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

/**
 * The first of `names` (a signal's variable, then the general one) that is set and that `valid`
 * accepts. One that is set but refused is warned about and the next is read: the specification
 * treats an invalid value as not set, so the general variable applies rather than the default. The
 * last name set is returned as it is, for the caller to check and fall back from.
 */
export function firstValidVariable(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
  valid: (value: string) => boolean,
  expected: string,
): { name: string; value: string } | undefined {
  for (let index = 0; index < names.length; index++) {
    const name = names[index] as string;
    const value = readEnvString(env, name);
    if (value === undefined) continue;
    if (valid(value) || index === names.length - 1) return { name, value };
    warnIgnoredVariable(name, value, expected, `reading ${names.slice(index + 1).join(' or ')} instead`);
  }
  return undefined;
}

/**
 * Whether a duration variable's value is a whole number of milliseconds (0 included) of at most
 * {@link NO_TIMEOUT_MILLIS}: a longer one is out of range, as Node.js would fire it after 1 ms.
 */
export const isMillis = (value: string): boolean => /^\d+$/.test(value) && Number(value) <= NO_TIMEOUT_MILLIS;

/** What {@link isMillis} accepts, as a warning says it. */
export const MILLIS_EXPECTED = `a non-negative integer ${AT_MOST_LONGEST_TIMER}`;

/** The `_COMPRESSION` values the exporters take. */
const COMPRESSIONS = ['gzip', 'none'] as const;

/** Whether a `_COMPRESSION` value is one the exporters take (any case). */
export const isCompression = (value: string): boolean =>
  (COMPRESSIONS as readonly string[]).includes(value.toLowerCase());

/**
 * Check that `url` is an endpoint an OTLP exporter can send to: an `http:` or `https:` URL, or over
 * gRPC also `host:port` without a scheme. Throws a `TelemetryConfigurationError` naming `source`
 * (the variable or option that gave it).
 */
export function checkOtlpEndpoint(url: string, source: string, grpc: boolean): string {
  // A gRPC endpoint may be `host:port` alone: TLS, unless OTEL_EXPORTER_OTLP_(<SIGNAL>_)INSECURE says not.
  const schemeless = grpc && otlpEndpointScheme(url) === undefined;
  let parsed: URL;
  try {
    parsed = new URL(schemeless ? `https://${url}` : url);
  } catch {
    throw new TelemetryConfigurationError(source, `"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new TelemetryConfigurationError(source, `expected an http or https URL, got "${url}"`);
  return url;
}

/**
 * The endpoint of `signal`'s exporter: `OTEL_EXPORTER_OTLP_<signal>_ENDPOINT` as written, else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (over HTTP with the signal's path appended), else the default
 * (`http://localhost:4318/v1/<signal>`, or `http://localhost:4317` over gRPC). Throws a
 * `TelemetryConfigurationError` naming the variable when it is not a URL.
 */
export function otlpEndpointFromEnv(env: NodeJS.ProcessEnv, signal: OtlpSignal, grpc: boolean): string {
  const specificName = `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`;
  const specific = readEnvString(env, specificName);
  if (specific !== undefined) return checkOtlpEndpoint(specific, specificName, grpc);
  const base = readEnvString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const path = OTLP_SIGNAL_PATHS[signal];
  if (base === undefined) return grpc ? 'http://localhost:4317' : `http://localhost:4318/${path}`;
  // Over HTTP the general endpoint is a base and the signal's path is appended (specification,
  // "Endpoint URLs for OTLP/HTTP"); a gRPC endpoint is the collector's address, used as it is.
  const checked = checkOtlpEndpoint(base, 'OTEL_EXPORTER_OTLP_ENDPOINT', grpc);
  return grpc ? checked : withSignalPath(checked, path);
}

/**
 * `base` with `path` appended to its path (after any it has, one `/` between), its query and
 * fragment kept where they were: `http://c:4318/otlp?tenant=a` gives `http://c:4318/otlp/v1/traces?tenant=a`.
 */
function withSignalPath(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  return url.href;
}

/**
 * Whether a decoded header can go out: as an HTTP header (`node:http`'s own checks, which the
 * export would otherwise fail on every time: no line breaks, nothing outside Latin-1) or as gRPC
 * metadata (`@grpc/grpc-js`'s: lower-case keys of letters, digits, `-`, `_` and `.`, not ending in
 * `-bin`, whose values are binary; values of printable ASCII).
 */
function isSendableHeader(name: string, value: string, grpc: boolean): boolean {
  try {
    if (grpc) createEmptyMetadata().set(name, value);
    else {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a header cannot go out over HTTP, or as gRPC metadata (`grpc`); `percentDecoded` for a value
 * read from a variable, which is percent-decoded first.
 */
export function unsendableHeaderReason(grpc: boolean, percentDecoded = false): string {
  const decoded = percentDecoded ? ' once percent-decoded' : '';
  return grpc
    ? `gRPC metadata cannot carry it (keys of a-z, 0-9, "-", "_" and ".", not ending in "-bin"; values of printable ASCII${decoded})`
    : `Node.js cannot send its value in an HTTP header (no control characters such as line breaks, nothing beyond Latin-1${decoded})`;
}

/**
 * Check headers passed in code (`metrics.otlp.headers`, the health-service poller's `headers`) for
 * the transport (`grpc`: gRPC metadata, else HTTP headers), as the header variables' entries are checked; an option that cannot be
 * honoured is a `TelemetryConfigurationError` naming `option` and the header's key, never its value
 * (a secret, often). Unlike a variable's, a value is not trimmed: what is given is what would be sent.
 *
 * @example
 * ```ts
 * checkHeadersOption({ authorization: `Bearer ${token}` }, 'metrics.otlp.headers', false);
 * ```
 */
export function checkHeadersOption(headers: unknown, option: string, grpc: boolean): Record<string, string> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw new TelemetryConfigurationError(
      option,
      `expected an object of header names to string values, got ${Array.isArray(headers) ? 'an array' : headers === null ? 'null' : typeof headers}`,
    );
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value !== 'string')
      throw new TelemetryConfigurationError(
        option,
        `the ${JSON.stringify(name)} header: expected a string value, got ${value === null ? 'null' : typeof value}`,
      );
    if (!isSendableHeader(name, value, grpc)) {
      // The usual cause: a token read from a file with its trailing newline.
      const hint = /[\r\n]\s*$/.test(value) ? '; its value ends with a line break (trim it)' : '';
      throw new TelemetryConfigurationError(
        option,
        `the ${JSON.stringify(name)} header cannot be sent: ${unsendableHeaderReason(grpc)}${hint}`,
      );
    }
    checked[name] = value;
  }
  return checked;
}

/**
 * Parse `key=value,key2=value2` (values percent-decoded), as the specification's header variables
 * are written. An entry that is not a header name, `=` and a percent-encoded value, or that the
 * transport cannot send (over HTTP, or as gRPC metadata where `grpc`), is warned about (naming the
 * variable and the entry's key, not its value, which may be a secret) and skipped; the others apply.
 */
export function parseOtlpHeaders(variableName: string, raw: string, grpc = false): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue;
    const equals = entry.indexOf('=');
    const key = equals < 0 ? '' : entry.slice(0, equals).trim();
    const value = decodePercent(entry.slice(equals + 1).trim());
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) || value === undefined) {
      warnIgnoredVariable(variableName, entry.trim(), 'key=value with a percent-encoded value', 'skipping that entry');
      continue;
    }
    const name = key.toLowerCase();
    if (!isSendableHeader(name, value, grpc)) {
      warnConfiguration(
        `@gatewayz/telemetry-node: ignoring the "${name}" entry of ${variableName}: ${unsendableHeaderReason(
          grpc,
          true,
        )}; sending the other headers`,
      );
      continue;
    }
    headers[name] = value;
  }
  return headers;
}

/**
 * `OTEL_EXPORTER_OTLP_HEADERS`, overridden key by key by `OTEL_EXPORTER_OTLP_<signal>_HEADERS`, each
 * entry checked for the transport (`grpc`: gRPC metadata, else HTTP headers).
 */
export function otlpHeadersFromEnv(env: NodeJS.ProcessEnv, signal: OtlpSignal, grpc: boolean): Record<string, string> {
  const specificName = `OTEL_EXPORTER_OTLP_${signal}_HEADERS`;
  const generic = readEnvString(env, 'OTEL_EXPORTER_OTLP_HEADERS');
  const specific = readEnvString(env, specificName);
  return {
    ...(generic !== undefined ? parseOtlpHeaders('OTEL_EXPORTER_OTLP_HEADERS', generic, grpc) : {}),
    ...(specific !== undefined ? parseOtlpHeaders(specificName, specific, grpc) : {}),
  };
}

/**
 * A duration variable in milliseconds: a non-negative integer of at most {@link NO_TIMEOUT_MILLIS},
 * `0` meaning no limit where `zeroIsNoLimit` (as {@link NO_TIMEOUT_MILLIS}). Anything else (a
 * longer duration included: Node.js would fire it after 1 ms) is warned about and `fallback` applies.
 */
export function millisFromVariable(
  variable: { name: string; value: string } | undefined,
  fallback: number,
  zeroIsNoLimit: boolean,
): number {
  if (variable === undefined) return fallback;
  const number = /^\d+$/.test(variable.value) ? Number(variable.value) : Number.NaN;
  if (zeroIsNoLimit && number === 0) return NO_TIMEOUT_MILLIS;
  if (!(number >= 1 && number <= NO_TIMEOUT_MILLIS)) {
    warnIgnoredVariable(
      variable.name,
      variable.value,
      `${zeroIsNoLimit ? 'a non-negative' : 'a positive'} integer ${AT_MOST_LONGEST_TIMER}`,
      `using ${fallback}`,
    );
    return fallback;
  }
  return number;
}

/** `_COMPRESSION` of `signal`: `gzip` or `none` (any case); another value is warned about and `none` applies. */
export function otlpCompressionFromEnv(env: NodeJS.ProcessEnv, signal: OtlpSignal): 'gzip' | 'none' {
  // As the protocol is read: an invalid signal value gives way to the general one.
  return (
    readEnvEnum(
      env,
      `OTEL_EXPORTER_OTLP_${signal}_COMPRESSION`,
      COMPRESSIONS,
      'reading OTEL_EXPORTER_OTLP_COMPRESSION instead',
    ) ??
    readEnvEnum(env, 'OTEL_EXPORTER_OTLP_COMPRESSION', COMPRESSIONS, 'using none') ??
    'none'
  );
}

/**
 * Everything `signal`'s OTLP exporter needs to know of its transport, from `env`.
 *
 * @example
 * ```ts
 * const variables = otlpExporterVariables({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'TRACES', false);
 * variables.url; // 'http://collector:4318/v1/traces'
 * ```
 */
export function otlpExporterVariables(
  env: NodeJS.ProcessEnv,
  signal: OtlpSignal,
  grpc: boolean,
): OtlpExporterVariables {
  return {
    url: otlpEndpointFromEnv(env, signal, grpc),
    headers: otlpHeadersFromEnv(env, signal, grpc),
    timeoutMillis: millisFromVariable(
      firstValidVariable(env, otlpNames(signal, 'TIMEOUT'), isMillis, MILLIS_EXPECTED),
      10_000,
      true,
    ),
    compression: otlpCompressionFromEnv(env, signal),
  };
}
