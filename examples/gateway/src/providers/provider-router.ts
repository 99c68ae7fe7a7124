import { ROOT_CONTEXT, type Context, type Tracer } from '@opentelemetry/api';
import CircuitBreaker from 'opossum';
import { bindCircuitBreakerMetrics, type GatewayTelemetry } from '@gatewayz/telemetry';
import { monotonicNow } from '@gatewayz/telemetry/scheduling';
import type { GatewayConfig, ProviderConfig } from '../config.js';
import type { AttemptContext, AttemptRequest, AttemptResult, Operation, RoutedResult } from '../request/attempt.js';
import { tryProviders, type FailoverOptions } from '../request/try-providers.js';
import type { AttemptRecording } from '../request/finish-attempt.js';
import { providerChain } from '../request/provider-chain.js';
import { breakerErrorFilter } from './breaker-error-filter.js';
import { trackHalfOpenTime } from './half-open-time.js';
import { ProviderRateLimits } from './provider-rate-limits.js';
import { withFields } from '../with-fields.js';

export type {
  AttemptCompletion,
  AttemptContext,
  AttemptResult,
  ModelCallSink,
  Operation,
  RoutedResult,
  Usage,
} from '../request/attempt.js';

/** A configured provider with its circuit breaker. */
export interface ProviderRuntime {
  readonly config: ProviderConfig;
  /** `server.address` and `server.port` of its attempt spans, from its base URL (parsed once). */
  readonly server: { readonly serverAddress?: string; readonly serverPort?: number };
  readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  /** While the breaker is open: when it goes half-open (on `monotonicNow()`); otherwise `undefined`. */
  readonly halfOpenAt: () => number | undefined;
  readonly unbind: () => void;
}

export interface ProviderRouterOptions extends AttemptRecording {
  config: GatewayConfig;
  telemetry: GatewayTelemetry;
  tracer: Tracer;
  /** Current health score of a provider (from the tracker); unknown providers rank as healthy. */
  healthScore: (provider: string) => number | undefined;
}

/**
 * Routes a request for a model across the providers that serve it, best health score first, each
 * behind its own opossum circuit breaker, passing over providers with no requests left until their
 * rate limit resets. Every attempt gets a GenAI CLIENT span, is timed into the
 * provider/model metrics and is recorded in model health with its own status.
 */
export class ProviderRouter {
  private readonly runtimes: ProviderRuntime[];
  private readonly options: ProviderRouterOptions;
  private readonly failoverOptions: FailoverOptions;
  /** Each provider's rate-limit headroom, from the headers of its responses. */
  readonly rateLimits: ProviderRateLimits;

  constructor(options: ProviderRouterOptions) {
    this.options = options;
    this.rateLimits = new ProviderRateLimits(options.telemetry, () => Date.now(), {
      maxRetryAfterMs: options.config.maxRetryAfterMs,
      monotonicNow,
    });
    this.failoverOptions = withFields(options, { rateLimits: this.rateLimits });
    const { breaker } = options.config;
    this.runtimes = options.config.providers.map((config) => {
      const breakerOptions: CircuitBreaker.Options<[() => Promise<unknown>]> = {
        name: config.name,
        timeout: false,
        errorThresholdPercentage: breaker.errorThresholdPercentage,
        resetTimeout: breaker.resetTimeoutMs,
        volumeThreshold: breaker.volumeThreshold,
        rollingCountTimeout: breaker.rollingCountTimeoutMs,
        // A client error (bad request) or a call the client left says nothing about the provider's
        // health (the health figures leave it out too, see provider-fault.ts), except a call left
        // as a half-open breaker's trial, which must not close it; a rate limit (429) is the
        // provider working as announced (see breakerErrorFilter).
        errorFilter: (error: unknown) => breakerErrorFilter(error, circuit),
      };
      const circuit = new CircuitBreaker<[() => Promise<unknown>], unknown>((action) => action(), breakerOptions);
      return {
        config,
        server: serverOf(config.baseUrl),
        breaker: circuit,
        halfOpenAt: trackHalfOpenTime(circuit, breaker.resetTimeoutMs),
        unbind: bindCircuitBreakerMetrics(circuit, config.name, options.telemetry),
      };
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

  /**
   * Whether some provider is configured with the model, for any operation: a bounded set of names,
   * unlike the model strings clients send, so only these may become metric labels.
   */
  knows(model: string): boolean {
    return this.runtimes.some(({ config }) =>
      [config.models, config.embeddingModels ?? [], config.imageModels ?? []].some((models) => models.includes(model)),
    );
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
    return providerChain(this.runtimes, model, operation, this.options.healthScore).map((runtime) => runtime.config);
  }

  /**
   * Try providers in order until one succeeds (see `tryProviders`). Throws `ApiError`: 404 when no
   * provider serves the model, the upstream's own 4xx for a client error, 503 when every breaker
   * is open, 429 when every attempt was rate limited, 502 when every attempt failed.
   *
   * `parent` is the request's context (its server span): attempt spans become its children and
   * carry it upstream in `traceparent`. It is passed explicitly rather than read from the active
   * context, so tracing works with a context manager that does not follow `await`s. `request`
   * (`gen_ai.request.stream` and the request's parameters) goes on the attempt spans.
   */
  route<T>(
    model: string,
    operation: Operation,
    attempt: (context: AttemptContext) => Promise<AttemptResult<T>>,
    parent: Context = ROOT_CONTEXT,
    request: AttemptRequest = {},
  ): Promise<RoutedResult<T>> {
    const chain = providerChain(this.runtimes, model, operation, this.options.healthScore);
    return tryProviders(chain, model, operation, attempt, parent, this.failoverOptions, request);
  }

  /** Detach breaker listeners and stop their timers. */
  close(): void {
    for (const runtime of this.runtimes) {
      runtime.unbind();
      runtime.breaker.shutdown();
    }
  }
}

/** `server.address` and `server.port` of a provider's attempt spans, from its base URL. */
function serverOf(baseUrl: string): { serverAddress?: string; serverPort?: number } {
  try {
    const url = new URL(baseUrl);
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { serverAddress: url.hostname, serverPort: port };
  } catch {
    return {};
  }
}
