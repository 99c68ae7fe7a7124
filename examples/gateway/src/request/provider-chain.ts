import type { Operation } from './attempt.js';
import type { ProviderRuntime } from '../providers/provider-router.js';

/**
 * The provider chain of a request: the providers able to serve the model for the operation, best
 * health score first, configuration order breaking ties. A provider the health tracker has not
 * scored yet ranks as healthy (1).
 */
export function providerChain(
  runtimes: readonly ProviderRuntime[],
  model: string,
  operation: Operation,
  healthScore: (provider: string) => number | undefined,
): ProviderRuntime[] {
  const serving = runtimes.filter((runtime) => modelsFor(runtime, operation).includes(model));
  const score = (runtime: ProviderRuntime): number => healthScore(runtime.config.name) ?? 1;
  return serving
    .map((runtime, order) => ({ runtime, order, score: score(runtime) }))
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map((entry) => entry.runtime);
}

function modelsFor(runtime: ProviderRuntime, operation: Operation): readonly string[] {
  switch (operation) {
    case 'image_generation':
      return runtime.config.imageModels ?? [];
    case 'embeddings':
      return runtime.config.embeddingModels ?? [];
    default:
      return runtime.config.models;
  }
}
