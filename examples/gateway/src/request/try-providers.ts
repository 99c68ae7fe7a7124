import { propagation, trace, type Context, type Tracer } from '@opentelemetry/api';
import { startGenAiSpan } from '@gatewayz/telemetry/genai';
import { ApiError } from '../protocol/openai-errors.js';
import type { ProviderRuntime } from '../providers/provider-router.js';
import { UpstreamFailure } from '../providers/upstream.js';
import type { AttemptContext, AttemptResult, Operation, RoutedResult } from './attempt.js';
import { finishAttempt, type AttemptRecording } from './finish-attempt.js';

export interface FailoverOptions extends AttemptRecording {
  tracer: Tracer;
}

/**
 * Try the providers of `chain` in order until one succeeds, each through its circuit breaker and
 * inside its own GenAI CLIENT span (a child of `parent`, carried upstream in `traceparent`).
 * Every attempt that reached a provider is finished by `finishAttempt`: at once, or, when the
 * attempt is `deferred` (a stream), through the `complete` of the result.
 *
 * Throws `ApiError`: 404 when no provider serves the model, the upstream's own 4xx for a client
 * error, 503 when every breaker is open, 502 when every attempt failed.
 */
export async function tryProviders<T>(
  chain: readonly ProviderRuntime[],
  model: string,
  operation: Operation,
  attempt: (context: AttemptContext) => Promise<AttemptResult<T>>,
  parent: Context,
  options: FailoverOptions,
  stream = false,
): Promise<RoutedResult<T>> {
  if (chain.length === 0) {
    throw new ApiError(
      404,
      `The model \`${model}\` does not exist or is not served by any configured provider`,
      'invalid_request_error',
      'model_not_found',
      'model',
    );
  }
  const failures: string[] = [];
  let lastTried: string | undefined;
  let skippedOpen = 0;
  for (const runtime of chain) {
    if (runtime.breaker.opened && !runtime.breaker.halfOpen) {
      skippedOpen++;
      continue;
    }
    const provider = runtime.config;
    const span = startGenAiSpan(
      options.tracer,
      {
        operationName: operation,
        providerName: provider.name,
        requestModel: model,
        ...serverOf(provider.baseUrl),
        stream,
        semconvMode: options.telemetry.genAiSemconvMode,
      },
      parent,
    );
    const attemptContext = trace.setSpan(parent, span);
    const headers: Record<string, string> = {};
    if (provider.apiKey) headers['authorization'] = `Bearer ${provider.apiKey}`;
    propagation.inject(attemptContext, headers);
    const startedAt = performance.now();
    try {
      const result = (await runtime.breaker.fire(() => attempt({ provider, headers, span }))) as AttemptResult<T>;
      if (result.deferred) {
        let completed = false;
        return {
          value: result.value,
          provider: provider.name,
          complete: (completion) => {
            if (completed) return;
            completed = true;
            finishAttempt(options, provider, model, operation, span, attemptContext, startedAt, completion);
          },
        };
      }
      finishAttempt(
        options,
        provider,
        model,
        operation,
        span,
        attemptContext,
        startedAt,
        result.completion ?? { status: 'success' },
      );
      return { value: result.value, provider: provider.name, completion: result.completion, complete: () => {} };
    } catch (error) {
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        // The breaker opened while we were choosing; nothing was sent to the provider.
        span.end();
        skippedOpen++;
        continue;
      }
      const failure =
        error instanceof UpstreamFailure
          ? error
          : new UpstreamFailure('error', 'internal', 'Unexpected error while calling the provider', true);
      finishAttempt(options, provider, model, operation, span, attemptContext, startedAt, {
        status: failure.status,
        errorType: failure.errorType,
        errorMessage: failure.message,
      });
      if (!failure.failover) throw clientError(failure, provider.name);
      failures.push(`${provider.name}: ${failure.status}`);
      lastTried = provider.name;
    }
  }
  if (failures.length === 0) {
    throw new ApiError(
      503,
      `No provider is available for \`${model}\`: ${skippedOpen} circuit breaker(s) open`,
      'server_error',
      'providers_unavailable',
    );
  }
  throw new ApiError(
    502,
    `All providers failed for \`${model}\` (${failures.join(', ')})`,
    'server_error',
    'upstream_failed',
  ).answeredBy(lastTried as string);
}

/** A client error from upstream (no failover), answered with the upstream's own status and error fields. */
function clientError(failure: UpstreamFailure, provider: string): ApiError {
  const body = failure.clientBody as
    { error?: { message?: string; type?: string; code?: string; param?: string } } | undefined;
  return new ApiError(
    failure.httpStatus ?? 400,
    body?.error?.message ?? failure.message,
    body?.error?.type ?? 'invalid_request_error',
    body?.error?.code ?? null,
    body?.error?.param ?? null,
  ).answeredBy(provider);
}

/** `server.address` and `server.port` of the attempt span, from the provider's base URL. */
function serverOf(baseUrl: string): { serverAddress?: string; serverPort?: number } {
  try {
    const url = new URL(baseUrl);
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { serverAddress: url.hostname, serverPort: port };
  } catch {
    return {};
  }
}
