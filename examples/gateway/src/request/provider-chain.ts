import { createContextKey, type Context } from '@opentelemetry/api';
import type { ProviderConfig } from '../config.js';
import type { ApiError } from '../protocol/openai-errors.js';
import type { Operation } from './attempt.js';
import type { ProviderRuntime } from '../providers/provider-router.js';

const PROVIDER_FILTER = createContextKey('gatewayz example gateway provider filter');

/**
 * Which providers of its model one request can be sent to, when not all of them can: a
 * `/v1/responses` request with a built-in tool goes only to the providers with the Responses API.
 * The others are left out of the request's chain (see `tryProviders`) before any attempt: they are
 * not tried, so their breakers, health and failover counts do not hear of the request.
 */
export interface ProviderFilter {
  /** Whether the request can be sent to `provider`. */
  admits(provider: ProviderConfig): boolean;
  /** What the request is answered when no provider of its chain admits it. */
  readonly refusal: ApiError;
  /**
   * What the providers it admits have, and why the request needs it, for the 503, 429 and 502 the
   * request is answered when they are all unavailable: the client must not read them as the whole
   * model being down. A phrase following "providers", e.g. "with the Responses API, needed for
   * `tools[0].type`".
   */
  readonly requirement: string;
}

/** The request's context with the filter its provider chain goes through. */
export function withProviderFilter(context: Context, filter: ProviderFilter): Context {
  return context.setValue(PROVIDER_FILTER, filter);
}

/** The provider filter of a request's context; undefined when every provider of its model can serve it. */
export function providerFilterOf(context: Context): ProviderFilter | undefined {
  return context.getValue(PROVIDER_FILTER) as ProviderFilter | undefined;
}

/**
 * The provider chain of a request: the providers able to serve the model for the operation, best
 * health score first, configuration order breaking ties. A provider the health tracker has not
 * scored yet ranks as healthy (1).
 *
 * A provider whose breaker is half-open and still waiting for its trial call comes first, whatever
 * its score: the failures that opened the breaker also lowered its score, so ranked by score it
 * would get the trial only once every healthier provider had failed, and would stay half-open (its
 * score low, no calls to raise it) for as long as they answer. The request that takes the trial
 * fails over down the chain if the trial fails, so the client still gets an answer. Once the trial
 * is in flight (opossum admits one), the breaker refuses calls until it closes or opens again, and
 * the provider ranks by its score.
 */
export function providerChain(
  runtimes: readonly ProviderRuntime[],
  model: string,
  operation: Operation,
  healthScore: (provider: string) => number | undefined,
): ProviderRuntime[] {
  const serving = runtimes.filter((runtime) => modelsServed(runtime.config, operation).includes(model));
  const score = (runtime: ProviderRuntime): number => healthScore(runtime.config.name) ?? 1;
  return serving
    .map((runtime, order) => ({ runtime, order, trial: awaitsTrial(runtime), score: score(runtime) }))
    .sort((a, b) => Number(b.trial) - Number(a.trial) || b.score - a.score || a.order - b.order)
    .map((entry) => entry.runtime);
}

/** Half-open with no trial call in flight: opossum lets the next call through as the trial. */
export function awaitsTrial(runtime: ProviderRuntime): boolean {
  return runtime.breaker.halfOpen && runtime.breaker.pendingClose;
}

/** Half-open with its trial call in flight: opossum refuses every other call until the trial ends. */
export function trialInFlight(runtime: ProviderRuntime): boolean {
  return runtime.breaker.halfOpen && !runtime.breaker.pendingClose;
}

/** The models `provider` serves for `operation`: its image, embedding or chat models. */
export function modelsServed(provider: ProviderConfig, operation: Operation): readonly string[] {
  switch (operation) {
    case 'image_generation':
      return provider.imageModels ?? [];
    case 'embeddings':
      return provider.embeddingModels ?? [];
    default:
      return provider.models;
  }
}
