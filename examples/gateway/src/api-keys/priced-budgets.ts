import type { ProviderConfig } from '../config.js';
import { GatewayConfigError } from '../config-error.js';
import { REQUIRED_PRICE_FIELDS } from '../provider-pricing.js';
import type { Operation } from '../request/attempt.js';
import { modelsServed } from '../request/provider-chain.js';
import type { ApiKeysConfig } from './api-keys-file.js';

const OPERATION_NAMES: Readonly<Record<Operation, string>> = {
  chat: 'chat',
  embeddings: 'embeddings',
  image_generation: 'images',
};

/** Where the providers came from, which says how a price is added. */
export type ProvidersSource = 'GATEWAY_PROVIDERS_FILE' | 'UPSTREAM_BASE_URL';

/**
 * Refuse to start when a key of `GATEWAY_API_KEYS_FILE` has a budget and a model the gateway serves
 * has no price for an operation it is served for (see `REQUIRED_PRICE_FIELDS`). A request to such
 * a model is held for nothing and charged nothing (`PricingTable.cost` has no price for it, or
 * prices the missing field at 0), so the key would spend without limit while its budget said
 * otherwise. The demo's keys (no keys file) are left out: keys are optional then, and a request
 * without one is served without any budget.
 *
 * @throws GatewayConfigError naming every provider and model without a price, and what to add.
 * @example
 * ```ts
 * checkBudgetsPriced(providers, loadApiKeys(env), 'GATEWAY_PROVIDERS_FILE');
 * ```
 */
export function checkBudgetsPriced(
  providers: readonly ProviderConfig[],
  apiKeys: ApiKeysConfig,
  source: ProvidersSource,
): void {
  if (!apiKeys.required) return;
  const budgeted = apiKeys.keys.filter((entry) => entry.budgetUsd !== undefined).map((entry) => entry.name);
  if (budgeted.length === 0) return;
  const keys =
    budgeted.length > 3
      ? `${budgeted.slice(0, 3).join(', ')} and ${budgeted.length - 3} more keys`
      : budgeted.join(', ');
  const unpriced: string[] = [];
  for (const provider of providers) {
    for (const operation of Object.keys(REQUIRED_PRICE_FIELDS) as Operation[]) {
      for (const model of modelsServed(provider, operation)) {
        const price = provider.pricing?.[model];
        const missing = REQUIRED_PRICE_FIELDS[operation].filter((field) => price?.[field] === undefined);
        if (price === undefined) unpriced.push(`${provider.name}/${model} (no price)`);
        else if (missing.length > 0)
          unpriced.push(`${provider.name}/${model} (no ${missing.join(' or ')} for ${OPERATION_NAMES[operation]})`);
      }
    }
  }
  if (unpriced.length === 0) return;
  const fix =
    source === 'UPSTREAM_BASE_URL'
      ? 'UPSTREAM_BASE_URL and UPSTREAM_MODELS cannot carry prices: describe the provider in a GATEWAY_PROVIDERS_FILE instead (and unset UPSTREAM_*), with a "pricing" entry for each model'
      : 'Add each model to its provider\'s "pricing" in GATEWAY_PROVIDERS_FILE';
  throw new GatewayConfigError(
    `GATEWAY_API_KEYS_FILE gives ${keys} a budget (budget_usd), but these models have no price, so their requests would cost those keys nothing and no budget would stop them: ${[...new Set(unpriced)].join(', ')}. ${fix}, e.g. "pricing": { "gpt-4o": { "inputPerMillionTokens": 2.5, "outputPerMillionTokens": 10 } } (images: "perImage", one price or prices by size and quality such as { "1024x1024": { "standard": 0.04, "hd": 0.08 } }, also for a model priced by tokens, for an answer without usage; embeddings: "inputPerMillionTokens"; 0 for a model that costs nothing, such as a self-hosted one); or remove budget_usd from the keys.`,
  );
}
