import { context as contextApi, type Context, type Span } from '@opentelemetry/api';
import type { GatewayTelemetry } from '@gatewayz/telemetry';
import {
  emitGenAiOperationDetails,
  emitGenAiOperationException,
  endGenAiSpan,
  type GenAiEventLogger,
  type GenAiOperationDetails,
  type GenAiSpanEnd,
  type GenAiSpanStart,
  type PricingTable,
} from '@gatewayz/telemetry/genai';
import type { AnomalyDetector } from '@gatewayz/telemetry/provider-health';
import { apiKeyAccountOf, requestBudgetOf } from '../api-keys/api-key-context.js';
import { ANONYMOUS_API_KEY_NAME } from '../api-keys/api-keys-file.js';
import type { GatewayConfig, ProviderConfig } from '../config.js';
import { saysNothingOfProvider } from '../providers/provider-fault.js';
import type { UpstreamFailure } from '../providers/upstream.js';
import type { GatewayLogger } from '../server/gateway-env.js';
import type { AttemptCompletion, ModelCallSink, Operation } from './attempt.js';
import { withFields } from '../with-fields.js';

/** Where a finished attempt is recorded. */
export interface AttemptRecording {
  config: Pick<GatewayConfig, 'creditsPerUsd'>;
  telemetry: GatewayTelemetry;
  sink: ModelCallSink;
  pricing: PricingTable;
  /** Latency-spike and error-surge detection, fed with every attempt. */
  anomalies?: AnomalyDetector;
  /**
   * Where failed attempts are logged (inside the attempt span, so the log carries its trace): at
   * `warn` when the failure is the provider's, at `debug` when it says nothing about the provider.
   */
  logger?: Pick<GatewayLogger, 'warn' | 'debug'>;
  /**
   * Where the `gen_ai.client.inference.operation.details` events (one per inference attempt) and the
   * `gen_ai.client.operation.exception` events (one per failed attempt) go when they are on
   * (`GatewayTelemetry.genAiContent.events`): a Logs API logger. None: no events.
   */
  genAiEvents?: GenAiEventLogger;
}

/** An attempt that reached its provider: its span and the context holding it, its start, and what the span was started with. */
export interface StartedAttempt {
  readonly span: Span;
  readonly attemptContext: Context;
  /** `performance.now()` when the attempt started. */
  readonly startedAt: number;
  /** What the span was started with; its content (when collected) is given to the event too. */
  readonly start: GenAiSpanStart;
}

/**
 * Finish one provider attempt: feed the anomaly detector, record the provider, model, GenAI
 * (duration, token usage, chunk timing of streams), time-to-first-token, token (with the cache and
 * reasoning subsets), cost (cache-priced) and credit metrics (of a failed attempt too, when the
 * provider reported its usage), log a failure (and, when GenAI events are on, emit its
 * `gen_ai.client.operation.exception` event), record the call in model health, and end the attempt
 * span with the response attributes.
 *
 * An attempt that says nothing about the provider (the client went away or shutdown cut it before
 * an answer, or the upstream rejected the client's bad request: see `saysNothingOfProvider`) is
 * left out of the provider's health figures: the anomaly detector, `provider_response_time_seconds`,
 * `model_inference_requests_total` and `model_inference_duration_seconds` (and
 * `gatewayz_requests_by_api_key_total`, which adds up like it), and model health (so the tracker's
 * availability, error rate and score). Its span, the GenAI metrics (with its `error.type`) and the
 * log still record it (at `debug`, where a provider's failure is a `warn`).
 */
export function finishAttempt(
  recording: AttemptRecording,
  provider: ProviderConfig,
  model: string,
  operation: Operation,
  started: StartedAttempt,
  completion: AttemptCompletion,
): void {
  const { span, attemptContext, startedAt } = started;
  const { telemetry, sink, pricing, config } = recording;
  // Embeddings have input tokens only: no output observation, no output/input efficiency ratio.
  const embeddings = operation === 'embeddings';
  const tokens =
    completion.usage === undefined
      ? {}
      : embeddings
        ? { inputTokens: completion.usage.inputTokens }
        : { inputTokens: completion.usage.inputTokens, outputTokens: completion.usage.outputTokens };
  const durationMs = performance.now() - startedAt;
  const seconds = durationMs / 1000;
  const name = provider.name;
  // The request's API key (authenticate middleware); requests that skipped it count as anonymous.
  const apiKey = apiKeyAccountOf(attemptContext);
  const apiKeyName = apiKey?.name ?? ANONYMOUS_API_KEY_NAME;
  // The circuit breaker does not hold such an attempt against the provider (its errorFilter): the
  // health figures do not either.
  const providerOutcome = completion.status === 'success' || !saysNothingOfProvider(completion.errorType);
  // The client went away (or shutdown cut the attempt) before the provider's usage: the provider
  // may bill what it generated, which no cost counter knows.
  const withoutUsage =
    completion.usage === undefined &&
    completion.unsent !== true &&
    (completion.cancelled === true || completion.errorType === CANCELLED_ERROR_TYPE);
  if (providerOutcome) {
    recording.anomalies?.observe({
      provider: name,
      latencySeconds: seconds,
      success: completion.status === 'success',
    });
  }
  // What the attempt cost, priced from the usage the provider reported (for the span).
  let attemptCost: number | undefined;
  // Record inside the attempt span so latency histograms carry it as their exemplar (only a
  // recording span can be one: skip the context switch otherwise).
  const record = (): void => {
    // A billed answer the pricing gave no cost: its provider reported no usage, or usage no price
    // fits (more cached than prompt tokens). Its key's budget is charged the attempt's bound.
    let unpriced = false;
    if (completion.status !== 'success') {
      // A client's bad request or cancellation is not the provider's failure: a client sending
      // bad requests must not flood the warn log (its 4xx is in the access log and the metrics).
      const level = providerOutcome ? 'warn' : 'debug';
      recording.logger?.[level]('provider attempt failed', {
        provider: name,
        model,
        operation,
        status: completion.status,
        error_type: completion.errorType,
        duration_ms: Math.round(durationMs),
      });
    }
    if (providerOutcome) {
      telemetry.recordProviderResponseTime(name, seconds);
      telemetry.recordModelInference(name, model, completion.status, seconds);
      // With the statuses of model_inference_requests_total, so the two add up alike.
      telemetry.recordApiKeyRequest(apiKeyName, completion.status);
    }
    telemetry.recordGenAiOperation({
      operationName: operation,
      providerName: name,
      requestModel: model,
      // The library defaults it to the requested model on success; a failure without one has none.
      ...(completion.responseModel !== undefined ? { responseModel: completion.responseModel } : {}),
      durationSeconds: seconds,
      ...(completion.errorType !== undefined ? { errorType: completion.errorType } : {}),
      ...tokens,
      ...(completion.timeToFirstChunkSeconds !== undefined
        ? { timeToFirstChunkSeconds: completion.timeToFirstChunkSeconds }
        : {}),
      ...(completion.timesPerOutputChunkSeconds !== undefined
        ? { timesPerOutputChunkSeconds: completion.timesPerOutputChunkSeconds }
        : {}),
    });
    if (completion.timeToFirstTokenSeconds !== undefined) {
      telemetry.recordTimeToFirstToken(name, model, completion.timeToFirstTokenSeconds);
    }
    // A failed attempt that reported usage (a Responses `response.failed`) used tokens the provider
    // bills: they count, and cost, like a success's.
    if (completion.status === 'success' || completion.usage !== undefined) {
      if (completion.usage !== undefined && embeddings) {
        telemetry.recordTokensUsed(name, model, 'input', completion.usage.inputTokens);
        telemetry.recordApiKeyTokens(apiKeyName, 'input', completion.usage.inputTokens);
      } else if (completion.usage !== undefined) {
        telemetry.recordTokenUsage(name, model, completion.usage.inputTokens, completion.usage.outputTokens);
        telemetry.recordApiKeyTokens(apiKeyName, 'input', completion.usage.inputTokens);
        telemetry.recordApiKeyTokens(apiKeyName, 'output', completion.usage.outputTokens);
      }
      // Subsets of input and output (tokens_used_total{token_type=cache_read|cache_write|reasoning}).
      const usage = completion.usage;
      // The same subsets by API key, so tokens by key and by provider carry the same token types.
      if (usage?.cacheReadInputTokens) {
        telemetry.recordTokensUsed(name, model, 'cache_read', usage.cacheReadInputTokens);
        telemetry.recordApiKeyTokens(apiKeyName, 'cache_read', usage.cacheReadInputTokens);
      }
      if (usage?.cacheCreationInputTokens) {
        telemetry.recordTokensUsed(name, model, 'cache_write', usage.cacheCreationInputTokens);
        telemetry.recordApiKeyTokens(apiKeyName, 'cache_write', usage.cacheCreationInputTokens);
      }
      if (usage?.reasoningOutputTokens) {
        telemetry.recordTokensUsed(name, model, 'reasoning', usage.reasoningOutputTokens);
        telemetry.recordApiKeyTokens(apiKeyName, 'reasoning', usage.reasoningOutputTokens);
      }
      // The provider's prompt cache, by attempt: a hit read some of the prompt from it. A provider
      // that says nothing of its cache (no cache-read count) is neither.
      if (usage?.cacheReadInputTokens !== undefined && !embeddings) {
        if (usage.cacheReadInputTokens > 0) telemetry.recordCacheHit(PROMPT_CACHE);
        else telemetry.recordCacheMiss(PROMPT_CACHE);
      }
      // Priced from what the provider reported: an answer with neither usage nor images (a
      // provider that reports none) has no cost to record, not a cost of 0. A provider that reports
      // its cost (`reportsCost`) is taken at its word.
      const reported =
        provider.reportsCost === true && usage?.reportedCostUsd !== undefined
          ? pricing.reportedCost({ provider: name, model, ...usage })
          : undefined;
      const cost =
        reported !== undefined
          ? reported
          : usage === undefined && completion.images === undefined
            ? undefined
            : pricing.cost({
                provider: name,
                model,
                inputTokens: usage?.inputTokens ?? 0,
                outputTokens: usage?.outputTokens ?? 0,
                cacheReadInputTokens: usage?.cacheReadInputTokens ?? 0,
                cacheCreationInputTokens: usage?.cacheCreationInputTokens ?? 0,
                cacheCreation1hInputTokens: usage?.cacheCreation1hInputTokens ?? 0,
                audioInputTokens: usage?.audioInputTokens ?? 0,
                audioOutputTokens: usage?.audioOutputTokens ?? 0,
                images: completion.images ?? 0,
              });
      // Without usage the cost is the estimate below (a per-request price included), not a cost.
      if (cost !== undefined && !withoutUsage) {
        attemptCost = cost;
        // One number to the provider's and the key's cost (so they sum alike) and the key's spend.
        // Through the request's budget hold when its key has a budget: the cost replaces as much of it.
        if (telemetry.recordAttributedCost(name, apiKeyName, cost))
          (requestBudgetOf(attemptContext)?.hold ?? apiKey)?.charge(cost);
        telemetry.recordCreditsUsed(name, model, cost * config.creditsPerUsd);
      } else if (cost === undefined && !withoutUsage) unpriced = true;
    }
    // A failed attempt's answer the provider made and reported no usage for is billed all the same.
    if (completion.answered === true && completion.usage === undefined) unpriced = true;
    if (withoutUsage) chargeWithoutUsage(telemetry, provider, apiKeyName, attemptContext, completion, true);
    // Counted as without usage only when the provider reported none; refused usage is counted
    // where the pricing dropped it (gatewayz_telemetry_dropped_total).
    else if (unpriced)
      chargeWithoutUsage(
        telemetry,
        provider,
        apiKeyName,
        attemptContext,
        completion,
        completion.usage === undefined && completion.images === undefined,
      );
  };
  if (span.isRecording()) contextApi.with(attemptContext, record);
  else record();
  try {
    if (providerOutcome)
      sink.recordCall({
        provider: name,
        model,
        responseTimeMs: durationMs,
        status: completion.status,
        errorMessage: completion.errorMessage ?? null,
      });
  } catch {
    // The sink validates input; the values above are ours, so this only guards the request path.
  }
  const { events, capture, eventContent } = telemetry.genAiContent;
  // Any GenAI operation can fail, embeddings included: the exception event is not the inference one.
  if (events && recording.genAiEvents !== undefined && completion.status !== 'success')
    emitAttemptException(recording.genAiEvents, completion, attemptContext);
  // The event describes an inference call (chat, an image generation); embeddings are not one.
  const eventLogger = events && !embeddings ? recording.genAiEvents : undefined;
  if (!span.isRecording() && eventLogger === undefined) {
    // Not sampled: the end attributes would be dropped, so do not build them.
    span.end();
    return;
  }
  const end = endOf(model, embeddings, tokens, completion, telemetry, name);
  const own = gatewayAttributes(completion, attemptCost);
  // The event is emitted whether the span is sampled or not: it keeps the details apart from
  // traces, the gateway's own attributes (the cost, a cancellation) included.
  if (eventLogger !== undefined) emitOperationDetails(eventLogger, started, end, eventContent, attemptContext, own);
  if (!span.isRecording()) {
    span.end();
    return;
  }
  if (own !== undefined) span.setAttributes(own);
  // Output collected for the events only stays off the span.
  endGenAiSpan(span, capture ? end : withoutContent(end));
}

/**
 * The gateway's own attributes of an attempt, on its span and its event: `gatewayz.client_cancelled`
 * or `gatewayz.server_shutdown` when it was cut, and its cost (the same number the cost counters
 * got, so a trace or an event shows what the attempt cost). None when it has neither.
 */
function gatewayAttributes(
  completion: AttemptCompletion,
  attemptCost: number | undefined,
): Record<string, number | boolean> | undefined {
  if (!completion.cancelled && attemptCost === undefined) return undefined;
  const attributes: Record<string, number | boolean> = {};
  if (completion.cancelled) attributes[completion.shutdown ? ATTR_SERVER_SHUTDOWN : ATTR_CLIENT_CANCELLED] = true;
  if (attemptCost !== undefined) attributes[ATTR_COST_USD] = attemptCost;
  return attributes;
}

/** On an attempt the client's leaving cut (its span and event). */
const ATTR_CLIENT_CANCELLED = 'gatewayz.client_cancelled';

/** On an attempt the gateway's shutdown cut (its span and event). */
const ATTR_SERVER_SHUTDOWN = 'gatewayz.server_shutdown';

/**
 * The attempt span's cost, in USD: what the pricing table makes of the usage the provider
 * reported, the number `gatewayz_cost_by_provider_total` and the key's cost counter got. Absent
 * when the model has no price or the provider reported no usage (an estimate is never recorded here).
 */
export const ATTR_COST_USD = 'gatewayz.usage.cost_usd';

/** The end of an attempt as `endGenAiSpan()` and the event take it. */
function endOf(
  model: string,
  embeddings: boolean,
  tokens: { inputTokens?: number; outputTokens?: number },
  completion: AttemptCompletion,
  telemetry: GatewayTelemetry,
  provider: string,
): GenAiSpanEnd {
  const usage = completion.usage;
  // Assigned field by field. The object literal of ten conditional spreads this replaces cost about
  // 3 µs per call alone and 8 µs inside the traced gateway (each spread copies a small object at run
  // time), and reading the result cost more again; this costs a few nanoseconds.
  const end: GenAiSpanEnd = {};
  // A failed attempt got no response: no gen_ai.response.model unless the provider named one.
  const responseModel = completion.responseModel ?? (completion.status === 'success' ? model : undefined);
  if (responseModel !== undefined) end.responseModel = responseModel;
  if (tokens.inputTokens !== undefined) end.inputTokens = tokens.inputTokens;
  if (tokens.outputTokens !== undefined) end.outputTokens = tokens.outputTokens;
  if (usage?.cacheReadInputTokens !== undefined) end.cacheReadInputTokens = usage.cacheReadInputTokens;
  if (usage?.cacheCreationInputTokens !== undefined) end.cacheCreationInputTokens = usage.cacheCreationInputTokens;
  if (usage?.reasoningOutputTokens !== undefined && !embeddings)
    end.reasoningOutputTokens = usage.reasoningOutputTokens;
  if (completion.responseId !== undefined) end.responseId = completion.responseId;
  if (completion.timeToFirstChunkSeconds !== undefined)
    end.timeToFirstChunkSeconds = completion.timeToFirstChunkSeconds;
  if (completion.finishReasons !== undefined) end.finishReasons = completion.finishReasons;
  if (completion.errorType !== undefined) end.errorType = completion.errorType;
  // The conventions define these for the provider `openai` alone, as its requested tier, which
  // startGenAiSpan() leaves off the span of any other.
  if (provider === 'openai') {
    if (completion.serviceTier !== undefined) end.openAiResponseServiceTier = completion.serviceTier;
    if (completion.systemFingerprint !== undefined) end.openAiSystemFingerprint = completion.systemFingerprint;
  }
  if (completion.outputMessages !== undefined) {
    end.outputMessages = completion.outputMessages;
    Object.assign(end, contentLimit(telemetry));
  }
  return end;
}

/**
 * Emit the attempt's `gen_ai.client.inference.operation.details` event, correlated with its span,
 * with the request's and the answer's content only when content goes to events, and the gateway's
 * own attributes of the attempt (`own`).
 */
function emitOperationDetails(
  logger: GenAiEventLogger,
  started: StartedAttempt,
  end: GenAiSpanEnd,
  eventContent: boolean,
  attemptContext: Context,
  own: Record<string, number | boolean> | undefined,
): void {
  const details: GenAiOperationDetails = withFields(started.start, end);
  emitGenAiOperationDetails(logger, eventContent ? details : withoutContent(details), attemptContext, own);
}

/**
 * The `exception.type` of a failed attempt: every failure the gateway records is an `UpstreamFailure`
 * (an HTTP status, a timeout, a broken stream; try-providers.ts wraps anything else in one), and
 * the completion keeps its message and `error.type`, not the instance. The status code is its
 * `error.type`, not an exception type: the event carries both.
 */
const ATTEMPT_EXCEPTION_TYPE: UpstreamFailure['name'] = 'UpstreamFailure';

/**
 * Emit the attempt's `gen_ai.client.operation.exception` event, correlated with its span: the
 * failure's type, its message (the gateway's own, or the error message of a provider's stream;
 * never a body, a prompt or a key) and its `error.type`, the class the span and metrics have.
 */
function emitAttemptException(logger: GenAiEventLogger, completion: AttemptCompletion, attemptContext: Context): void {
  const { errorMessage, errorType } = completion;
  const exception = { name: ATTEMPT_EXCEPTION_TYPE, ...(errorMessage !== undefined ? { message: errorMessage } : {}) };
  emitGenAiOperationException(logger, exception, attemptContext, { 'error.type': errorType });
}

/** The content fields of a GenAI call's start and end (messages, instructions, tools). */
type ContentField = 'inputMessages' | 'systemInstructions' | 'toolDefinitions' | 'outputMessages';

/**
 * `details` (a start, an end, or both) without its content: what a span gets when the content
 * goes to events only, and an event when it goes to spans only. `details` itself when it has none.
 */
export function withoutContent<T extends Partial<GenAiOperationDetails>>(details: T): Omit<T, ContentField> {
  if (
    details.inputMessages === undefined &&
    details.systemInstructions === undefined &&
    details.toolDefinitions === undefined &&
    details.outputMessages === undefined
  )
    return details;
  const {
    inputMessages: _input,
    systemInstructions: _system,
    toolDefinitions: _tools,
    outputMessages: _output,
    ...rest
  } = details;
  return rest;
}

/** The content length limit of `startGenAiSpan()` and `endGenAiSpan()`, when there is one. */
export const contentLimit = (telemetry: GatewayTelemetry): { contentMaxLength?: number } => {
  const { maxLength } = telemetry.genAiContent;
  return maxLength !== undefined ? { contentMaxLength: maxLength } : {};
};

/** The `cache` label of `cache_hits_total` and `cache_misses_total` for providers' prompt caches. */
export const PROMPT_CACHE = 'provider_prompt';

/** `error.type` of an attempt the client left, or shutdown cut, before the provider answered. */
const CANCELLED_ERROR_TYPE = 'cancelled';

/**
 * An attempt the provider may bill ended without usage it can be priced from (the client left
 * before it, the provider reported none, or it reported usage no price fits): when `counted`,
 * counted in `gatewayz_api_key_attempts_without_usage_total`, and for a key with a budget charged,
 * through the request's hold, the most it can have cost (`RequestBudget.chargeWithoutUsage`), which
 * goes to `gatewayz_api_key_estimated_spend_usd_total` and never to the cost or token counters.
 */
function chargeWithoutUsage(
  telemetry: GatewayTelemetry,
  provider: ProviderConfig,
  apiKeyName: string,
  attemptContext: Context,
  completion: AttemptCompletion,
  counted: boolean,
): void {
  if (counted) telemetry.recordApiKeyAttemptWithoutUsage(apiKeyName);
  const budget = requestBudgetOf(attemptContext);
  if (budget === undefined) return;
  const charged = budget.chargeWithoutUsage(provider, completion.streamedOutputBytes);
  if (charged > 0) telemetry.recordApiKeyEstimatedSpend(apiKeyName, charged);
}
