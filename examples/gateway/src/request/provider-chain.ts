import type { ProviderConfig } from '../config.js';
import type { Operation } from './attempt.js';
import type { ProviderRuntime } from '../providers/provider-router.js';

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
