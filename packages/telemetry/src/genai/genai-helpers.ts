import type { GenAiOperationRecord } from './genai-metrics.js';
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
