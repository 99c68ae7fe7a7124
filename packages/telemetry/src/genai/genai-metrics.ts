import type { TokenType } from '../metrics/metric-definition.js';
import { defineHelpers, type MetricRecorder } from '../metrics/metric-recorder.js';

/**
 * Inputs of one GenAI client operation (OpenTelemetry GenAI semantic conventions).
 *
 * @example
 * ```ts
 * const operation: GenAiOperationRecord = {
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   durationSeconds: 1.3, inputTokens: 420, outputTokens: 128,
 * };
 * recordGenAiOperation(operation);
 * ```
 */
export interface GenAiOperationRecord {
  /** `gen_ai.operation.name`, e.g. `chat` or `embeddings` (see `semconv.GEN_AI_OPERATION_NAMES`). */
  operationName: string;
  /** `gen_ai.provider.name`, e.g. `openai` or `anthropic`. */
  providerName: string;
  /** `gen_ai.request.model`: the model the caller asked for, e.g. `gpt-4o-mini`. */
  requestModel: string;
  /** Defaults to `requestModel`. */
  responseModel?: string;
  /** Duration of the whole operation in seconds; a negative or non-finite value drops the whole record. */
  durationSeconds: number;
  /** Set when the operation failed, e.g. `timeout`, `rate_limited` or an HTTP status code. */
  errorType?: string;
  /** Input (prompt) tokens, observed in `gen_ai.client.token.usage` with `gen_ai.token.type="input"`. */
  inputTokens?: number;
  /** Output (completion) tokens, observed in `gen_ai.client.token.usage` with `gen_ai.token.type="output"`. */
  outputTokens?: number;
}

/** GenAI semantic-convention metrics of a `GatewayTelemetry`. */
export const genAiMetrics = defineHelpers({
  /**
   * Record one GenAI client operation in `gen_ai.client.operation.duration` and, when token counts
   * are given, `gen_ai.client.token.usage` (one observation per token type).
   */
  recordGenAiOperation(operation: GenAiOperationRecord): void {
    const duration = this.states.genAiOperationDuration;
    if (!this.acceptValue(duration, operation.durationSeconds)) return;
    const responseModel = operation.responseModel ?? operation.requestModel;
    const durationCell = this.cellFor(
      duration,
      duration.store.lookup(
        operation.operationName,
        operation.providerName,
        operation.requestModel,
        responseModel,
        operation.errorType,
      ),
    );
    if (durationCell === undefined) return;
    this.observe(duration, operation.durationSeconds, durationCell);
    if (operation.inputTokens !== undefined)
      recordGenAiTokens(this, operation, responseModel, 'input', operation.inputTokens);
    if (operation.outputTokens !== undefined)
      recordGenAiTokens(this, operation, responseModel, 'output', operation.outputTokens);
  },
});

/** The GenAI helpers of a `GatewayTelemetry`. */
export type GenAiMetrics = typeof genAiMetrics;

function recordGenAiTokens(
  recorder: MetricRecorder,
  operation: GenAiOperationRecord,
  responseModel: string,
  tokenType: TokenType,
  tokens: number,
): void {
  const usage = recorder.states.genAiTokenUsage;
  if (!recorder.acceptValue(usage, tokens)) return;
  const cell = recorder.cellFor(
    usage,
    usage.store.lookup(
      operation.operationName,
      operation.providerName,
      operation.requestModel,
      responseModel,
      tokenType,
    ),
  );
  if (cell !== undefined) recorder.observe(usage, tokens, cell);
}
