/**
 * OTLP partial success: the backend answers `200` (gRPC `OK`) but says it rejected some of the
 * request's items (`partial_success.rejected_data_points`, `rejected_spans` or
 * `rejected_log_records` of the `Export*ServiceResponse`). The specification has the client not
 * retry such a request, so those items are lost; the maintained exporters only log them to `diag`
 * and report the export as a success. This wraps a serializer to see each response and report the
 * rejection, so it can be counted: for metrics, and for the span and log exporters.
 */
import { diag } from '@opentelemetry/api';
import type { MetricsRequestSerializer } from './exemplar-serializer.js';

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

/** An int64 as a decoder gives it: a number, a decimal string (JSON) or a Long (protobuf). */
function int64(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  if (typeof value === 'object' && value !== null && typeof (value as { toNumber?: unknown }).toNumber === 'function')
    return (value as { toNumber(): number }).toNumber();
  return 0;
}

/** The items of `field` a decoded export response announces rejected, if any (protobuf or JSON shape). */
export function rejectedItemsOf(response: unknown, field: RejectedItemsField): RejectedItems | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const partial = (response as { partialSuccess?: unknown }).partialSuccess;
  if (typeof partial !== 'object' || partial === null) return undefined;
  const count = int64((partial as Record<string, unknown>)[field]);
  if (!(count > 0)) return undefined;
  const errorMessage = (partial as { errorMessage?: unknown }).errorMessage;
  return { count, errorMessage: typeof errorMessage === 'string' ? errorMessage : '' };
}

/**
 * `base` with every decoded response handed to `onResponse` with the items of `field` it announces
 * rejected (`undefined` when none were), before the exporter reports the export's result.
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
  return {
    serializeRequest: (request) => base.serializeRequest(request),
    deserializeResponse(data) {
      const response = base.deserializeResponse(data);
      onResponse(rejectedItemsOf(response, field));
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
