/**
 * OTLP partial success: the backend answers `200` (gRPC `OK`) but says it rejected some of the
 * request's items (`partial_success.rejected_data_points`, `rejected_spans` or
 * `rejected_log_records` of the `Export*ServiceResponse`). The specification has the client not
 * retry such a request, so those items are lost; the maintained exporters only log them to `diag`
 * and report the export as a success. This wraps a serializer to see each response and report the
 * rejection, so it can be counted: for metrics, and for the span and log exporters.
 */
import { diag } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { EncodedTraceRequest } from '../tracing/encoded-trace-request.js';
import type { MetricsRequestSerializer } from './exemplar-serializer.js';
import { recordRequestItems, requestItemsOf } from './request-items.js';

/** The field of `partial_success` counting a signal's rejected items, as the decoders name it. */
export type RejectedItemsField = 'rejectedDataPoints' | 'rejectedSpans' | 'rejectedLogRecords';

/** The items (spans, log records, data points) the backend rejected from one request. */
export interface RejectedItems {
  /** At least 1. */
  readonly count: number;
  /** The backend's `error_message`, possibly empty. */
  readonly errorMessage: string;
}

/** A serializer as the SDK's export delegates take it (`ISerializer` of `@opentelemetry/otlp-transformer`). */
export interface OtlpRequestSerializer<Request, Response> {
  serializeRequest(request: Request): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): Response;
}

/** 2^63: an int64 a decoder read as unsigned (protobuf varint) at or above it is a negative one. */
const INT64_SIGN_BIT = 2 ** 63;

/** A Long (`long`, as protobufjs gives an int64 when that package is loaded): two 32-bit halves. */
interface LongBits {
  readonly low: number;
  readonly high: number;
}

function isLongBits(value: unknown): value is LongBits {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { low?: unknown }).low === 'number' &&
    typeof (value as { high?: unknown }).high === 'number'
  );
}

/**
 * A count of items from an int64 as a decoder gives it: a number (protobuf, read as unsigned), a
 * decimal string or number (JSON) or a Long. The int64 is read as signed, so the `-1` a protobuf
 * decoder hands over as 2^64 − 1 is negative. `undefined` for anything but a non-negative integer.
 */
function itemCount(value: unknown): number | undefined {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value < INT64_SIGN_BIT ? value : undefined;
  if (typeof value === 'string') {
    const text = value.trim();
    // Digits are read exactly: 2^63 or more is a negative int64 (or none), as over protobuf.
    if (/^[+-]?\d+$/.test(text)) {
      const digits = BigInt(text);
      return digits >= 0n && digits < BigInt(INT64_SIGN_BIT) ? Number(digits) : undefined;
    }
    // Otherwise a JSON number in a string ("1e3"); not hex, binary or octal, which Number() would read.
    return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? itemCount(Number(text)) : undefined;
  }
  if (isLongBits(value)) return itemCount(Number(signedLong(value)));
  return undefined;
}

/** A Long's int64, signed. */
function signedLong(value: LongBits): bigint {
  return BigInt.asIntN(64, (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0));
}

/** What the backend sent as a count, for a warning: strings quoted, a protobuf `-1` named as such. */
function describeSent(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
  if (typeof value === 'number')
    return value >= INT64_SIGN_BIT
      ? `${value} (2^63 or more: a negative int64 read as unsigned, or no int64)`
      : `${value}`;
  if (isLongBits(value)) return `${signedLong(value)} (a Long)`;
  if (typeof value === 'bigint') return `${value}`;
  return JSON.stringify(value) ?? typeof value;
}

/**
 * The items of `field` a decoded export response announces rejected, if any (protobuf or JSON
 * shape). A count that is not a non-negative integer (a negative int64, a fraction, text) is no
 * rejection: it goes to `onInvalid`, described, and is not counted.
 */
export function rejectedItemsOf(
  response: unknown,
  field: RejectedItemsField,
  onInvalid: (sent: string, errorMessage: string) => void = () => {},
): RejectedItems | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const partial = (response as { partialSuccess?: unknown }).partialSuccess;
  if (typeof partial !== 'object' || partial === null) return undefined;
  const sent = (partial as Record<string, unknown>)[field];
  // Absent is proto3's 0.
  if (sent === undefined || sent === null) return undefined;
  const message = (partial as { errorMessage?: unknown }).errorMessage;
  const errorMessage = typeof message === 'string' ? message : '';
  const count = itemCount(sent);
  if (count === undefined) {
    onInvalid(describeSent(sent), errorMessage);
    return undefined;
  }
  if (count === 0) return undefined;
  return { count, errorMessage };
}

/** The items each field counts, in the plural. */
const ITEMS: Record<RejectedItemsField, string> = {
  rejectedSpans: 'spans',
  rejectedLogRecords: 'log records',
  rejectedDataPoints: 'data points',
};

/**
 * The items of `field` in a request as the serializers take it: spans or log records (an array),
 * an {@link EncodedTraceRequest}, or a metrics collection's data points; `undefined` for another shape.
 */
function requestItemCount(request: unknown, field: RejectedItemsField): number | undefined {
  if (Array.isArray(request)) return request.length;
  if (typeof request !== 'object' || request === null) return undefined;
  if (field === 'rejectedSpans') {
    const spanCount = (request as Partial<EncodedTraceRequest>).spanCount;
    return typeof spanCount === 'number' ? spanCount : undefined;
  }
  if (field !== 'rejectedDataPoints') return undefined;
  const scopes = (request as Partial<ResourceMetrics>).scopeMetrics;
  if (!Array.isArray(scopes)) return undefined;
  let points = 0;
  for (const scope of scopes) for (const metric of scope.metrics) points += metric.dataPoints.length;
  return points;
}

/**
 * `base` with every decoded response handed to `onResponse` with the items of `field` it announces
 * rejected (`undefined` when none were), before the exporter reports the export's result. A count
 * that is not a non-negative integer is not counted, and one above the items of the request the
 * response answers is capped at them (known when the transport called `carryRequestItems`); each
 * is warned about through `diag` once.
 *
 * @example
 * ```ts
 * const serializer = reportingRejectedItems(ProtobufLogsSerializer, 'rejectedLogRecords', (rejected) => {
 *   if (rejected !== undefined) count(rejected.count);
 * });
 * ```
 */
export function reportingRejectedItems<Request, Response>(
  base: OtlpRequestSerializer<Request, Response>,
  field: RejectedItemsField,
  onResponse: (rejected: RejectedItems | undefined) => void,
): OtlpRequestSerializer<Request, Response> {
  let warnedInvalid = false;
  let warnedAboveRequest = false;
  const onInvalid = (sent: string, errorMessage: string): void => {
    if (warnedInvalid) return;
    warnedInvalid = true;
    diag.warn(
      `@gatewayz/telemetry-node: an OTLP backend answered a partial success with ${field} ${sent}, which is not a count of ${ITEMS[field]}, and the message ${
        errorMessage || '(no message)'
      }; the count is not used (warned once)`,
    );
  };
  return {
    serializeRequest(request) {
      const bytes = base.serializeRequest(request);
      const items = requestItemCount(request, field);
      if (bytes !== undefined && items !== undefined) recordRequestItems(bytes, items);
      return bytes;
    },
    deserializeResponse(data) {
      const response = base.deserializeResponse(data);
      let rejected = rejectedItemsOf(response, field, onInvalid);
      const held = requestItemsOf(data);
      if (rejected !== undefined && held !== undefined && rejected.count > held) {
        if (!warnedAboveRequest) {
          warnedAboveRequest = true;
          diag.warn(
            `@gatewayz/telemetry-node: an OTLP backend answered a partial success rejecting ${rejected.count} ${ITEMS[field]} of a request of ${held}; counted as ${held} (warned once)`,
          );
        }
        rejected = held > 0 ? { ...rejected, count: held } : undefined;
      }
      onResponse(rejected);
      return response;
    },
  };
}

/**
 * `base` with every decoded response checked for rejected data points, reported to `onRejected`
 * before the exporter reports the export's result.
 *
 * @example
 * ```ts
 * const serializer = reportingRejections(ProtobufMetricsSerializer, (rejected) => count(rejected.count));
 * ```
 */
export function reportingRejections<Response>(
  base: MetricsRequestSerializer<Response>,
  onRejected: (rejected: RejectedItems) => void,
): MetricsRequestSerializer<Response> {
  return reportingRejectedItems(base, 'rejectedDataPoints', (rejected) => {
    if (rejected !== undefined) onRejected(rejected);
  });
}

/** How the span and log exporters' rejections are named and counted. */
export interface RejectedItemsCounter {
  /** The items, in the plural: `spans`, `log records`. */
  readonly items: string;
  /** Where the exporter sends them, for the warning. */
  readonly url: string;
  /** The counter's series, for the warning: `gatewayz_telemetry_spans_dropped_total{reason="rejected"}`. */
  readonly series: string;
  /** Count `count` rejected items. */
  readonly count: (count: number) => void;
}

/**
 * The `onResponse` of {@link reportingRejectedItems} for a span or log exporter: every rejection is
 * counted, and a `diag` warning with the backend's `error_message` is given when rejections start
 * (again after a response without any), not once per request. The export still succeeds, as the
 * specification has it: a flush is not failed for items the backend chose to refuse.
 *
 * @example
 * ```ts
 * const onResponse = countingRejections({ items: 'spans', url, series, count: (count) => onDrop('rejected', count) });
 * ```
 */
export function countingRejections(counter: RejectedItemsCounter): (rejected: RejectedItems | undefined) => void {
  let warned = false;
  return (rejected) => {
    if (rejected === undefined) {
      warned = false;
      return;
    }
    counter.count(rejected.count);
    if (warned) return;
    warned = true;
    diag.warn(
      `@gatewayz/telemetry-node: the OTLP backend at ${counter.url} rejected ${rejected.count} ${counter.items} of an accepted request (partial success): ${
        rejected.errorMessage || '(no message)'
      }; counted in ${counter.series} (its prefix is the one configured)`,
    );
  };
}
