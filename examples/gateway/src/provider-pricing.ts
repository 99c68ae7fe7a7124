import type { ModelPrice } from '@gatewayz/telemetry/genai';
import type { ProviderConfig } from './config.js';
import { GatewayConfigError } from './config-error.js';
import type { ImageOptions } from './protocol/images.js';
import { isObject } from './protocol/json.js';
import type { Operation } from './request/attempt.js';

/** The fields of a `ModelPrice`: a `Record` over its keys, so a field added to the type must be added here. */
const MODEL_PRICE_FIELDS: Readonly<Record<keyof ModelPrice, true>> = {
  inputPerMillionTokens: true,
  cachedInputPerMillionTokens: true,
  cacheWritePerMillionTokens: true,
  cacheWrite1hPerMillionTokens: true,
  audioInputPerMillionTokens: true,
  outputPerMillionTokens: true,
  audioOutputPerMillionTokens: true,
  perImage: true,
  perRequest: true,
};

/**
 * The fields a model's price must give for each operation it is served for, so that what a request
 * costs, and is held for against a budget, is a price someone wrote down: a field left out counts as
 * 0 (`PricingTable`), and a model whose output or images cost 0 by omission would let a budgeted
 * key spend without limit. An explicit 0 is a price (a free self-hosted model). The prices of a
 * kind of token (cache reads and writes, one-hour cache writes, audio) default to the price it
 * would otherwise be billed at, and a per-request price adds to these, so none of them is required.
 * An image model priced by tokens needs its `perImage` too: it prices an answer without usage.
 */
export const REQUIRED_PRICE_FIELDS: Readonly<Record<Operation, readonly (keyof ModelPrice)[]>> = {
  chat: ['inputPerMillionTokens', 'outputPerMillionTokens'],
  embeddings: ['inputPerMillionTokens'],
  image_generation: ['perImage'],
};

const EXAMPLE = '{ "gpt-4o": { "inputPerMillionTokens": 2.5, "outputPerMillionTokens": 10 } }';

/**
 * Per-image prices of a model by the request's `size` (`"1024x1024"`, `"auto"`, or `"default"` for
 * any size not listed), each one price or prices by `quality` (`"standard"`, `"hd"`, `"low"`,
 * `"medium"`, `"high"`, `"auto"`, or `"default"` for any quality not listed), in USD.
 *
 * @example
 * ```ts
 * const dallE3: ImagePriceTable = {
 *   '1024x1024': { standard: 0.04, hd: 0.08 },
 *   '1792x1024': { standard: 0.08, hd: 0.12 },
 *   '1024x1792': { standard: 0.08, hd: 0.12 },
 * };
 * ```
 */
export type ImagePriceTable = Readonly<Record<string, number | Readonly<Record<string, number>>>>;

/** A provider's `pricing`, checked: prices for the pricing table, and the image models priced by size and quality. */
export interface ProviderPricing {
  /**
   * The `ModelPrice` of each model. A model whose `perImage` is an `ImagePriceTable` has
   * `perImage: 1` here: its images are given to the pricing table as their price in USD (see
   * `pricedImages`), since the table has one price per image and no request to select one by.
   */
  pricing: Record<string, ModelPrice>;
  /** The models whose `perImage` is an `ImagePriceTable`, and their table. */
  imagePrices: Record<string, ImagePriceTable>;
}

/** Image sizes as OpenAI writes them: width x height in pixels. */
const IMAGE_SIZE = /^\d+x\d+$/;

/** The qualities OpenAI's image models take (DALL·E 3: standard, hd; GPT image models: low to high, auto). */
const IMAGE_QUALITIES: ReadonlySet<string> = new Set(['standard', 'hd', 'low', 'medium', 'high', 'auto']);

/** The key of a table's price for any size, or any quality, it does not list. */
const ANY = 'default';

const IMAGE_TABLE_EXAMPLE =
  '{ "1024x1024": { "standard": 0.04, "hd": 0.08 }, "1792x1024": { "standard": 0.08, "hd": 0.12 } }';

/**
 * The `pricing` of a providers file entry, checked: an object keyed by models the provider serves
 * (`served`: its `models`, `imageModels` and `embeddingModels`), each an object of known
 * `ModelPrice` fields holding a number of USD ≥ 0, or for `perImage` an `ImagePriceTable`. A
 * misspelt field (`inputPerMilionTokens`), model (`gpt4o` for `gpt-4o`), size (`1024X1024`) or
 * quality (`HD`) would otherwise leave the model priced at 0, unpriced or priced at its dearest
 * image without a word. Throws a `GatewayConfigError` prefixed with `where` (the file and the
 * provider) naming the model and the field.
 *
 * @example
 * ```ts
 * parseProviderPricing({ 'gpt-4o': { inputPerMillionTokens: 2.5 } }, new Set(['gpt-4o']), 'providers.json, provider 0 (openai)');
 * ```
 */
export function parseProviderPricing(pricing: unknown, served: ReadonlySet<string>, where: string): ProviderPricing {
  const checked: ProviderPricing = { pricing: {}, imagePrices: {} };
  if (pricing === undefined) return checked;
  if (!isObject(pricing)) {
    throw new GatewayConfigError(`${where}: "pricing" must be an object of prices by model, such as ${EXAMPLE}`);
  }
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
      if (field === 'perImage' && typeof value !== 'number') {
        if (!isObject(value)) {
          throw new GatewayConfigError(
            `${at}: "perImage" must be a number of USD ≥ 0, or prices by size and quality such as ${IMAGE_TABLE_EXAMPLE}, got ${JSON.stringify(value)}`,
          );
        }
        checked.imagePrices[model] = imagePriceTable(value, `${at}: "perImage"`);
        fields.perImage = 1;
        continue;
      }
      fields[field as keyof ModelPrice] = usd(value, `${at}: "${field}"`);
    }
    checked.pricing[model] = fields;
  }
  return checked;
}

/** `value` when it is a number of USD ≥ 0; otherwise a `GatewayConfigError` naming `what`. */
function usd(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new GatewayConfigError(
      `${what} must be a number of USD ≥ 0, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A `perImage` given as prices by size and quality (`at` names it in errors), checked. */
function imagePriceTable(table: Record<string, unknown>, at: string): ImagePriceTable {
  const sizes = Object.entries(table);
  if (sizes.length === 0) {
    throw new GatewayConfigError(
      `${at} lists no size: give one price, or prices by size such as ${IMAGE_TABLE_EXAMPLE}`,
    );
  }
  const checked: Record<string, number | Record<string, number>> = {};
  for (const [size, price] of sizes) {
    if (!IMAGE_SIZE.test(size) && size !== 'auto' && size !== ANY) {
      throw new GatewayConfigError(
        `${at}: "${size}" is not a size: expected one such as "1024x1024" (width x height), "auto", or "${ANY}" for any size not listed`,
      );
    }
    if (!isObject(price)) {
      checked[size] = usd(price, `${at} of "${size}"`);
      continue;
    }
    const qualities = Object.entries(price);
    if (qualities.length === 0) {
      throw new GatewayConfigError(`${at} of "${size}" lists no quality: give one price, or prices by quality`);
    }
    const byQuality: Record<string, number> = {};
    for (const [quality, value] of qualities) {
      if (!IMAGE_QUALITIES.has(quality) && quality !== ANY) {
        throw new GatewayConfigError(
          `${at} of "${size}": unknown quality "${quality}" (known: ${[...IMAGE_QUALITIES].join(', ')}, or "${ANY}" for any quality not listed)`,
        );
      }
      byQuality[quality] = usd(value, `${at} of "${size}", "${quality}"`);
    }
    checked[size] = byQuality;
  }
  return checked;
}

/** The qualities only GPT image models take: a table that prices one is a GPT image model's. */
const GPT_IMAGE_QUALITIES: ReadonlySet<string> = new Set(['low', 'medium', 'high', 'auto']);

/**
 * The price of one image of `options`' size and quality in `table`. A size or quality left out is
 * `auto` when the table lists it, else the model's default: for DALL·E (a table without GPT image
 * qualities) `1024x1024` and `standard`; for a GPT image model (a table pricing `low`, `medium`,
 * `high` or `auto`) `auto`, which may make any size at any quality, so it reads as one the table
 * does not list. One the table does not list takes its `default` price, else the dearest price listed (under
 * that size, for a quality), so what is held against a budget stays a bound of what the provider
 * may bill.
 *
 * @example
 * ```ts
 * imagePriceOf({ '1024x1024': { standard: 0.04, hd: 0.08 }, '1792x1024': { standard: 0.08, hd: 0.12 } }, { quality: 'hd' }); // 0.08
 * imagePriceOf({ '1024x1024': { standard: 0.04, hd: 0.08 } }, { size: '512x512' }); // 0.08, the dearest
 * imagePriceOf({ '1024x1024': { high: 0.167 }, '1536x1024': { high: 0.25 } }, {}); // 0.25: auto may make either
 * ```
 */
export function imagePriceOf(table: ImagePriceTable, options: ImageOptions): number {
  const gptImage = pricesQualities(table, GPT_IMAGE_QUALITIES);
  const bySize = listed(table, options.size, gptImage || Object.hasOwn(table, 'auto') ? 'auto' : '1024x1024');
  if (bySize === undefined) return dearest(table);
  if (typeof bySize === 'number') return bySize;
  const quality = listed(bySize, options.quality, gptImage || Object.hasOwn(bySize, 'auto') ? 'auto' : 'standard');
  return quality ?? dearest(bySize);
}

/** `table`'s entry for `key` (`absent` when it is undefined), else its `default` entry. */
function listed<T>(table: Readonly<Record<string, T>>, key: string | undefined, absent: string): T | undefined {
  const wanted = key ?? absent;
  if (Object.hasOwn(table, wanted)) return table[wanted];
  return Object.hasOwn(table, ANY) ? table[ANY] : undefined;
}

/** Whether `table` prices any of `qualities` (under any size). */
function pricesQualities(table: ImagePriceTable, qualities: ReadonlySet<string>): boolean {
  return Object.values(table).some(
    (byQuality) => typeof byQuality !== 'number' && Object.keys(byQuality).some((quality) => qualities.has(quality)),
  );
}

/** The dearest price anywhere in `table`. */
function dearest(table: ImagePriceTable | Readonly<Record<string, number>>): number {
  let most = 0;
  for (const price of Object.values(table)) most = Math.max(most, typeof price === 'number' ? price : dearest(price));
  return most;
}

/**
 * What `count` images of `model` made by `provider` are given to the pricing table as
 * (`UsageForPricing.images`): `count`, priced there at the model's one `perImage`; for a model
 * whose `perImage` is an `ImagePriceTable`, their price in USD, selected by `options` (see
 * `imagePriceOf`), which the table prices at 1 USD (see `ProviderPricing.pricing`).
 */
export function pricedImages(provider: ProviderConfig, model: string, count: number, options: ImageOptions): number {
  const table = provider.imagePrices?.[model];
  return table === undefined ? count : count * imagePriceOf(table, options);
}

/**
 * Whether `provider` prices `model` by tokens (an input or output price): an image answer that
 * reports its token `usage` then costs those tokens, not a price per image.
 */
export function pricedByTokens(provider: ProviderConfig, model: string): boolean {
  const price = provider.pricing?.[model];
  return price?.inputPerMillionTokens !== undefined || price?.outputPerMillionTokens !== undefined;
}

/** Whether `baseUrl` is OpenRouter's API, which reports every answer's cost in its usage (`reportsCost`). */
export function isOpenRouter(baseUrl: string): boolean {
  return URL.canParse(baseUrl) && new URL(baseUrl).hostname === 'openrouter.ai';
}
