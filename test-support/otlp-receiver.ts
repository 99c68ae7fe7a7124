/**
 * A minimal in-process OTLP/HTTP receiver for integration tests.
 *
 * It accepts both OTLP/HTTP encodings on `POST /v1/traces`, `/v1/logs` and
 * `/v1/metrics`: JSON (what the `*-otlp-http` exporters send) and protobuf
 * (`application/x-protobuf`, what the `*-otlp-proto` exporters send, decoded
 * with the protobufjs code generated from the official opentelemetry-proto
 * definitions, as shipped in `@opentelemetry/otlp-transformer` 0.57), decodes
 * either into the same flat, easy-to-assert records and answers `200 {}`. With `tls` it serves
 * HTTPS instead, and with `tls.clientCa` it requires a client certificate signed by that CA
 * (mutual TLS), recording the verified certificate's name on each request.
 *
 * ```ts
 * const receiver = await startOtlpReceiver();
 * const exporter = new OTLPTraceExporter({ url: receiver.tracesUrl });
 * // ... produce spans, flush ...
 * const spans = await receiver.waitForSpans((s) => s.some((x) => x.name === 'chat'), 5_000);
 * await receiver.close();
 * ```
 *
 * @packageDocumentation
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { gunzipSync, inflateSync } from 'node:zlib';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/**
 * A decoded OTLP `AnyValue`: `stringValue`/`boolValue` as-is, `intValue`
 * (a string in JSON) and `doubleValue` as numbers (ints beyond
 * `Number.MAX_SAFE_INTEGER` stay strings), `arrayValue` as an array,
 * `kvlistValue` as an object, `bytesValue` as its base64 string.
 */
export type OtlpValue = string | number | boolean | null | OtlpValue[] | { [key: string]: OtlpValue };

/** Decoded OTLP attributes (`KeyValue[]` → plain object). */
export type OtlpAttributes = Record<string, OtlpValue>;

/** Instrumentation scope of a received record. */
export interface OtlpScope {
  name: string;
  version?: string;
  attributes: OtlpAttributes;
}

/** OTLP span kinds (numeric values used on the wire). */
export const SpanKindNumber = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;

/** OTLP status codes (numeric values used on the wire). */
export const StatusCodeNumber = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** One span received on `/v1/traces`, flattened with its resource and scope. */
export interface ReceivedSpan {
  /** 32 lowercase hex chars. */
  traceId: string;
  /** 16 lowercase hex chars. */
  spanId: string;
  /** 16 lowercase hex chars, or `undefined` for a root span. */
  parentSpanId: string | undefined;
  name: string;
  /**
   * OTLP span kind number: 0 unspecified, 1 internal, 2 server, 3 client,
   * 4 producer, 5 consumer (see {@link SpanKindNumber}). Note this is the API's
   * `SpanKind` enum value + 1.
   */
  kind: number;
  /** Nanoseconds since epoch, as a decimal string. */
  startTimeUnixNano: string;
  /** Nanoseconds since epoch, as a decimal string. */
  endTimeUnixNano: string;
  attributes: OtlpAttributes;
  /** `code`: 0 unset, 1 ok, 2 error (see {@link StatusCodeNumber}). */
  status: { code: number; message?: string };
  events: Array<{ name: string; timeUnixNano: string; attributes: OtlpAttributes }>;
  links: Array<{ traceId: string; spanId: string; attributes: OtlpAttributes }>;
  /** Resource attributes, e.g. `resource['service.name']`. */
  resource: OtlpAttributes;
  scope: OtlpScope;
}

/** One log record received on `/v1/logs`. */
export interface ReceivedLogRecord {
  timeUnixNano: string | undefined;
  observedTimeUnixNano: string | undefined;
  severityNumber: number | undefined;
  severityText: string | undefined;
  body: OtlpValue | undefined;
  attributes: OtlpAttributes;
  traceId: string | undefined;
  spanId: string | undefined;
  eventName: string | undefined;
  resource: OtlpAttributes;
  scope: OtlpScope;
}

/** One data point of a {@link ReceivedMetric}; extra OTLP fields are kept as-is. */
export interface ReceivedDataPoint {
  attributes: OtlpAttributes;
  startTimeUnixNano: string | undefined;
  timeUnixNano: string | undefined;
  /** `asDouble` / `asInt` of number points (sum, gauge); `undefined` otherwise. */
  value: number | undefined;
  /** The raw OTLP point (histogram buckets, `count`, `sum`, exemplars, ...). */
  raw: Record<string, unknown>;
}

/** One metric received on `/v1/metrics`. */
export interface ReceivedMetric {
  name: string;
  description: string;
  unit: string;
  /** Which OTLP data field was set. */
  type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary' | 'unknown';
  /** For sums: whether the sum is monotonic. */
  isMonotonic: boolean | undefined;
  /** For sums/histograms: 1 delta, 2 cumulative. */
  aggregationTemporality: number | undefined;
  dataPoints: ReceivedDataPoint[];
  resource: OtlpAttributes;
  scope: OtlpScope;
}

/** A log entry for every HTTP request the receiver saw. */
export interface OtlpRequestRecord {
  method: string;
  path: string;
  /** The request target as sent: the path with its query, if any. */
  target: string;
  contentType: string;
  /** The request's headers, names in lower case (repeated headers joined with `, `). */
  headers: Record<string, string>;
  /** The status code the receiver answered with. */
  status: number;
  /** The decoded body (JSON, or protobuf in the JSON shape) of accepted requests. */
  body?: unknown;
  /** Why the request was rejected, when it was. */
  error?: string;
  /**
   * Over TLS, the common name of the client certificate the receiver verified against
   * `tls.clientCa`; `undefined` when the client presented none (or over plaintext).
   */
  clientCertificate?: string;
}

/** Serve over TLS (`https://`), optionally requiring a client certificate (mutual TLS). */
export interface ReceiverTls {
  /** The server's private key (PEM). */
  key: Buffer | string;
  /** The server's certificate chain (PEM). */
  cert: Buffer | string;
  /**
   * Require a client certificate signed by this CA (PEM): a client that presents none, or one
   * this CA did not sign, fails the handshake and is listed in `tlsFailures()`.
   */
  clientCa?: Buffer | string;
}

/** The common name of a certificate subject (Node.js gives an array when there are several). */
export function commonName(subject: { CN?: string | string[] } | undefined): string | undefined {
  const name = subject?.CN;
  return Array.isArray(name) ? name.join(', ') : name;
}

/** The common name of the verified client certificate on `socket`, if any. */
function verifiedClientName(socket: unknown): string | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (tls.authorized !== true || typeof tls.getPeerCertificate !== 'function') return undefined;
  return commonName(tls.getPeerCertificate().subject);
}

/** Options for {@link startOtlpReceiver}. */
export interface OtlpReceiverOptions {
  /** Port to listen on (127.0.0.1); default an ephemeral one. */
  port?: number;
  /** Answer the first N POSTs to a `/v1/*` endpoint with {@link OtlpReceiverOptions.failStatus} (data is discarded). */
  failFirst?: number;
  /** Status used by `failFirst`; default 503 (retryable for OTLP exporters). */
  failStatus?: number;
  /**
   * If set, failing responses carry `Retry-After: <n>`. The SDK's exporter retries immediately
   * for `0`, this package's after its backoff; without the header both back off ~1 s (×1.5 per retry).
   */
  retryAfterSeconds?: number;
  /** Serve HTTPS with this key and certificate (and require client certificates with `clientCa`). */
  tls?: ReceiverTls;
}

/** A running receiver from {@link startOtlpReceiver}. */
export interface OtlpReceiver {
  /** Base endpoint `http://127.0.0.1:<port>` (`https://` with `tls`), as for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  url: string;
  /** `${url}/v1/traces`: pass this as `url` to `OTLPTraceExporter`. */
  tracesUrl: string;
  /** `${url}/v1/logs`. */
  logsUrl: string;
  /** `${url}/v1/metrics`. */
  metricsUrl: string;
  /** Listening port. */
  port: number;
  /** Spans received so far (copy), in arrival order. */
  spans(): ReceivedSpan[];
  /** Log records received so far (copy). */
  logRecords(): ReceivedLogRecord[];
  /** Metrics received so far (copy; one entry per metric per request). */
  metrics(): ReceivedMetric[];
  /** Every HTTP request seen, including rejected ones. */
  requests(): OtlpRequestRecord[];
  /** Number of HTTP requests seen (any path, any outcome). */
  readonly requestCount: number;
  /** With `tls`: the TLS handshakes the receiver refused (no or an unverifiable client certificate, ...), as error messages. */
  tlsFailures(): string[];
  /**
   * Polls (every 25 ms) until `predicate(spans)` is true and resolves with the
   * spans; default timeout 10 000 ms.
   * @throws On timeout, with the received span names and request log.
   */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Like {@link OtlpReceiver.waitForSpans} for log records. */
  waitForLogRecords(
    predicate: (records: ReceivedLogRecord[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedLogRecord[]>;
  /** Like {@link OtlpReceiver.waitForSpans} for metrics. */
  waitForMetrics(predicate: (metrics: ReceivedMetric[]) => boolean, timeoutMs?: number): Promise<ReceivedMetric[]>;
  /** Answer the next `count` signal POSTs with `status` (default {@link OtlpReceiverOptions.failStatus}), discarding their data. */
  failNext(count: number, status?: number): void;
  /**
   * Answer the next `count` signal POSTs with `200` and an OTLP partial success saying
   * `rejected` items (data points, spans or log records) were rejected, in the request's encoding.
   * The data is recorded like any accepted request's.
   */
  partialSuccessNext(count: number, rejected: number, errorMessage?: string): void;
  /**
   * Keep the data of the next `count` signal POSTs at once but answer them `200` only after
   * `delayMs`: the headers go out at once and a byte of whitespace every 100 ms, so a client's idle
   * socket timeout never fires (a slow backend or proxy, as the exporter's export timeout sees it).
   */
  slowNext(count: number, delayMs: number): void;
  /** Forgets all received data and requests (the `failFirst` budget is not reset). */
  reset(): void;
  /** Stops the server (open keep-alive connections are closed). Idempotent. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
}

/** Timestamps arrive as decimal strings (or numbers from older encoders). */
function asNanos(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return BigInt(Math.trunc(value)).toString();
  if (isObject(value) && typeof value.low === 'number' && typeof value.high === 'number') {
    return ((BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0)).toString();
  }
  return undefined;
}

function decodeInt(value: unknown): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : String(value);
}

/** Converts an OTLP `AnyValue` to a plain JS value. */
export function decodeAnyValue(value: unknown): OtlpValue {
  if (!isObject(value)) return null;
  if ('stringValue' in value) return String(value.stringValue);
  if ('boolValue' in value) return Boolean(value.boolValue);
  if ('intValue' in value) return decodeInt(value.intValue);
  if ('doubleValue' in value) {
    const d = value.doubleValue;
    // protobuf JSON mapping may encode NaN/Infinity as strings
    return typeof d === 'number' ? d : Number(d);
  }
  if ('arrayValue' in value) {
    return asArray(isObject(value.arrayValue) ? value.arrayValue.values : undefined).map(decodeAnyValue);
  }
  if ('kvlistValue' in value) {
    return decodeAttributes(isObject(value.kvlistValue) ? value.kvlistValue.values : undefined);
  }
  if ('bytesValue' in value) return String(value.bytesValue);
  return null;
}

/** Converts an OTLP `KeyValue[]` to a plain object. */
export function decodeAttributes(keyValues: unknown): OtlpAttributes {
  const out: OtlpAttributes = {};
  for (const kv of asArray(keyValues)) {
    if (isObject(kv) && typeof kv.key === 'string') out[kv.key] = decodeAnyValue(kv.value);
  }
  return out;
}

/**
 * Normalises a trace/span id to lowercase hex. The OTLP/HTTP JSON spec (and
 * the JS exporters, verified with 0.223) use hex; the generic protobuf JSON
 * mapping uses base64, which is converted here.
 */
export function normalizeId(value: unknown, byteLength: 16 | 8): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const hexLength = byteLength * 2;
  if (value.length === hexLength && /^[0-9a-fA-F]+$/.test(value)) return value.toLowerCase();
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length === byteLength) return bytes.toString('hex');
  }
  return value;
}

function isAllZero(id: string | undefined): boolean {
  return id === undefined || /^0+$/.test(id);
}

const SPAN_KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

const STATUS_CODE_NAMES: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

function enumNumber(value: unknown, names: Record<string, number>): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return names[value] ?? asNumber(value) ?? 0;
  return 0;
}

function decodeScope(value: unknown): OtlpScope {
  const scope = isObject(value) ? value : {};
  const version = asString(scope.version);
  return {
    name: asString(scope.name) ?? '',
    ...(version !== undefined && version !== '' ? { version } : {}),
    attributes: decodeAttributes(scope.attributes),
  };
}

function resourceAttributes(resourceEntry: Json): OtlpAttributes {
  return decodeAttributes(isObject(resourceEntry.resource) ? resourceEntry.resource.attributes : undefined);
}

/** Flattens an `ExportTraceServiceRequest` (JSON) into spans. */
export function decodeTraces(body: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of asArray(isObject(body) ? body.resourceSpans : undefined)) {
    if (!isObject(rs)) continue;
    const resource = resourceAttributes(rs);
    for (const ss of asArray(rs.scopeSpans)) {
      if (!isObject(ss)) continue;
      const scope = decodeScope(ss.scope);
      for (const span of asArray(ss.spans)) {
        if (!isObject(span)) continue;
        const parent = normalizeId(span.parentSpanId, 8);
        const status = isObject(span.status) ? span.status : {};
        const statusMessage = asString(status.message);
        spans.push({
          traceId: normalizeId(span.traceId, 16) ?? '',
          spanId: normalizeId(span.spanId, 8) ?? '',
          parentSpanId: isAllZero(parent) ? undefined : parent,
          name: asString(span.name) ?? '',
          kind: enumNumber(span.kind, SPAN_KIND_NAMES),
          startTimeUnixNano: asNanos(span.startTimeUnixNano) ?? '0',
          endTimeUnixNano: asNanos(span.endTimeUnixNano) ?? '0',
          attributes: decodeAttributes(span.attributes),
          status: {
            code: enumNumber(status.code, STATUS_CODE_NAMES),
            ...(statusMessage !== undefined && statusMessage !== '' ? { message: statusMessage } : {}),
          },
          events: asArray(span.events)
            .filter(isObject)
            .map((e) => ({
              name: asString(e.name) ?? '',
              timeUnixNano: asNanos(e.timeUnixNano) ?? '0',
              attributes: decodeAttributes(e.attributes),
            })),
          links: asArray(span.links)
            .filter(isObject)
            .map((l) => ({
              traceId: normalizeId(l.traceId, 16) ?? '',
              spanId: normalizeId(l.spanId, 8) ?? '',
              attributes: decodeAttributes(l.attributes),
            })),
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

/** Flattens an `ExportLogsServiceRequest` (JSON) into log records. */
export function decodeLogs(body: unknown): ReceivedLogRecord[] {
  const records: ReceivedLogRecord[] = [];
  for (const rl of asArray(isObject(body) ? body.resourceLogs : undefined)) {
    if (!isObject(rl)) continue;
    const resource = resourceAttributes(rl);
    for (const sl of asArray(rl.scopeLogs)) {
      if (!isObject(sl)) continue;
      const scope = decodeScope(sl.scope);
      for (const lr of asArray(sl.logRecords)) {
        if (!isObject(lr)) continue;
        const traceId = normalizeId(lr.traceId, 16);
        const spanId = normalizeId(lr.spanId, 8);
        records.push({
          timeUnixNano: asNanos(lr.timeUnixNano),
          observedTimeUnixNano: asNanos(lr.observedTimeUnixNano),
          severityNumber: asNumber(lr.severityNumber),
          severityText: asString(lr.severityText),
          body: lr.body === undefined ? undefined : decodeAnyValue(lr.body),
          attributes: decodeAttributes(lr.attributes),
          traceId: isAllZero(traceId) ? undefined : traceId,
          spanId: isAllZero(spanId) ? undefined : spanId,
          eventName: asString(lr.eventName),
          resource,
          scope,
        });
      }
    }
  }
  return records;
}

const METRIC_TYPES = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const;

/** Flattens an `ExportMetricsServiceRequest` (JSON) into metrics. */
export function decodeMetrics(body: unknown): ReceivedMetric[] {
  const metrics: ReceivedMetric[] = [];
  for (const rm of asArray(isObject(body) ? body.resourceMetrics : undefined)) {
    if (!isObject(rm)) continue;
    const resource = resourceAttributes(rm);
    for (const sm of asArray(rm.scopeMetrics)) {
      if (!isObject(sm)) continue;
      const scope = decodeScope(sm.scope);
      for (const metric of asArray(sm.metrics)) {
        if (!isObject(metric)) continue;
        const type = METRIC_TYPES.find((t) => isObject(metric[t])) ?? 'unknown';
        const data = type === 'unknown' ? {} : (metric[type] as Json);
        metrics.push({
          name: asString(metric.name) ?? '',
          description: asString(metric.description) ?? '',
          unit: asString(metric.unit) ?? '',
          type,
          isMonotonic: typeof data.isMonotonic === 'boolean' ? data.isMonotonic : undefined,
          aggregationTemporality:
            data.aggregationTemporality === undefined
              ? undefined
              : enumNumber(data.aggregationTemporality, {
                  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
                  AGGREGATION_TEMPORALITY_DELTA: 1,
                  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
                }),
          dataPoints: asArray(data.dataPoints)
            .filter(isObject)
            .map((dp) => ({
              attributes: decodeAttributes(dp.attributes),
              startTimeUnixNano: asNanos(dp.startTimeUnixNano),
              timeUnixNano: asNanos(dp.timeUnixNano),
              value:
                dp.asDouble !== undefined
                  ? asNumber(dp.asDouble)
                  : dp.asInt !== undefined
                    ? asNumber(dp.asInt)
                    : undefined,
              raw: dp,
            })),
          resource,
          scope,
        });
      }
    }
  }
  return metrics;
}

// ---------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------

interface ProtobufMessageType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Json;
}
interface ProtobufResponseType {
  fromObject(object: Json): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}
interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: { ExportTraceServiceRequest: ProtobufMessageType; ExportTraceServiceResponse: ProtobufResponseType };
        };
        logs: {
          v1: { ExportLogsServiceRequest: ProtobufMessageType; ExportLogsServiceResponse: ProtobufResponseType };
        };
        metrics: {
          v1: { ExportMetricsServiceRequest: ProtobufMessageType; ExportMetricsServiceResponse: ProtobufResponseType };
        };
      };
    };
  };
}

let generatedRoot: GeneratedRoot | undefined;
function protobufTypes(): GeneratedRoot['opentelemetry']['proto']['collector'] {
  generatedRoot ??= createRequire(import.meta.url)(
    'otlp-proto-definitions/build/src/generated/root.js',
  ) as GeneratedRoot;
  return generatedRoot.opentelemetry.proto.collector;
}

/**
 * Decodes an OTLP protobuf request body of `path` into the same object shape the OTLP/JSON encoding
 * has (camelCase fields, 64-bit integers as decimal strings, ids as base64, enums as numbers), so
 * one set of decoders serves both encodings.
 */
export function decodeProtobufRequest(path: string, bytes: Uint8Array): Json {
  const types = protobufTypes();
  const type =
    path === '/v1/traces'
      ? types.trace.v1.ExportTraceServiceRequest
      : path === '/v1/logs'
        ? types.logs.v1.ExportLogsServiceRequest
        : types.metrics.v1.ExportMetricsServiceRequest;
  return type.toObject(type.decode(bytes), { longs: String, enums: Number, bytes: String, arrays: true });
}

/** An export response with a partial success of `rejected` items, protobuf-encoded for `path`. */
export function encodePartialSuccess(path: string, rejected: number, errorMessage: string): Uint8Array {
  const types = protobufTypes();
  const [type, field] =
    path === '/v1/traces'
      ? [types.trace.v1.ExportTraceServiceResponse, 'rejectedSpans']
      : path === '/v1/logs'
        ? [types.logs.v1.ExportLogsServiceResponse, 'rejectedLogRecords']
        : [types.metrics.v1.ExportMetricsServiceResponse, 'rejectedDataPoints'];
  return type.encode(type.fromObject({ partialSuccess: { [field]: rejected, errorMessage } })).finish();
}

const REJECTED_FIELD: Record<string, string> = {
  '/v1/traces': 'rejectedSpans',
  '/v1/logs': 'rejectedLogRecords',
  '/v1/metrics': 'rejectedDataPoints',
};

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

const SIGNAL_PATHS = new Set(['/v1/traces', '/v1/logs', '/v1/metrics']);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Starts an OTLP/HTTP JSON receiver on `127.0.0.1:<ephemeral port>`.
 *
 * - `POST /v1/traces|logs|metrics` with `Content-Type: application/json` or
 *   `application/x-protobuf` (optionally `Content-Encoding: gzip|deflate`) →
 *   decoded, `200 {}`.
 * - Other content types → `415`.
 * - Malformed bodies → `400`; unknown paths → `404`; other methods → `405`.
 * - The first `failFirst` signal POSTs → `failStatus` (503), data discarded.
 * - With `tls`: HTTPS; with `tls.clientCa`, a handshake without a client certificate that CA
 *   signed is refused (no request is seen) and listed in `tlsFailures()`.
 */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const failStatus = options.failStatus ?? 503;
  let failuresLeft = options.failFirst ?? 0;
  let currentFailStatus = failStatus;
  let partialSuccessesLeft = 0;
  let slowLeft = 0;
  let slowDelayMs = 0;
  let partialSuccess = { rejected: 0, errorMessage: '' };
  let spans: ReceivedSpan[] = [];
  let logRecords: ReceivedLogRecord[] = [];
  let metrics: ReceivedMetric[] = [];
  let requests: OtlpRequestRecord[] = [];
  let requestCount = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requestCount++;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const record: OtlpRequestRecord = {
      method: req.method ?? '',
      path,
      target: req.url ?? '',
      contentType,
      headers,
      status: 0,
    };
    const clientCertificate = verifiedClientName(req.socket);
    if (clientCertificate !== undefined) record.clientCertificate = clientCertificate;
    requests.push(record);
    const reject = (status: number, error: string, headers: Record<string, string> = {}): void => {
      record.status = status;
      record.error = error;
      send(res, status, { code: status, message: error }, headers);
    };

    const raw = await readBody(req);
    if (!SIGNAL_PATHS.has(path)) {
      reject(404, `unknown path ${path}; expected /v1/traces, /v1/logs or /v1/metrics`);
      return;
    }
    if (req.method !== 'POST') {
      reject(405, `method ${req.method ?? ''} not allowed`, { Allow: 'POST' });
      return;
    }
    if (failuresLeft > 0) {
      failuresLeft--;
      reject(
        currentFailStatus,
        'simulated failure',
        options.retryAfterSeconds !== undefined ? { 'Retry-After': String(options.retryAfterSeconds) } : {},
      );
      return;
    }
    if (contentType !== 'application/json' && contentType !== 'application/x-protobuf') {
      reject(
        415,
        `unsupported content type "${contentType}"; this test receiver decodes application/json and application/x-protobuf`,
      );
      return;
    }
    let body: unknown;
    try {
      const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
      const decoded = encoding === 'gzip' ? gunzipSync(raw) : encoding === 'deflate' ? inflateSync(raw) : raw;
      body =
        contentType === 'application/json'
          ? JSON.parse(decoded.toString('utf8'))
          : decodeProtobufRequest(path, decoded);
    } catch (err) {
      reject(400, `cannot decode body: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    record.body = body;
    if (path === '/v1/traces') spans.push(...decodeTraces(body));
    else if (path === '/v1/logs') logRecords.push(...decodeLogs(body));
    else metrics.push(...decodeMetrics(body));
    record.status = 200;
    if (slowLeft > 0) {
      slowLeft--;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const deadline = Date.now() + slowDelayMs;
      while (Date.now() < deadline) {
        await sleep(Math.min(100, Math.max(deadline - Date.now(), 0)));
        res.write(' ');
      }
      res.end('{}');
      return;
    }
    if (partialSuccessesLeft > 0) {
      partialSuccessesLeft--;
      const { rejected, errorMessage } = partialSuccess;
      if (contentType === 'application/json')
        send(res, 200, { partialSuccess: { [REJECTED_FIELD[path] as string]: String(rejected), errorMessage } });
      else {
        const bytes = encodePartialSuccess(path, rejected, errorMessage);
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': bytes.length });
        res.end(bytes);
      }
      return;
    }
    // A full success, in the request's encoding as the specification asks (an empty protobuf
    // message is zero bytes); a JSON body would not parse as the protobuf response.
    if (contentType === 'application/json') send(res, 200, {});
    else {
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 });
      res.end();
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { message: String(err) });
      else res.destroy();
    });
  };
  const tls = options.tls;
  const tlsFailures: string[] = [];
  const server =
    tls === undefined
      ? createServer(listener)
      : createTlsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
          },
          listener,
        );
  server.on('tlsClientError', (error: Error) => tlsFailures.push(error.message));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;

  const describeState = (): string =>
    (tlsFailures.length > 0 ? `TLS handshakes refused: ${JSON.stringify(tlsFailures)}\n` : '') +
    `spans received (${spans.length}): ${JSON.stringify(spans.map((s) => s.name))}\n` +
    `log records received: ${logRecords.length}, metrics received: ${metrics.length}\n` +
    `requests (${requestCount}):\n` +
    (requests
      .map((r) => `  ${r.method} ${r.path} [${r.contentType}] -> ${r.status}${r.error ? ` (${r.error})` : ''}`)
      .join('\n') || '  (none)');

  async function waitFor<T>(
    what: string,
    get: () => T[],
    predicate: (items: T[]) => boolean,
    timeoutMs: number,
  ): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const items = get();
      if (predicate(items)) return items;
      if (Date.now() >= deadline) {
        throw new Error(
          `OTLP receiver at ${url}: timed out after ${timeoutMs} ms waiting for ${what}\n${describeState()}`,
        );
      }
      await sleep(25);
    }
  }

  let closed: Promise<void> | undefined;

  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    logsUrl: `${url}/v1/logs`,
    metricsUrl: `${url}/v1/metrics`,
    port,
    spans: () => [...spans],
    logRecords: () => [...logRecords],
    metrics: () => [...metrics],
    requests: () => [...requests],
    get requestCount() {
      return requestCount;
    },
    tlsFailures: () => [...tlsFailures],
    waitForSpans: (predicate, timeoutMs = 10_000) => waitFor('spans', () => [...spans], predicate, timeoutMs),
    waitForLogRecords: (predicate, timeoutMs = 10_000) =>
      waitFor('log records', () => [...logRecords], predicate, timeoutMs),
    waitForMetrics: (predicate, timeoutMs = 10_000) => waitFor('metrics', () => [...metrics], predicate, timeoutMs),
    failNext: (count, status) => {
      failuresLeft = count;
      currentFailStatus = status ?? failStatus;
    },
    partialSuccessNext: (count, rejected, errorMessage = 'rejected by the test receiver') => {
      partialSuccessesLeft = count;
      partialSuccess = { rejected, errorMessage };
    },
    slowNext: (count, delayMs) => {
      slowLeft = count;
      slowDelayMs = delayMs;
    },
    reset: () => {
      spans = [];
      logRecords = [];
      metrics = [];
      requests = [];
      requestCount = 0;
      tlsFailures.length = 0;
    },
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
