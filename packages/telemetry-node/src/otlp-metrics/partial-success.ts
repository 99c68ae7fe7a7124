/**
 * OTLP partial success: the backend answers `200` but says it rejected some data points
 * (`ExportMetricsServiceResponse.partial_success.rejected_data_points`). The specification has the
 * client not retry such a request, so those points are lost; the maintained exporter only logs
 * them and reports the export as a success. This wraps the serializer to see the response and
 * report the rejection, so it can be counted.
 */
import type { MetricsRequestSerializer } from './exemplar-serializer.js';

/** What the backend rejected from one request. */
export interface RejectedDataPoints {
  /** `rejected_data_points`, at least 1. */
  readonly dataPoints: number;
  /** The backend's `error_message`, possibly empty. */
  readonly errorMessage: string;
}

/** An int64 as a decoder gives it: a number, a decimal string (JSON) or a Long (protobuf). */
function int64(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  if (typeof value === 'object' && value !== null && typeof (value as { toNumber?: unknown }).toNumber === 'function')
    return (value as { toNumber(): number }).toNumber();
  return 0;
}

/** The rejected data points a decoded export response announces, if any (protobuf or JSON shape). */
export function rejectedDataPointsOf(response: unknown): RejectedDataPoints | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const partial = (response as { partialSuccess?: unknown }).partialSuccess;
  if (typeof partial !== 'object' || partial === null) return undefined;
  const { rejectedDataPoints, errorMessage } = partial as { rejectedDataPoints?: unknown; errorMessage?: unknown };
  const dataPoints = int64(rejectedDataPoints);
  if (!(dataPoints > 0)) return undefined;
  return { dataPoints, errorMessage: typeof errorMessage === 'string' ? errorMessage : '' };
}

/**
 * `base` with every decoded response checked for rejected data points, reported to `onRejected`
 * before the exporter reports the export's result.
 *
 * @example
 * ```ts
 * const serializer = reportingRejections(ProtobufMetricsSerializer, (rejected) => count(rejected.dataPoints));
 * ```
 */
export function reportingRejections<Response>(
  base: MetricsRequestSerializer<Response>,
  onRejected: (rejected: RejectedDataPoints) => void,
): MetricsRequestSerializer<Response> {
  return {
    serializeRequest: (request) => base.serializeRequest(request),
    deserializeResponse(data) {
      const response = base.deserializeResponse(data);
      const rejected = rejectedDataPointsOf(response);
      if (rejected !== undefined) onRejected(rejected);
      return response;
    },
  };
}
