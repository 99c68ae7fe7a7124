import type { GenAiTokenType } from './semconv.js';
import { genAiOperation } from './semconv-stability.js';
import { defineHelpers, type MetricRecorder } from '../metrics/metric-recorder.js';
import type { MetricState } from '../metrics/recorder-types.js';
import { wholeNumberProblem } from '../metrics/value-problem.js';

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
  /**
   * `gen_ai.response.model`: the model that generated the response. Defaults to `requestModel` for
   * an operation that succeeded; a failed one without it (no response) has no `gen_ai.response.model`.
   */
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
   * each observed in `gen_ai.client.operation.time_per_output_chunk`. An array, or a typed array such
   * as a `Float64Array`; anything else is dropped and counted (`not_an_array`), as is each value that
   * is not a number >= 0.
   */
  timesPerOutputChunkSeconds?: readonly number[] | Float64Array;
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
  /**
   * `gen_ai.response.model`: the model that generated the answer. Defaults to `requestModel` for a
   * request that succeeded; a failed one without it has no `gen_ai.response.model`.
   */
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
   * observed in `gen_ai.server.time_per_output_token`. A count that is not an integer >= 0, or a time
   * to first token above the duration, drops that observation (counted under that metric).
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
    if (chunkTimes === undefined) return;
    const perChunk = this.states.genAiTimePerOutputChunk;
    // An array or a typed array (a DataView holds bytes, not numbers); from plain JavaScript anything
    // else, even one with a length, is dropped and counted rather than thrown on or read as empty.
    if (!Array.isArray(chunkTimes) && !(ArrayBuffer.isView(chunkTimes) && !(chunkTimes instanceof DataView))) {
      this.drop(perChunk, 'not_an_array', `${perChunk.name} got ${String(chunkTimes)} instead of an array of seconds`);
      return;
    }
    if (chunkTimes.length === 0) return;
    // One series for every chunk of the stream: look it up once.
    const cell = this.cellFor(perChunk, perChunk.store.lookup(labels[0], labels[1], labels[2], labels[3]));
    if (cell !== undefined) this.observeEach(perChunk, chunkTimes, cell);
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
    if (outputTokens === undefined) return;
    const perToken = this.states.genAiServerTimePerOutputToken;
    const problem = wholeNumberProblem(outputTokens, 0, Number.MAX_SAFE_INTEGER);
    if (problem !== undefined) {
      this.drop(
        perToken,
        problem,
        `${perToken.name} got outputTokens ${String(outputTokens)}; expected an integer >= 0`,
      );
      return;
    }
    // No token after the first: there is no time per token to observe.
    if (outputTokens <= 1) return;
    const afterFirstToken = request.durationSeconds - firstToken;
    if (afterFirstToken < 0) {
      // Not 0: a first token after the last byte is a measurement error, not an instant answer.
      this.drop(
        perToken,
        'out_of_range',
        `${perToken.name}: time to first token ${firstToken} s exceeds the duration ${request.durationSeconds} s`,
      );
      return;
    }
    observeGenAi(this, perToken, afterFirstToken / (outputTokens - 1), labels);
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

/** The four attributes common to a call's GenAI histograms; the response model absent when no model answered. */
type GenAiLabels = readonly [
  operation: string,
  provider: string,
  requestModel: string,
  responseModel: string | undefined,
];

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
): GenAiLabels | undefined {
  if (!recorder.acceptValue(duration, call.durationSeconds)) return undefined;
  const operationName = genAiOperation(call.operationName, recorder.genAiSemconvMode).name;
  // A failed call without a response model had no response: no model generated one (as on its span).
  const responseModel = call.responseModel ?? (call.errorType === undefined ? call.requestModel : undefined);
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
  labels: GenAiLabels,
  tokenType?: GenAiTokenType,
): boolean {
  if (!recorder.acceptValue(state, value)) return false;
  const cell = recorder.cellFor(state, state.store.lookup(labels[0], labels[1], labels[2], labels[3], tokenType));
  if (cell === undefined) return false;
  recorder.observe(state, value, cell);
  return true;
}
