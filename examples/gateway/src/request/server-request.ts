import { context as contextApi, trace } from '@opentelemetry/api';
import type { Context } from 'hono';
import { ApiError, CLIENT_CLOSED_REQUEST, SERVER_SHUTDOWN_CODE } from '../protocol/openai-errors.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';
import type { AttemptCompletion, Operation, Usage } from './attempt.js';
import { requestContext } from './request-context.js';

/*
 * The gateway as the GenAI server its clients call: one record per model request it answers, in
 * `gen_ai.server.request.duration` (every answer, `error.type` on failures) and, for a successful
 * stream, `gen_ai.server.time_to_first_token` (to the first generated output sent to the client) and
 * `gen_ai.server.time_per_output_token` (not for a JSON answer served as a stream, whose tokens all
 * arrived at once). Times run from the request's arrival
 * (`c.var.requestStartedAt`, set by the first middleware).
 */

/** `error.type` of a request whose client went away, before or during the answer. */
export const CLIENT_CANCELLED_ERROR_TYPE = 'client_cancelled';

/**
 * `error.type` of a request the gateway's shutdown cut: still running when the drain deadline
 * (`SHUTDOWN_TIMEOUT_MS`) passed, its connection closed by the server (HTTP status 503 when no
 * answer had started).
 */
export const SERVER_SHUTDOWN_ERROR_TYPE = 'server_shutdown';

/** `gen_ai.provider.name` of an answer no provider produced (unknown model, every breaker open). */
export const GATEWAY_PROVIDER_NAME = 'gatewayz';

/**
 * `gen_ai.request.model` of a failure for a model no provider is configured with (no model
 * answered it, so it has no `gen_ai.response.model`). The model string comes from the client, unauthenticated on a gateway without keys: as a
 * label it would let anyone add a series per request until the metric's series limit folds the real
 * models into `other`, and a long one would count as a dropped recording. `_OTHER` is the
 * OpenTelemetry conventions' value for one outside the known set; the span still names the model.
 */
export const UNKNOWN_MODEL_LABEL = '_OTHER';

/** What is known of an answered model request when its last byte is out. */
export interface ServerAnswer {
  operation: Operation;
  model: string;
  /** The provider whose answer the client got. */
  provider: string;
  completion: AttemptCompletion;
  /** `performance.now()` when the client got the first generated output (streams). */
  firstContentAt?: number;
  /**
   * Streams: whether the client got the model's reasoning as it was generated. When it did not
   * (the provider keeps reasoning hidden, as OpenAI's chat completions do), the reasoning tokens
   * were generated before the first token the client saw and are not among the tokens after it.
   */
  reasoningStreamed?: boolean;
  /**
   * Streams: the answer was a JSON completion served as a stream (json-answer-stream.ts). Its time
   * to first token is when it arrived whole; the time after it is the gateway's writing, not
   * generation, so it has no time per output token.
   */
  jsonAnswer?: boolean;
}

function startedAt(c: Context<GatewayEnv>): number {
  return c.get('requestStartedAt') ?? performance.now();
}

/** Run `record` inside the request's server span, so the histograms take it as their exemplar. */
function inRequest(c: Context<GatewayEnv>, record: () => void): void {
  const parent = requestContext(c);
  if (trace.getSpan(parent)?.isRecording()) contextApi.with(parent, record);
  else record();
}

/** Record one answered request: success or failure as its completion says. */
export function recordServerAnswer(c: Context<GatewayEnv>, services: GatewayServices, answer: ServerAnswer): void {
  const start = startedAt(c);
  const { completion } = answer;
  const failed = completion.status !== 'success' || completion.cancelled === true;
  const record = {
    operationName: answer.operation,
    providerName: answer.provider,
    requestModel: answer.model,
    // Defaulted to the requested model on success; a failed answer without one has none.
    ...(completion.responseModel !== undefined ? { responseModel: completion.responseModel } : {}),
    durationSeconds: (performance.now() - start) / 1000,
    ...(failed
      ? { errorType: completion.cancelled ? cancelledErrorType(services) : (completion.errorType ?? 'error') }
      : {}),
    ...(answer.firstContentAt !== undefined ? { timeToFirstTokenSeconds: (answer.firstContentAt - start) / 1000 } : {}),
    ...(completion.usage !== undefined && answer.jsonAnswer !== true
      ? { outputTokens: servedOutputTokens(completion.usage, answer) }
      : {}),
  };
  inRequest(c, () => services.otel.telemetry.recordGenAiServerRequest(record));
}

/** Whose doing a cancelled answer was: the server's shutdown once its drain deadline passed, else the client's. */
function cancelledErrorType(services: GatewayServices): string {
  return services.inFlight.cut ? SERVER_SHUTDOWN_ERROR_TYPE : CLIENT_CANCELLED_ERROR_TYPE;
}

/**
 * The output tokens the client saw arrive, from its first token to its last, for
 * `gen_ai.server.time_per_output_token` (the time after the first token divided by the tokens
 * after it): every output token, less the reasoning tokens the model generated before the first
 * token the client got when that reasoning was not streamed to it.
 */
function servedOutputTokens(usage: Usage, answer: ServerAnswer): number {
  if (answer.firstContentAt === undefined || answer.reasoningStreamed === true) return usage.outputTokens;
  return Math.max(0, usage.outputTokens - (usage.reasoningOutputTokens ?? 0));
}

/**
 * Record a request answered with an error before any content (`error.type` is the HTTP status,
 * e.g. `502`, `client_cancelled` when the client went away, as for a stream it left midway, or
 * `server_shutdown` when the shutdown drain deadline cut it),
 * naming the provider whose failure it passes on, if any.
 */
export function recordServerFailure(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  operation: Operation,
  model: string,
  error: unknown,
): void {
  const record = {
    operationName: operation,
    providerName: (error instanceof ApiError ? error.provider : undefined) ?? GATEWAY_PROVIDER_NAME,
    requestModel: services.router.knows(model) ? model : UNKNOWN_MODEL_LABEL,
    durationSeconds: (performance.now() - startedAt(c)) / 1000,
    errorType: !(error instanceof ApiError)
      ? '500'
      : error.status === CLIENT_CLOSED_REQUEST
        ? CLIENT_CANCELLED_ERROR_TYPE
        : error.code === SERVER_SHUTDOWN_CODE
          ? SERVER_SHUTDOWN_ERROR_TYPE
          : String(error.status),
  };
  inRequest(c, () => services.otel.telemetry.recordGenAiServerRequest(record));
}
