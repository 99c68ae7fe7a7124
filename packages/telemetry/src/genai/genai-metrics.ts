import type { GenAiTokenType } from './semconv.js';
import { genAiOperation } from './semconv-stability.js';
import { defineHelpers, type MetricRecorder } from '../metrics/metric-recorder.js';
import type { MetricState } from '../metrics/recorder-types.js';

/**
 * Inputs of one GenAI client operation (OpenTelemetry GenAI semantic conventions).
 *
 * @example
 * ```ts
 * const operation: GenAiOperationRecord = {
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   durationSeconds: 1.3, inputTokens: 420, outputTokens: 128,
 *   timeToFirstChunkSeconds: 0.21, timesPerOutputChunkSeconds: [0.02, 0.03],
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
  /**
   * Streamed operations only: seconds from issuing the request to the first chunk of the response,
   * observed in `gen_ai.client.operation.time_to_first_chunk`.
   */
  timeToFirstChunkSeconds?: number;
  /**
   * Streamed operations only: for each chunk after the first, the seconds since the previous one,
   * each observed in `gen_ai.client.operation.time_per_output_chunk`.
   */
  timesPerOutputChunkSeconds?: readonly number[];
}

/**
 * One request the gateway answered, as the GenAI server its clients call (the `gen_ai.server.*`
 * metrics of the OpenTelemetry GenAI conventions).
 *
 * @example
 * ```ts
 * const request: GenAiServerRequestRecord = {
 *   operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini',
 *   durationSeconds: 1.9, timeToFirstTokenSeconds: 0.4, outputTokens: 151,
 * };
 * recordGenAiServerRequest(request);
 * ```
 */
export interface GenAiServerRequestRecord {
  /** `gen_ai.operation.name`, e.g. `chat`. */
  operationName: string;
  /** `gen_ai.provider.name`: the provider that produced the answer, e.g. `openai`. */
  providerName: string;
  /** `gen_ai.request.model`: the model the client asked for. */
  requestModel: string;
  /** `gen_ai.response.model`; defaults to `requestModel`. */
  responseModel?: string;
  /** Seconds from receiving the request to the last byte of the answer (`gen_ai.server.request.duration`). */
  durationSeconds: number;
  /** Set when the request failed, e.g. `502` or `timeout`: only the duration is recorded then. */
  errorType?: string;
  /**
   * Seconds from receiving the request to the first token (generated output) the server sent
   * (`gen_ai.server.time_to_first_token`); give it for streamed answers, where there is a first
   * token before the last.
   */
  timeToFirstTokenSeconds?: number;
  /**
   * Output tokens of the answer: with `timeToFirstTokenSeconds` and more than one token, the time per
   * token after the first, `(durationSeconds - timeToFirstTokenSeconds) / (outputTokens - 1)`, is
   * observed in `gen_ai.server.time_per_output_token`.
   */
  outputTokens?: number;
}

/** GenAI semantic-convention metrics of a `GatewayTelemetry`. */
export const genAiMetrics = defineHelpers({
  /**
   * Record one GenAI client operation in `gen_ai.client.operation.duration` and, when token counts
   * are given, `gen_ai.client.token.usage` (one observation per token type); for a streamed
   * operation, its chunk timing in `gen_ai.client.operation.time_to_first_chunk` and
   * `gen_ai.client.operation.time_per_output_chunk`.
   */
  recordGenAiOperation(operation: GenAiOperationRecord): void {
    if (!isRecord(this, this.states.genAiOperationDuration, operation)) return;
    const labels = observeDuration(this, this.states.genAiOperationDuration, operation);
    if (labels === undefined) return;
    if (operation.inputTokens !== undefined)
      observeGenAi(this, this.states.genAiTokenUsage, operation.inputTokens, labels, 'input' satisfies GenAiTokenType);
    if (operation.outputTokens !== undefined)
      observeGenAi(
        this,
        this.states.genAiTokenUsage,
        operation.outputTokens,
        labels,
        'output' satisfies GenAiTokenType,
      );
    if (operation.timeToFirstChunkSeconds !== undefined)
      observeGenAi(this, this.states.genAiTimeToFirstChunk, operation.timeToFirstChunkSeconds, labels);
    const chunkTimes = operation.timesPerOutputChunkSeconds;
    if (chunkTimes !== undefined && chunkTimes.length > 0) {
      // One series for every chunk of the stream: look it up once.
      const perChunk = this.states.genAiTimePerOutputChunk;
      const cell = this.cellFor(perChunk, perChunk.store.lookup(labels[0], labels[1], labels[2], labels[3]));
      if (cell !== undefined)
        for (const seconds of chunkTimes)
          if (this.acceptValue(perChunk, seconds)) this.observe(perChunk, seconds, cell);
    }
  },

  /**
   * Record one request the gateway answered as a GenAI server: its duration in
   * `gen_ai.server.request.duration` and, for a successful answer with a time to first token,
   * `gen_ai.server.time_to_first_token` and (more than one output token) `gen_ai.server.time_per_output_token`.
   */
  recordGenAiServerRequest(request: GenAiServerRequestRecord): void {
    if (!isRecord(this, this.states.genAiServerRequestDuration, request)) return;
    const labels = observeDuration(this, this.states.genAiServerRequestDuration, request);
    if (labels === undefined) return;
    const firstToken = request.timeToFirstTokenSeconds;
    if (request.errorType !== undefined || firstToken === undefined) return;
    if (!observeGenAi(this, this.states.genAiServerTimeToFirstToken, firstToken, labels)) return;
    const outputTokens = request.outputTokens;
    if (outputTokens === undefined || !Number.isFinite(outputTokens) || outputTokens <= 1) return;
    const perToken = Math.max(0, request.durationSeconds - firstToken) / (outputTokens - 1);
    observeGenAi(this, this.states.genAiServerTimePerOutputToken, perToken, labels);
  },
});

/** The GenAI helpers of a `GatewayTelemetry`. */
export type GenAiMetrics = typeof genAiMetrics;

/**
 * Whether `record` is an object to read a call from; anything else (`undefined`, `null`, a number
 * passed from plain JavaScript) has no duration, and is dropped and counted as `not_a_number` for
 * the duration metric, as a record without `durationSeconds` is, instead of throwing a `TypeError`.
 */
function isRecord(recorder: MetricRecorder, duration: MetricState, record: unknown): boolean {
  if (typeof record === 'object' && record !== null) return true;
  recorder.drop(
    duration,
    'not_a_number',
    `${duration.name} got ${String(record)} instead of a record with durationSeconds`,
  );
  return false;
}

/**
 * Observe a GenAI duration histogram (`gen_ai.client.operation.duration` or
 * `gen_ai.server.request.duration`) under its five attributes; the four common ones for the other
 * histograms of the same call, or undefined when the value or a label was dropped.
 */
function observeDuration(
  recorder: MetricRecorder,
  duration: MetricState,
  call: {
    operationName: string;
    providerName: string;
    requestModel: string;
    responseModel?: string;
    errorType?: string;
    durationSeconds: number;
  },
): readonly [string, string, string, string] | undefined {
  if (!recorder.acceptValue(duration, call.durationSeconds)) return undefined;
  const operationName = genAiOperation(call.operationName, recorder.genAiSemconvMode).name;
  const responseModel = call.responseModel ?? call.requestModel;
  const cell = recorder.cellFor(
    duration,
    duration.store.lookup(operationName, call.providerName, call.requestModel, responseModel, call.errorType),
  );
  if (cell === undefined) return undefined;
  recorder.observe(duration, call.durationSeconds, cell);
  return [operationName, call.providerName, call.requestModel, responseModel];
}

/**
 * Observe `value` in a GenAI histogram under the four common attributes (and the token type of
 * `gen_ai.client.token.usage`); false when the value or a label was dropped.
 */
function observeGenAi(
  recorder: MetricRecorder,
  state: MetricState,
  value: number,
  labels: readonly [string, string, string, string],
  tokenType?: GenAiTokenType,
): boolean {
  if (!recorder.acceptValue(state, value)) return false;
  const cell = recorder.cellFor(state, state.store.lookup(labels[0], labels[1], labels[2], labels[3], tokenType));
  if (cell === undefined) return false;
  recorder.observe(state, value, cell);
  return true;
}
