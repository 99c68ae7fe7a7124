import type { Context } from 'hono';
import type { ProviderConfig } from '../config.js';
import { ApiError, CLIENT_CLOSED_REQUEST, serverShutdownError } from '../protocol/openai-errors.js';
import { postUpstream, type UpstreamResponse } from '../providers/upstream.js';
import type { GatewayEnv, GatewayServices } from '../server/gateway-env.js';
import type { AttemptRequest, AttemptResult, Operation, RoutedResult } from './attempt.js';
import { recordServerFailure } from './server-request.js';
import { clientGone, requestContext } from './request-context.js';

/** What one attempt sends upstream: a path below the provider's base URL and a JSON body. */
export interface UpstreamPlan {
  /** Path below the provider's base URL, e.g. `/chat/completions`. */
  path: string;
  body: Record<string, unknown>;
}

/**
 * Route a model request through its provider chain (`router.route`, in the request's trace
 * context): for each provider tried, `plan` says what to POST, the attempt's headers (auth,
 * `traceparent`) and rate-limit observer go with it, and `answer` makes the attempt's result of
 * the upstream response. A request that no provider answers is recorded in the GenAI server
 * metrics before its error reaches the client. `request` (streaming, parameters) goes on the attempt spans. The one place the JSON and the streamed paths
 * share, so both send the same request the same way.
 */
export async function routeUpstream<P extends UpstreamPlan, T>(
  c: Context<GatewayEnv>,
  services: GatewayServices,
  operation: Operation,
  model: string,
  plan: (provider: ProviderConfig) => P,
  answer: (planned: P, response: UpstreamResponse, attemptStartedAt: number) => Promise<AttemptResult<T>>,
  request: AttemptRequest = {},
): Promise<RoutedResult<T>> {
  try {
    // An unknown model is answered 404 by router.route() before any provider is tried.
    return await services.router.route(
      model,
      operation,
      async ({ provider, headers, onResponseHeaders }) => {
        const attemptStartedAt = performance.now();
        const planned = plan(provider);
        const response = await postUpstream({
          url: `${provider.baseUrl}${planned.path}`,
          body: planned.body,
          headers,
          onResponseHeaders,
          timeoutMs: services.config.attemptTimeoutMs,
          bodyIdleTimeoutMs: services.config.streamIdleTimeoutMs,
          signal: clientGone(c),
        });
        return answer(planned, response, attemptStartedAt);
      },
      requestContext(c),
      request,
    );
  } catch (error) {
    // A request whose upstream call was aborted because shutdown closed its connection was cut by
    // the server, not left by its client.
    const failure =
      services.inFlight.cut && error instanceof ApiError && error.status === CLIENT_CLOSED_REQUEST
        ? serverShutdownError(error.provider)
        : error;
    recordServerFailure(c, services, operation, model, failure);
    throw failure;
  }
}
