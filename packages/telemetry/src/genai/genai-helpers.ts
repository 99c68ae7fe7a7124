import type { GenAiOperationRecord, GenAiServerRequestRecord } from './genai-metrics.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';

// The GenAI helpers on the shared instance (see getTelemetry()), for applications that use one.

/**
 * Record one GenAI client operation on the shared instance, following the OpenTelemetry GenAI
 * conventions: its duration in seconds in `gen_ai.client.operation.duration` and, for each token
 * count given, one observation in `gen_ai.client.token.usage`. An invalid duration drops the whole
 * record; an invalid token count drops that observation only (both counted in
 * `gatewayz_telemetry_dropped_total`).
 *
 * @example
 * ```ts
 * recordGenAiOperation({
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   durationSeconds: 1.3, inputTokens: 420, outputTokens: 128,
 * });
 * ```
 *
 * @see GatewayTelemetry.recordGenAiOperation
 */
export function recordGenAiOperation(operation: GenAiOperationRecord): void {
  getTelemetry().recordGenAiOperation(operation);
}

/**
 * Record one request the gateway answered, as the GenAI server its clients call, on the shared
 * instance: `gen_ai.server.request.duration`, and for a successful streamed answer
 * `gen_ai.server.time_to_first_token` and `gen_ai.server.time_per_output_token`.
 *
 * @example
 * ```ts
 * recordGenAiServerRequest({
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   durationSeconds: 1.9, timeToFirstTokenSeconds: 0.4, outputTokens: 151,
 * });
 * ```
 *
 * @see GatewayTelemetry.recordGenAiServerRequest
 */
export function recordGenAiServerRequest(request: GenAiServerRequestRecord): void {
  getTelemetry().recordGenAiServerRequest(request);
}
