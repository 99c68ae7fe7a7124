/**
 * OTLP carries exemplars on histogram data points; the maintained OTLP serializers of the JS SDK
 * write none (the SDK has no exemplars yet). This serializer wraps the maintained one: it encodes
 * the request exactly as the stock serializer does, then adds each histogram point's exemplars
 * (`HistogramDataPoint.exemplars`, field 8; `ExponentialHistogramDataPoint.exemplars`, field 11) to
 * that point, copying every other byte as it is. A request without exemplars comes out byte for
 * byte identical to the stock one.
 */
import type { HrTime } from '@opentelemetry/api';
import {
  DataPointType,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/** One exemplar as the OTLP exemplar message holds it. */
export interface OtlpExemplar {
  /** The observed value. */
  readonly value: number;
  /**
   * 32 lowercase hex characters; `undefined` for an observation made outside any sampled span (the
   * `always_on` exemplar filter), which OTLP carries without `trace_id` and `span_id`.
   */
  readonly traceId: string | undefined;
  /** 16 lowercase hex characters; `undefined` together with `traceId`. */
  readonly spanId: string | undefined;
  /** Unix time in seconds (fractions allowed). */
  readonly timestampSeconds: number;
}

/** The exemplars of one histogram data point (explicit or exponential) of a collection, or none. */
export type ExemplarLookup = (
  point: DataPoint<Histogram | ExponentialHistogram>,
) => readonly OtlpExemplar[] | undefined;

/** The serializer seam of the maintained exporters (`ISerializer` of `@opentelemetry/otlp-transformer`). */
export interface MetricsRequestSerializer<Response> {
  serializeRequest(request: ResourceMetrics): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): Response;
}

const HEX = /^[0-9a-f]+$/;

/** Whether the exemplar carries a trace: both ids given. */
function hasIds(exemplar: OtlpExemplar): exemplar is OtlpExemplar & { traceId: string; spanId: string } {
  return exemplar.traceId !== undefined && exemplar.spanId !== undefined;
}

/** Both ids well-formed, or both absent (an observation outside any sampled span). */
function hasValidIds(exemplar: OtlpExemplar): boolean {
  if (!hasIds(exemplar)) return exemplar.traceId === undefined && exemplar.spanId === undefined;
  return (
    exemplar.traceId.length === 32 &&
    exemplar.spanId.length === 16 &&
    HEX.test(exemplar.traceId) &&
    HEX.test(exemplar.spanId)
  );
}

function hrTimeSeconds(time: HrTime): number {
  return time[0] + time[1] / 1e9;
}

/** The exemplars of every histogram point in serialisation order (resource, scope, metric, point). */
function exemplarsInOrder(
  request: ResourceMetrics,
  lookup: ExemplarLookup,
): Array<readonly OtlpExemplar[]> | undefined {
  const ordered: Array<readonly OtlpExemplar[]> = [];
  let any = false;
  for (const scope of request.scopeMetrics)
    for (const metric of scope.metrics) {
      if (
        metric.dataPointType !== DataPointType.HISTOGRAM &&
        metric.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM
      )
        continue;
      for (const point of metric.dataPoints as Array<DataPoint<Histogram | ExponentialHistogram>>) {
        // Only exemplars observed within the point's own interval (all of them for cumulative points).
        const start = hrTimeSeconds(point.startTime);
        const found = (lookup(point) ?? []).filter(
          (exemplar) => exemplar.timestampSeconds >= start && hasValidIds(exemplar),
        );
        if (found.length > 0) any = true;
        ordered.push(found);
      }
    }
  return any ? ordered : undefined;
}

// --- protobuf ------------------------------------------------------------------------------------

class Bytes {
  private buffer = new Uint8Array(256);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  varint(value: number): void {
    this.reserve(10);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  fixed64(value: bigint): void {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, value, true);
    this.bytes(new Uint8Array(view.buffer));
  }

  double(value: number): void {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value, true);
    this.bytes(new Uint8Array(view.buffer));
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

function readVarint(data: Uint8Array, offset: number): [value: number, next: number] {
  let value = 0;
  let factor = 1;
  let position = offset;
  for (;;) {
    if (position >= data.length) throw new Error('truncated varint');
    const byte = data[position++] as number;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return [value, position];
    factor *= 0x80;
  }
}

/** The end of the field value starting at `offset` (after its tag), for wire type `wireType`. */
function skipValue(data: Uint8Array, offset: number, wireType: number): number {
  switch (wireType) {
    case 0:
      return readVarint(data, offset)[1];
    case 1:
      return offset + 8;
    case 2: {
      const [length, start] = readVarint(data, offset);
      return start + length;
    }
    case 5:
      return offset + 4;
    default:
      throw new Error(`unsupported protobuf wire type ${wireType}`);
  }
}

/**
 * The `Exemplar` message: time_unix_nano (2), as_double (3), span_id (4), trace_id (5); the ids
 * only when the exemplar has them (empty bytes are what proto3 leaves out anyway).
 */
function encodeExemplar(exemplar: OtlpExemplar): Uint8Array {
  const out = new Bytes();
  out.varint((2 << 3) | 1);
  out.fixed64(BigInt(Math.round(exemplar.timestampSeconds * 1e6)) * 1000n);
  out.varint((3 << 3) | 1);
  out.double(exemplar.value);
  if (hasIds(exemplar)) {
    out.varint((4 << 3) | 2);
    out.varint(8);
    out.bytes(Uint8Array.from(Buffer.from(exemplar.spanId, 'hex')));
    out.varint((5 << 3) | 2);
    out.varint(16);
    out.bytes(Uint8Array.from(Buffer.from(exemplar.traceId, 'hex')));
  }
  return out.finish();
}

/**
 * Path from the request to a histogram data point: ExportMetricsServiceRequest.resource_metrics (1)
 * → ResourceMetrics.scope_metrics (2) → ScopeMetrics.metrics (2) → Metric.histogram (9) or
 * Metric.exponential_histogram (10) → data_points (1).
 */
const PATH: ReadonlyArray<readonly number[]> = [[1], [2], [2], [9, 10], [1]];
/** The data point's exemplars field, by the Metric field holding the points. */
const EXEMPLARS_FIELD: Readonly<Record<number, number>> = { 9: 8, 10: 11 };

/**
 * Copy `data` (a message at `depth` of {@link PATH}), rewriting the fields on the path and, at the
 * data point level, appending the next point's exemplars (in field `exemplarsField`). `cursor.point`
 * counts points in order.
 */
function splice(
  data: Uint8Array,
  depth: number,
  exemplars: ReadonlyArray<readonly OtlpExemplar[]>,
  cursor: { point: number },
  exemplarsField = 8,
): Uint8Array {
  const out = new Bytes();
  let offset = 0;
  while (offset < data.length) {
    const [tag, valueStart] = readVarint(data, offset);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    const end = skipValue(data, valueStart, wireType);
    if (wireType === 2 && PATH[depth]!.includes(field)) {
      const [length, payloadStart] = readVarint(data, valueStart);
      const payload = data.subarray(payloadStart, payloadStart + length);
      let rewritten: Uint8Array;
      if (depth === PATH.length - 1) {
        const point = new Bytes();
        point.bytes(payload);
        for (const exemplar of exemplars[cursor.point] ?? []) {
          const encoded = encodeExemplar(exemplar);
          point.varint((exemplarsField << 3) | 2);
          point.varint(encoded.length);
          point.bytes(encoded);
        }
        cursor.point++;
        rewritten = point.finish();
      } else {
        rewritten = splice(payload, depth + 1, exemplars, cursor, EXEMPLARS_FIELD[field] ?? exemplarsField);
      }
      out.varint(tag);
      out.varint(rewritten.length);
      out.bytes(rewritten);
    } else {
      out.bytes(data.subarray(offset, end));
    }
    offset = end;
  }
  return out.finish();
}

// --- JSON ----------------------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

function jsonExemplar(exemplar: OtlpExemplar): JsonObject {
  const json: JsonObject = {
    timeUnixNano: (BigInt(Math.round(exemplar.timestampSeconds * 1e6)) * 1000n).toString(),
    asDouble: exemplar.value,
  };
  if (hasIds(exemplar)) {
    json['spanId'] = exemplar.spanId;
    json['traceId'] = exemplar.traceId;
  }
  return json;
}

function addJsonExemplars(body: JsonObject, exemplars: ReadonlyArray<readonly OtlpExemplar[]>): void {
  let index = 0;
  for (const resource of (body['resourceMetrics'] as JsonObject[] | undefined) ?? [])
    for (const scope of (resource['scopeMetrics'] as JsonObject[] | undefined) ?? [])
      for (const metric of (scope['metrics'] as JsonObject[] | undefined) ?? []) {
        const histogram = (metric['histogram'] ?? metric['exponentialHistogram']) as JsonObject | undefined;
        if (histogram === undefined) continue;
        for (const point of (histogram['dataPoints'] as JsonObject[] | undefined) ?? []) {
          const found = exemplars[index++] ?? [];
          if (found.length > 0) point['exemplars'] = found.map(jsonExemplar);
        }
      }
}

/**
 * `base` (the maintained protobuf or JSON metrics serializer) with each histogram data point's
 * exemplars from `lookup` added where OTLP carries them.
 *
 * @example
 * ```ts
 * const serializer = withExemplars(ProtobufMetricsSerializer, 'protobuf', (point) => exemplarsOf(point));
 * ```
 */
export function withExemplars<Response>(
  base: MetricsRequestSerializer<Response>,
  encoding: 'protobuf' | 'json',
  lookup: ExemplarLookup,
): MetricsRequestSerializer<Response> {
  return {
    serializeRequest(request) {
      const encoded = base.serializeRequest(request);
      if (encoded === undefined) return undefined;
      const exemplars = exemplarsInOrder(request, lookup);
      if (exemplars === undefined) return encoded;
      if (encoding === 'protobuf') return splice(encoded, 0, exemplars, { point: 0 });
      const body = JSON.parse(new TextDecoder().decode(encoded)) as JsonObject;
      addJsonExemplars(body, exemplars);
      return new TextEncoder().encode(JSON.stringify(body));
    },
    deserializeResponse: (data) => base.deserializeResponse(data),
  };
}
