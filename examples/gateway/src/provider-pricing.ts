import type { ModelPrice } from '@gatewayz/telemetry/genai';
import { GatewayConfigError } from './config-error.js';
import { isObject } from './protocol/json.js';
import type { Operation } from './request/attempt.js';

/** The fields of a `ModelPrice`: a `Record` over its keys, so a field added to the type must be added here. */
const MODEL_PRICE_FIELDS: Readonly<Record<keyof ModelPrice, true>> = {
  inputPerMillionTokens: true,
  cachedInputPerMillionTokens: true,
  cacheWritePerMillionTokens: true,
  outputPerMillionTokens: true,
  perImage: true,
  perRequest: true,
};

/**
 * The fields a model's price must give for each operation it is served for, so that what a request
 * costs, and is held for against a budget, is a price someone wrote down: a field left out counts as
 * 0 (`PricingTable`), and a model whose output or images cost 0 by omission would let a budgeted
 * key spend without limit. An explicit 0 is a price (a free self-hosted model). The cache prices
 * default to the input price, and a per-request price adds to these, so neither is required.
 */
export const REQUIRED_PRICE_FIELDS: Readonly<Record<Operation, readonly (keyof ModelPrice)[]>> = {
  chat: ['inputPerMillionTokens', 'outputPerMillionTokens'],
  embeddings: ['inputPerMillionTokens'],
  image_generation: ['perImage'],
};

const EXAMPLE = '{ "gpt-4o": { "inputPerMillionTokens": 2.5, "outputPerMillionTokens": 10 } }';

/**
 * The `pricing` of a providers file entry, checked: an object keyed by models the provider serves
 * (`served`: its `models`, `imageModels` and `embeddingModels`), each an object of known
 * `ModelPrice` fields holding a number of USD ≥ 0. A misspelt field (`inputPerMilionTokens`) or
 * model (`gpt4o` for `gpt-4o`) would otherwise leave the model priced at 0 or unpriced without a
 * word. Throws a `GatewayConfigError` prefixed with `where` (the file and the provider) naming the
 * model and the field.
 *
 * @example
 * ```ts
 * parseProviderPricing({ 'gpt-4o': { inputPerMillionTokens: 2.5 } }, new Set(['gpt-4o']), 'providers.json, provider 0 (openai)');
 * ```
 */
export function parseProviderPricing(
  pricing: unknown,
  served: ReadonlySet<string>,
  where: string,
): Record<string, ModelPrice> {
  if (pricing === undefined) return {};
  if (!isObject(pricing)) {
    throw new GatewayConfigError(`${where}: "pricing" must be an object of prices by model, such as ${EXAMPLE}`);
  }
  const checked: Record<string, ModelPrice> = {};
  for (const [model, price] of Object.entries(pricing)) {
    if (!served.has(model)) {
      throw new GatewayConfigError(
        `${where}: "pricing" names the model "${model}", which the provider does not serve (its models: ${[...served].join(', ') || 'none'}); correct the name, or list the model in "models", "imageModels" or "embeddingModels"`,
      );
    }
    const at = `${where}: "pricing" of "${model}"`;
    if (!isObject(price)) {
      throw new GatewayConfigError(
        `${at} must be an object of USD prices such as { "inputPerMillionTokens": 2.5, "outputPerMillionTokens": 10 }`,
      );
    }
    const fields: ModelPrice = {};
    for (const [field, value] of Object.entries(price)) {
      if (!Object.hasOwn(MODEL_PRICE_FIELDS, field)) {
        throw new GatewayConfigError(
          `${at}: unknown field "${field}" (known: ${Object.keys(MODEL_PRICE_FIELDS).join(', ')})`,
        );
      }
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new GatewayConfigError(
          `${at}: "${field}" must be a number of USD ≥ 0, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
        );
      }
      fields[field as keyof ModelPrice] = value;
    }
    checked[model] = fields;
  }
  return checked;
}
