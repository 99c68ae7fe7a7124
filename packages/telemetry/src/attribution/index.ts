/**
 * Per-API-key attribution: requests, tokens and cost by the name of the gateway API key a request
 * came with, and key budgets. `attribution-metrics.ts` holds the typed helpers `GatewayTelemetry`
 * carries; `attribution-helpers.ts` the same helpers on the shared instance.
 *
 * @example
 * ```ts
 * import { recordAttributedCost, recordApiKeyRequest } from '@gatewayz/telemetry';
 * ```
 */
export {
  recordApiKeyAttemptWithoutUsage,
  recordApiKeyEstimatedSpend,
  recordApiKeyRequest,
  recordApiKeyTokens,
  recordAttributedCost,
  setApiKeyBudget,
} from './attribution-helpers.js';
