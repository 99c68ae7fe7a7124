import type { GatewayTelemetry } from '@gatewayz/telemetry';
import { METRIC_CATALOG } from '@gatewayz/telemetry/metrics';
import type { ProviderConfig } from '../config.js';
import { PROMPT_CACHE } from '../request/finish-attempt.js';
import type { GatewayLogger } from './gateway-env.js';

/**
 * The share of `maxSeriesPerMetric` the series created at start-up may take. The gateway's own
 * attempts only ever write the combinations created here, but the limit guards the whole metric:
 * series no call may ever reach must leave room for what does come (and the memory and scrape
 * size of a series are paid whether it moves or not).
 */
export const INITIAL_SERIES_SHARE = 0.5;

/** What `createInitialSeries` did. */
export interface InitialSeries {
  /** Series of `model_inference_requests_total` created at 0 (or found already there). */
  readonly series: number;
  /** Providers left out: with them the series would have taken more than `INITIAL_SERIES_SHARE` of the limit. */
  readonly skippedProviders: readonly string[];
}

/**
 * Create `cache_hits_total` and `cache_misses_total{cache="provider_prompt"}` at 0, and
 * `model_inference_requests_total{provider,model,status}` at 0 for every provider, every
 * model it serves (chat, image and embedding models: each is the `model` label of its attempts)
 * and every status the catalog allows, so a series' first call is an increase from 0 that
 * `rate()` and `increase()` see. A series born at its first call appears already at 1 (or N),
 * and the SLO burn rates and `GatewayzProviderErrorSurge` (deploy/prometheus) would miss those
 * calls: the first errors of a provider that had never failed, when they matter most. Every model
 * list of the configuration is closed (exact names), so every combination is known here.
 *
 * Providers are taken in configuration order, each whole or not at all, while the metric's series
 * stay within `INITIAL_SERIES_SHARE` of `maxSeriesPerMetric`; the others are left to be created by
 * their first call, as before, and a warning says so once. Call it once, before the first request.
 *
 * @example
 * ```ts
 * createInitialSeries(otel.telemetry, config.providers, otel.logger);
 * ```
 */
export function createInitialSeries(
  telemetry: GatewayTelemetry,
  providers: readonly ProviderConfig[],
  log: Pick<GatewayLogger, 'info' | 'warn'>,
): InitialSeries {
  const statuses = METRIC_CATALOG.modelInferenceRequests.labelValues.status;
  const budget = Math.floor(telemetry.maxSeriesPerMetric * INITIAL_SERIES_SHARE);
  let held = telemetry.seriesCount('modelInferenceRequests');
  let created = 0;
  const skippedProviders: string[] = [];
  let skippedSeries = 0;
  for (const provider of providers) {
    const models = new Set([...provider.models, ...(provider.imageModels ?? []), ...(provider.embeddingModels ?? [])]);
    const needed = models.size * statuses.length;
    if (held + needed > budget) {
      skippedProviders.push(provider.name);
      skippedSeries += needed;
      continue;
    }
    for (const model of models)
      for (const status of statuses)
        telemetry.add('modelInferenceRequests', 0, { provider: provider.name, model, status });
    held += needed;
    created += needed;
  }
  // The providers' prompt caches (finishAttempt), so the dashboard's hit rate and rate() start at 0 too.
  telemetry.add('cacheHits', 0, { cache: PROMPT_CACHE });
  telemetry.add('cacheMisses', 0, { cache: PROMPT_CACHE });
  if (skippedProviders.length > 0) {
    log.warn(
      `model_inference_requests_total not created at 0 for some providers: their series would take more than ${INITIAL_SERIES_SHARE * 100} % of maxSeriesPerMetric, so rate() and increase() miss the first calls of each (raise maxSeriesPerMetric to include them)`,
      {
        providers: skippedProviders.join(','),
        series_needed: skippedSeries,
        series_limit: telemetry.maxSeriesPerMetric,
      },
    );
  } else if (created > 0) {
    log.info('model_inference_requests_total series created at 0', { series: created, providers: providers.length });
  }
  return { series: created, skippedProviders };
}
