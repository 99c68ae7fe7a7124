/**
 * The gateway's own metrics that belong to no other domain: models (uptime, token efficiency,
 * inferences, time to first token), business (cost, tokens, credits, trials, API keys,
 * subscriptions) and the HTTP server, database and cache. Each `*-metrics.ts` file holds the typed
 * helpers `GatewayTelemetry` carries; each `*-helpers.ts` file the same helpers on the shared instance.
 *
 * @example
 * ```ts
 * import { incrementCostByProvider, recordHttpRequest } from '@gatewayz/telemetry';
 * ```
 */
export {
  setModelUptime24h,
  setTokenEfficiency,
  recordModelInference,
  recordTimeToFirstToken,
} from './model-helpers.js';
export {
  incrementCostByProvider,
  recordTokensUsed,
  recordTokenUsage,
  recordCreditsUsed,
  setTrialActiveCount,
  setActiveApiKeys,
  setSubscriptionCount,
} from './business-helpers.js';
export {
  recordHttpRequest,
  trackHttpRequestInProgress,
  recordDatabaseQuery,
  recordCacheHit,
  recordCacheMiss,
} from './server-helpers.js';
