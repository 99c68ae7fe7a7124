import {
  ROOT_CONTEXT,
  context as contextApi,
  propagation,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import CircuitBreaker from 'opossum';
import { bindCircuitBreakerMetrics, type GatewayTelemetry, type ModelCallStatus } from '@gatewayz/telemetry';
import { type ModelCall } from '@gatewayz/telemetry/model-health';
import { type AnomalyDetector } from '@gatewayz/telemetry/provider-health';
import { endGenAiSpan, startGenAiSpan, type PricingTable } from '@gatewayz/telemetry/genai';
import type { GatewayConfig, ProviderConfig } from './config.js';
import { ApiError } from './openai-errors.js';
import { UpstreamFailure } from './upstream.js';

export type Operation = 'chat' | 'image_generation';

/** Where finished calls go: the model-health store (or its write-behind recorder). */
export interface ModelCallSink {
  recordCall(call: ModelCall): void;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** What an attempt reports when it finishes (immediately, or at the end of a stream). */
export interface AttemptCompletion {
  status: ModelCallStatus;
  usage?: Usage;
  images?: number;
  responseModel?: string;
  finishReasons?: string[];
  errorType?: string;
  errorMessage?: string;
  timeToFirstTokenSeconds?: number;
  /** The client went away before the end (streams); recorded as the provider's success. */
  cancelled?: boolean;
}

export interface AttemptContext {
  provider: ProviderConfig;
  /** Headers for the upstream request: auth and W3C `traceparent` of the attempt span. */
  headers: Record<string, string>;
  span: Span;
}

/**
 * The value an attempt produced. When `deferred`, the call is still running (a stream) and the
 * caller must call `complete()` exactly once when it ends.
 */
export interface AttemptResult<T> {
  value: T;
  deferred?: boolean;
  completion?: AttemptCompletion;
}

export interface RoutedResult<T> {
  value: T;
  provider: string;
  /** Finish a deferred attempt (streams). No-op for finished ones. */
  complete(completion: AttemptCompletion): void;
}

interface ProviderRuntime {
  readonly config: ProviderConfig;
  readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  readonly unbind: () => void;
}

export interface ProviderRouterOptions {
  config: GatewayConfig;
  telemetry: GatewayTelemetry;
  tracer: Tracer;
  sink: ModelCallSink;
  pricing: PricingTable;
  /** Current health score of a provider (from the tracker); unknown providers rank as healthy. */
  healthScore: (provider: string) => number | undefined;
  /** Latency-spike and error-surge detection, fed with every attempt. */
  anomalies?: AnomalyDetector;
  /** Where failed attempts are logged (inside the attempt span, so the log carries its trace). */
  logger?: { warn(message: string, attributes?: Record<string, string | number | boolean | null | undefined>): void };
}

/**
 * Routes a request for a model across the providers that serve it, best health score first, each
 * behind its own opossum circuit breaker. Every attempt gets a GenAI CLIENT span, is timed into the
 * provider/model metrics and is recorded in model health with its own status.
 */
export class ProviderRouter {
  private readonly runtimes: ProviderRuntime[];
  private readonly options: ProviderRouterOptions;

  constructor(options: ProviderRouterOptions) {
    this.options = options;
    const { breaker } = options.config;
    this.runtimes = options.config.providers.map((config) => {
      const circuit = new CircuitBreaker<[() => Promise<unknown>], unknown>((action) => action(), {
        name: config.name,
        timeout: false,
        errorThresholdPercentage: breaker.errorThresholdPercentage,
        resetTimeout: breaker.resetTimeoutMs,
        volumeThreshold: breaker.volumeThreshold,
        rollingCountTimeout: breaker.rollingCountTimeoutMs,
        // A client error (bad request) says nothing about the provider's health.
        errorFilter: (error: unknown) => error instanceof UpstreamFailure && !error.failover,
      });
      return { config, breaker: circuit, unbind: bindCircuitBreakerMetrics(circuit, config.name, options.telemetry) };
    });
  }

  /** Every model some provider serves, with the providers serving it. */
  models(): Array<{ id: string; providers: string[] }> {
    const byModel = new Map<string, string[]>();
    for (const runtime of this.runtimes) {
      for (const model of runtime.config.models) {
        const list = byModel.get(model) ?? [];
        list.push(runtime.config.name);
        byModel.set(model, list);
      }
    }
    return [...byModel.entries()].map(([id, providers]) => ({ id, providers }));
  }

  serves(model: string, operation: Operation): boolean {
    return this.candidates(model, operation).length > 0;
  }

  /** Breaker state per provider, for `/health`. */
  breakerStates(): Record<string, string> {
    const states: Record<string, string> = {};
    for (const runtime of this.runtimes) {
      states[runtime.config.name] = runtime.breaker.halfOpen ? 'half_open' : runtime.breaker.opened ? 'open' : 'closed';
    }
    return states;
  }

  /** Providers able to serve the model, best health score first, configuration order breaking ties. */
  candidates(model: string, operation: Operation): readonly ProviderConfig[] {
    return this.runtimeCandidates(model, operation).map((runtime) => runtime.config);
  }

  private runtimeCandidates(model: string, operation: Operation): ProviderRuntime[] {
    const serving = this.runtimes.filter((runtime) =>
      operation === 'image_generation'
        ? (runtime.config.imageModels ?? []).includes(model)
        : runtime.config.models.includes(model),
    );
    const score = (runtime: ProviderRuntime): number => this.options.healthScore(runtime.config.name) ?? 1;
    return serving
      .map((runtime, order) => ({ runtime, order, score: score(runtime) }))
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .map((entry) => entry.runtime);
  }

  /**
   * Try providers in order until one succeeds. Throws `ApiError`: 404 when no provider serves the
   * model, the upstream's own 4xx for a client error, 503 when every breaker is open, 502 when
   * every attempt failed.
   *
   * `parent` is the request's context (its server span): attempt spans become its children and
   * carry it upstream in `traceparent`. It is passed explicitly rather than read from the active
   * context, so tracing works with a context manager that does not follow `await`s.
   */
  async route<T>(
    model: string,
    operation: Operation,
    attempt: (context: AttemptContext) => Promise<AttemptResult<T>>,
    parent: Context = ROOT_CONTEXT,
  ): Promise<RoutedResult<T>> {
    const candidates = this.runtimeCandidates(model, operation);
    if (candidates.length === 0) {
      throw new ApiError(
        404,
        `The model \`${model}\` does not exist or is not served by any configured provider`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
    }
    const failures: string[] = [];
    let skippedOpen = 0;
    for (const runtime of candidates) {
      if (runtime.breaker.opened && !runtime.breaker.halfOpen) {
        skippedOpen++;
        continue;
      }
      const provider = runtime.config;
      const span = startGenAiSpan(
        this.options.tracer,
        {
          operationName: operation,
          providerName: provider.name,
          requestModel: model,
          ...serverOf(provider.baseUrl),
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
              this.finishAttempt(provider, model, operation, span, attemptContext, startedAt, completion);
            },
          };
        }
        this.finishAttempt(
          provider,
          model,
          operation,
          span,
          attemptContext,
          startedAt,
          result.completion ?? { status: 'success' },
        );
        return { value: result.value, provider: provider.name, complete: () => {} };
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
        this.finishAttempt(provider, model, operation, span, attemptContext, startedAt, {
          status: failure.status,
          errorType: failure.errorType,
          errorMessage: failure.message,
        });
        if (!failure.failover) {
          const body = failure.clientBody as
            { error?: { message?: string; type?: string; code?: string; param?: string } } | undefined;
          throw new ApiError(
            failure.httpStatus ?? 400,
            body?.error?.message ?? failure.message,
            body?.error?.type ?? 'invalid_request_error',
            body?.error?.code ?? null,
            body?.error?.param ?? null,
          );
        }
        failures.push(`${provider.name}: ${failure.status}`);
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
    );
  }

  private finishAttempt(
    provider: ProviderConfig,
    model: string,
    operation: Operation,
    span: Span,
    attemptContext: Context,
    startedAt: number,
    completion: AttemptCompletion,
  ): void {
    const { telemetry, sink, pricing, config } = this.options;
    const durationMs = performance.now() - startedAt;
    const seconds = durationMs / 1000;
    const name = provider.name;
    this.options.anomalies?.observe({
      provider: name,
      latencySeconds: seconds,
      success: completion.status === 'success',
    });
    // Record inside the attempt span so latency histograms carry it as their exemplar (only a
    // recording span can be one: skip the context switch otherwise).
    const record = (): void => {
      if (completion.status !== 'success') {
        this.options.logger?.warn('provider attempt failed', {
          provider: name,
          model,
          operation,
          status: completion.status,
          error_type: completion.errorType,
          duration_ms: Math.round(durationMs),
        });
      }
      telemetry.recordProviderResponseTime(name, seconds);
      telemetry.recordModelInference(name, model, completion.status, seconds);
      telemetry.recordGenAiOperation({
        operationName: operation,
        providerName: name,
        requestModel: model,
        responseModel: completion.responseModel ?? model,
        durationSeconds: seconds,
        ...(completion.errorType !== undefined ? { errorType: completion.errorType } : {}),
        ...(completion.usage !== undefined
          ? { inputTokens: completion.usage.inputTokens, outputTokens: completion.usage.outputTokens }
          : {}),
      });
      if (completion.timeToFirstTokenSeconds !== undefined) {
        telemetry.recordTimeToFirstToken(name, model, completion.timeToFirstTokenSeconds);
      }
      if (completion.status === 'success') {
        if (completion.usage !== undefined) {
          telemetry.recordTokenUsage(name, model, completion.usage.inputTokens, completion.usage.outputTokens);
        }
        const cost = pricing.cost({
          provider: name,
          model,
          inputTokens: completion.usage?.inputTokens ?? 0,
          outputTokens: completion.usage?.outputTokens ?? 0,
          images: completion.images ?? 0,
        });
        if (cost !== undefined) {
          telemetry.incrementCostByProvider(name, cost);
          telemetry.recordCreditsUsed(name, model, cost * config.creditsPerUsd);
        }
      }
    };
    if (span.isRecording()) contextApi.with(attemptContext, record);
    else record();
    try {
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
    if (completion.cancelled) span.setAttribute('gatewayz.client_cancelled', true);
    endGenAiSpan(span, {
      responseModel: completion.responseModel ?? model,
      ...(completion.usage !== undefined
        ? { inputTokens: completion.usage.inputTokens, outputTokens: completion.usage.outputTokens }
        : {}),
      ...(completion.finishReasons !== undefined ? { finishReasons: completion.finishReasons } : {}),
      ...(completion.errorType !== undefined ? { errorType: completion.errorType } : {}),
    });
  }

  /** Detach breaker listeners and stop their timers. */
  close(): void {
    for (const runtime of this.runtimes) {
      runtime.unbind();
      runtime.breaker.shutdown();
    }
  }
}

function serverOf(baseUrl: string): { serverAddress?: string; serverPort?: number } {
  try {
    const url = new URL(baseUrl);
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { serverAddress: url.hostname, serverPort: port };
  } catch {
    return {};
  }
}
