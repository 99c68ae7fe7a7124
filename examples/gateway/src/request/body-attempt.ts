import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import type { Context } from 'hono';
import type { ProviderConfig } from '../config.js';
import { reportedFailure } from '../providers/stream-answer.js';
import { readUpstreamJson } from '../providers/upstream.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';
import { chatOutputMessages } from '../protocol/chat-content.js';
import { answeredImageOptions, imageOptionsOf, type ImageOptions } from '../protocol/images.js';
import { pricedByTokens, pricedImages } from '../provider-pricing.js';
import type { AttemptCompletion, Operation, SpanRequest } from './attempt.js';
import { clientGone } from './request-context.js';
import { routeUpstream, type UpstreamPlan } from './route-upstream.js';
import { recordServerAnswer } from './server-request.js';
import { withFields } from '../with-fields.js';

/*
 * Attempts answered with one JSON body (chat without `stream`, responses, embeddings, image
 * generation): the attempt reads the whole upstream body and reports usage, response model and
 * finish reason (or the images, as priced) as its completion, so the attempt is finished before
 * the client is answered. A 2xx whose body is an error rather than an answer fails the attempt as
 * an error before a stream's first event does (see `answerOf`).
 */

/** What one attempt sends to a provider, and what it makes of the provider's JSON answer. */
export interface JsonPlan<T> extends UpstreamPlan {
  /** The client's answer and the attempt's completion, from the upstream's JSON body. */
  answer(upstream: Record<string, unknown>): { value: T; completion: AttemptCompletion };
}

/**
 * Run a request answered with one JSON body through the provider chain for `operation`: `plan`
 * says, per provider tried, what to send and how to read the answer. Resolves with the answer of
 * the first provider that succeeds. The request is recorded in the GenAI server metrics (duration
 * to the answer; no time to first token, which a JSON answer does not have before its last).
 * `parameters` (the client's max tokens, temperature, ...) go on the attempt spans.
 */
export async function completeJson<T>(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  model: string,
  operation: Operation,
  plan: (provider: ProviderConfig) => JsonPlan<T>,
  parameters: SpanRequest = {},
): Promise<T> {
  const routed = await routeUpstream(
    c,
    services,
    operation,
    model,
    plan,
    // With the request's `clientGone`: a client that leaves stops a trickling body from holding the
    // connection, and shutdown's cut lets the body go at once (see `readUpstreamJson`).
    async (planned, response) => planned.answer(answerOf(await readUpstreamJson(response, clientGone(c)), operation)),
    withFields(parameters, { stream: false }),
  );
  const completion = routed.completion ?? { status: 'success' };
  recordServerAnswer(c, services, { operation, model, provider: routed.provider, completion });
  return routed.value;
}

/**
 * Fields one of which, a non-empty array, makes a body an answer: a chat completion's `choices`, an
 * Anthropic message's `content`, the `data` of embeddings and images. A Response's `output` makes it
 * one even empty: a failed Response carries its `error` beside it, and its plan reads its status.
 */
const ANSWER_FIELDS = ['choices', 'content', 'data'] as const;

/**
 * `upstream`, a provider's 2xx JSON body, when it is an answer. A body holding an `error` (`null`
 * and `false` are none) and no answer is the provider's error sent with a 2xx status (OpenRouter:
 * `{"error":{"code":502,"message":...}}`, or with `"choices": []` beside it): it throws the failure
 * the same body to a stream request throws (`reportedFailure`), so the attempt fails over, or, for
 * an error whose `code` is a 4xx the client caused, the client gets that status. An answer that
 * also carries an `error` (a failed Response, with its `output`) is left to the plan, as before.
 */
function answerOf(upstream: Record<string, unknown>, operation: Operation): Record<string, unknown> {
  const error = upstream['error'];
  if (error === undefined || error === null || error === false) return upstream;
  if (Array.isArray(upstream['output'])) return upstream;
  const answers = (field: string): boolean => Array.isArray(upstream[field]) && upstream[field].length > 0;
  if (ANSWER_FIELDS.some(answers)) return upstream;
  // Embeddings report no completion tokens (their success path adds the 0 as well).
  const usage =
    operation === 'embeddings' ? { completion_tokens: 0, ...(upstream['usage'] as object) } : upstream['usage'];
  throw reportedFailure(error, undefined, usageFromOpenAi(usage));
}

/**
 * The completion of a chat attempt answered by `completion` (an OpenAI chat completion); with
 * `captureContent` (`GatewayTelemetry.genAiContent.capture`), its choices as output messages too.
 */
export function chatCompletionOf(completion: Record<string, unknown>, captureContent = false): AttemptCompletion {
  const usage = usageFromOpenAi(completion['usage']);
  // One finish reason per choice (`n` > 1), in choice order.
  const choices = completion['choices'];
  const finishReasons = (
    Array.isArray(choices) ? (choices as Array<{ index?: unknown; finish_reason?: unknown } | null>) : []
  )
    .map((choice, position) => ({
      index: typeof choice?.index === 'number' ? choice.index : position,
      reason: choice?.finish_reason,
    }))
    .filter((choice): choice is { index: number; reason: string } => typeof choice.reason === 'string')
    .sort((a, b) => a.index - b.index)
    .map((choice) => choice.reason);
  return {
    status: 'success',
    ...(usage !== undefined ? { usage } : {}),
    ...(typeof completion['model'] === 'string' ? { responseModel: completion['model'] } : {}),
    ...(typeof completion['id'] === 'string' ? { responseId: completion['id'] } : {}),
    ...(typeof completion['service_tier'] === 'string' ? { serviceTier: completion['service_tier'] } : {}),
    ...(typeof completion['system_fingerprint'] === 'string'
      ? { systemFingerprint: completion['system_fingerprint'] }
      : {}),
    ...(finishReasons.length > 0 ? { finishReasons } : {}),
    ...(captureContent ? { outputMessages: chatOutputMessages(completion) } : {}),
  };
}

/**
 * Run a non-streamed chat request (`upstreamBody`, OpenAI shape) through the provider chain;
 * resolves with the completion. `parameters` are the client's, read from the body it sent.
 */
export function completeChat(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  model: string,
  upstreamBody: Record<string, unknown>,
  parameters: SpanRequest,
): Promise<Record<string, unknown>> {
  const { collect } = services.otel.telemetry.genAiContent;
  return completeJson(
    c,
    services,
    model,
    'chat',
    () => ({
      path: '/chat/completions',
      body: withFields(upstreamBody, { stream: false }),
      answer: (completion) => ({ value: completion, completion: chatCompletionOf(completion, collect) }),
    }),
    parameters,
  );
}

/** Run an image generation request (`body`, OpenAI shape) through the provider chain; resolves with the upstream's answer. */
export function generateImages(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  model: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const requested = imageOptionsOf(body);
  return completeJson(c, services, model, 'image_generation', (provider) => ({
    path: '/images/generations',
    body,
    answer: (result) => ({ value: result, completion: imagesCompletionOf(provider, model, result, requested) }),
  }));
}

/**
 * The completion of an image attempt answered by `result` at `provider`: its token `usage` when it
 * reports one (GPT image models), which is what it costs when the provider prices the model by
 * tokens; otherwise its images, priced by the size and quality the answer reports, else those
 * `requested` (see `pricedImages`).
 */
export function imagesCompletionOf(
  provider: ProviderConfig,
  model: string,
  result: Record<string, unknown>,
  requested: ImageOptions,
): AttemptCompletion {
  const usage = usageFromOpenAi(result['usage']);
  if (usage !== undefined && pricedByTokens(provider, model)) return { status: 'success', usage };
  const count = Array.isArray(result['data']) ? result['data'].length : 0;
  return {
    status: 'success',
    ...(usage !== undefined ? { usage } : {}),
    images: pricedImages(provider, model, count, answeredImageOptions(result, requested)),
  };
}
