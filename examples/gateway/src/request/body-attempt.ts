import type { Context } from 'hono';
import { postUpstream, readUpstreamJson } from '../providers/upstream.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';
import type { Usage } from './attempt.js';
import { clientGone, requestContext } from './request-context.js';

/*
 * Attempts answered with one JSON body (chat without `stream`, image generation): the attempt
 * reads the whole upstream body, and reports usage, response model and finish reason (or the
 * number of images) as its completion, so the attempt is finished before the client is answered.
 */

function usageOf(completion: Record<string, unknown>): Usage | undefined {
  const usage = completion['usage'] as { prompt_tokens?: unknown; completion_tokens?: unknown } | undefined;
  if (typeof usage?.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number') return undefined;
  return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
}

/** Run a non-streamed chat request (`upstreamBody`, OpenAI shape) through the provider chain; resolves with the completion. */
export async function completeChat(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  model: string,
  upstreamBody: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const { config } = services;
  // An unknown model is answered 404 by router.route() before any provider is tried.
  const routed = await services.router.route(
    model,
    'chat',
    async ({ provider, headers }) => {
      const response = await postUpstream({
        url: `${provider.baseUrl}/chat/completions`,
        body: { ...upstreamBody, stream: false },
        headers,
        timeoutMs: config.attemptTimeoutMs,
        signal: clientGone(c),
      });
      const completion = await readUpstreamJson(response);
      const usage = usageOf(completion);
      const finishReason = (completion['choices'] as Array<{ finish_reason?: string }> | undefined)?.[0]?.finish_reason;
      return {
        value: completion,
        completion: {
          status: 'success',
          ...(usage !== undefined ? { usage } : {}),
          ...(typeof completion['model'] === 'string' ? { responseModel: completion['model'] } : {}),
          ...(finishReason !== undefined ? { finishReasons: [finishReason] } : {}),
        },
      };
    },
    requestContext(c),
  );
  return routed.value;
}

/** Run an image generation request (`body`, OpenAI shape) through the provider chain; resolves with the upstream's answer. */
export async function generateImages(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  model: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const { config } = services;
  const routed = await services.router.route(
    model,
    'image_generation',
    async ({ provider, headers }) => {
      const response = await postUpstream({
        url: `${provider.baseUrl}/images/generations`,
        body,
        headers,
        timeoutMs: config.attemptTimeoutMs,
        signal: clientGone(c),
      });
      const result = await readUpstreamJson(response);
      const images = Array.isArray(result['data']) ? result['data'].length : 0;
      return { value: result, completion: { status: 'success', images } };
    },
    requestContext(c),
  );
  return routed.value;
}
