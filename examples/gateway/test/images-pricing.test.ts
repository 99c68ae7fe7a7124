import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeysConfig } from '../src/api-keys/api-keys-file.js';
import { IMAGE_OUTPUT_TOKENS_BOUND } from '../src/api-keys/image-cost.js';
import { parseProviders, type ProviderConfig } from '../src/config.js';
import { imagePriceOf } from '../src/provider-pricing.js';
import { sampleSum } from './harness.js';
import { startScriptedGateway, type ScriptedGateway } from './scripted-upstream.js';

/*
 * What `/v1/images/generations` costs and holds: the price per image selected by the request's size
 * and quality, or the tokens of the answer's `usage` for a model priced by tokens. Through the
 * official `openai` SDK against a scripted upstream, read from `/metrics` and the key's budget.
 */

const PATH = '/v1/images/generations';

/** DALL·E 3 as OpenAI prices it. */
const DALL_E_3 = {
  '1024x1024': { standard: 0.04, hd: 0.08 },
  '1792x1024': { standard: 0.08, hd: 0.12 },
  '1024x1792': { standard: 0.08, hd: 0.12 },
};

/** GPT Image 1's per-image prices (an answer without usage), beside its token prices. */
const GPT_IMAGE_1 = {
  '1024x1024': { low: 0.011, medium: 0.042, high: 0.167 },
  '1024x1536': { low: 0.016, medium: 0.063, high: 0.25 },
  '1536x1024': { low: 0.016, medium: 0.063, high: 0.25 },
};

/** The usage OpenAI reports for one high-quality 1024x1024 GPT Image 1 image. */
const HIGH_1024_USAGE = {
  total_tokens: 4210,
  input_tokens: 50,
  output_tokens: 4160,
  input_tokens_details: { text_tokens: 50, image_tokens: 0 },
};

/** `provider`, as a providers file gives it: parsed, so its prices are checked as at start-up. */
function fromProvidersFile(pricing: Record<string, unknown>): Omit<ProviderConfig, 'baseUrl'> {
  const [parsed] = parseProviders(
    JSON.stringify([
      { name: 'openai', baseUrl: 'http://127.0.0.1:9/v1', models: [], imageModels: Object.keys(pricing), pricing },
    ]),
    'providers.json',
    {},
  );
  const { baseUrl: _baseUrl, ...provider } = parsed as ProviderConfig;
  return provider;
}

const keys = (budgets: Record<string, number>): ApiKeysConfig => ({
  keys: Object.entries(budgets).map(([name, budgetUsd]) => ({ name, key: `gwz-${name}-key`, plan: 'paid', budgetUsd })),
  required: true,
});

function imagesAnswer(count: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { created: 1_700_000_000, data: Array.from({ length: count }, () => ({ b64_json: 'aW1hZ2U=' })), ...extra };
}

async function startImagesGateway(
  pricing: Record<string, unknown>,
  budgets: Record<string, number>,
): Promise<{ gw: ScriptedGateway; client(name: string): OpenAI }> {
  const gw = await startScriptedGateway(fromProvidersFile(pricing), [], { apiKeys: keys(budgets) });
  return {
    gw,
    client: (name) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: `gwz-${name}-key`, maxRetries: 0 }),
  };
}

/** The metrics `gw` exports for key `name`, and the provider's cost. */
async function spendOf(gw: ScriptedGateway, name: string): Promise<{ cost: number; remaining: number }> {
  const text = await gw.scrape();
  return {
    cost: sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: name }),
    remaining: sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: name }),
  };
}

/** The hold a 429 `insufficient_quota` names (`may cost up to X USD`). */
async function refusedHold(request: Promise<unknown>): Promise<number> {
  const error = await request.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(OpenAI.RateLimitError);
  const refusal = error as InstanceType<typeof OpenAI.RateLimitError>;
  expect(refusal.code).toBe('insufficient_quota');
  const held = /may cost up to (\S+) USD/.exec(refusal.message);
  expect(held, refusal.message).not.toBeNull();
  return Number(held?.[1]);
}

describe('a model priced by tokens and per image, as the providers file of the review gave it', () => {
  let gw: ScriptedGateway;
  let client: (name: string) => OpenAI;

  beforeAll(async () => {
    ({ gw, client } = await startImagesGateway(
      { 'gpt-image-1': { perImage: 0.011, inputPerMillionTokens: 5, outputPerMillionTokens: 40 } },
      { tokens: 1, small: 0.2 },
    ));
  });
  afterAll(async () => gw?.close());

  it("costs the tokens of the answer's usage, recorded as tokens too", async () => {
    gw.upstream.scriptJson(PATH, imagesAnswer(1, { usage: HIGH_1024_USAGE }));
    const providerBefore = sampleSum(await gw.scrape(), 'gatewayz_cost_by_provider_total', { provider: 'openai' });
    const answer = await client('tokens').images.generate({
      model: 'gpt-image-1',
      prompt: 'a lighthouse at dusk',
      quality: 'high',
    });
    expect(answer.data).toHaveLength(1);
    const text = await gw.scrape();
    // 50 input tokens at 5 USD and 4,160 output tokens at 40 USD per million; before: 0.011, one image.
    const cost = (50 * 5 + 4160 * 40) / 1e6;
    expect(sampleSum(text, 'gatewayz_cost_by_api_key_total', { api_key_name: 'tokens' })).toBeCloseTo(cost, 15);
    expect(sampleSum(text, 'gatewayz_cost_by_provider_total', { provider: 'openai' }) - providerBefore).toBeCloseTo(
      cost,
      15,
    );
    expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'tokens' })).toBeCloseTo(
      1 - cost,
      15,
    );
    const tokens = { provider: 'openai', model: 'gpt-image-1' };
    expect(sampleSum(text, 'tokens_used_total', { ...tokens, token_type: 'input' })).toBe(50);
    expect(sampleSum(text, 'tokens_used_total', { ...tokens, token_type: 'output' })).toBe(4160);
    expect(sampleSum(text, 'gatewayz_tokens_by_api_key_total', { api_key_name: 'tokens', token_type: 'output' })).toBe(
      4160,
    );
  });

  it('holds n images of output tokens at most, so a key that cannot pay for them is refused', async () => {
    gw.upstream.scriptJson(PATH, imagesAnswer(1, { usage: HIGH_1024_USAGE }));
    const body = { model: 'gpt-image-1', prompt: 'a lighthouse at dusk' };
    // The request's bytes bound its input tokens; each image at most IMAGE_OUTPUT_TOKENS_BOUND output tokens.
    const hold = (Buffer.byteLength(JSON.stringify(body)) * 5 + IMAGE_OUTPUT_TOKENS_BOUND * 40) / 1e6;
    // Before: held for one image at 0.011 USD, and served.
    expect(await refusedHold(client('small').images.generate(body))).toBe(Number(hold.toPrecision(6)));
    expect((await spendOf(gw, 'small')).cost).toBe(0);
  });
});

describe('per-image prices by size and quality (a "perImage" table in the providers file)', () => {
  let gw: ScriptedGateway;
  let client: (name: string) => OpenAI;

  beforeAll(async () => {
    ({ gw, client } = await startImagesGateway(
      {
        'dall-e-3': { perImage: DALL_E_3 },
        'gpt-image-1': { perImage: GPT_IMAGE_1, inputPerMillionTokens: 5, outputPerMillionTokens: 40 },
        'gpt-image-table': { perImage: GPT_IMAGE_1 },
      },
      { dalle: 1, small: 0.1, unlisted: 1, answered: 1, tokens: 1, auto: 0.2 },
    ));
  });
  afterAll(async () => gw?.close());

  it('charges DALL·E 3 the price of the size and quality asked for, OpenAI defaults when absent', async () => {
    const openai = client('dalle');
    gw.upstream.scriptJson(PATH, imagesAnswer(1));
    await openai.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse', size: '1024x1792', quality: 'hd' });
    // Sent upstream as asked.
    expect(gw.upstream.lastBody(PATH)).toMatchObject({ size: '1024x1792', quality: 'hd' });
    // Before: one flat price per image whatever the size and quality.
    expect((await spendOf(gw, 'dalle')).cost).toBe(0.12);
    await openai.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse' });
    expect((await spendOf(gw, 'dalle')).cost).toBeCloseTo(0.12 + 0.04, 15);
    gw.upstream.scriptJson(PATH, imagesAnswer(2));
    await openai.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse', n: 2, size: '1792x1024' });
    const spend = await spendOf(gw, 'dalle');
    expect(spend.cost).toBeCloseTo(0.12 + 0.04 + 2 * 0.08, 15);
    expect(spend.remaining).toBeCloseTo(1 - spend.cost, 15);
  });

  it('holds the price the request selects: refused when it does not fit, served when it does', async () => {
    const openai = client('small');
    gw.upstream.scriptJson(PATH, imagesAnswer(1));
    const hd1792 = { model: 'dall-e-3', prompt: 'a lighthouse', size: '1024x1792', quality: 'hd' } as const;
    expect(await refusedHold(openai.images.generate(hd1792))).toBe(0.12);
    await openai.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse', quality: 'hd' });
    expect(await spendOf(gw, 'small')).toEqual({ cost: 0.08, remaining: expect.closeTo(0.02, 15) as number });
    expect(await refusedHold(openai.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse' }))).toBe(0.04);
  });

  it('prices a size or quality the table does not list at its dearest price, held and charged', async () => {
    gw.upstream.scriptJson(PATH, imagesAnswer(1));
    await client('unlisted').images.generate({ model: 'dall-e-3', prompt: 'a lighthouse', size: '512x512' });
    expect((await spendOf(gw, 'unlisted')).cost).toBe(0.12);
  });

  it('charges an answer without usage by the size and quality it reports making', async () => {
    gw.upstream.scriptJson(PATH, imagesAnswer(1, { size: '1536x1024', quality: 'medium' }));
    await client('answered').images.generate({ model: 'gpt-image-1', prompt: 'a lighthouse', size: 'auto' });
    expect((await spendOf(gw, 'answered')).cost).toBe(0.063);
  });

  it('holds a GPT image request that leaves its size to the model at the dearest size it may make', async () => {
    const openai = client('auto');
    // Left out, the size is auto: the model may make 1536x1024 at high, 0.25, more than the key has.
    gw.upstream.scriptJson(PATH, imagesAnswer(1, { size: '1536x1024', quality: 'high' }));
    expect(await refusedHold(openai.images.generate({ model: 'gpt-image-table', prompt: 'a lighthouse' }))).toBe(0.25);
    gw.upstream.scriptJson(PATH, imagesAnswer(1, { size: '1024x1024', quality: 'high' }));
    await openai.images.generate({ model: 'gpt-image-table', prompt: 'a lighthouse', size: '1024x1024' });
    expect((await spendOf(gw, 'auto')).cost).toBe(0.167);
  });

  it("charges an answer with usage its tokens, not the table's price", async () => {
    gw.upstream.scriptJson(PATH, imagesAnswer(1, { usage: HIGH_1024_USAGE, size: '1024x1024', quality: 'high' }));
    await client('tokens').images.generate({ model: 'gpt-image-1', prompt: 'a lighthouse', quality: 'high' });
    expect((await spendOf(gw, 'tokens')).cost).toBeCloseTo((50 * 5 + 4160 * 40) / 1e6, 15);
  });
});

describe('imagePriceOf', () => {
  it("reads the model's defaults for what the request leaves out: auto when listed or a GPT image table, else 1024x1024 and standard", () => {
    expect(imagePriceOf(DALL_E_3, {})).toBe(0.04);
    expect(imagePriceOf(DALL_E_3, { size: '1792x1024' })).toBe(0.08);
    expect(imagePriceOf({ auto: 0.3, '1024x1024': 0.1 }, {})).toBe(0.3);
    expect(imagePriceOf({ '1024x1024': { auto: 0.2, low: 0.01 } }, {})).toBe(0.2);
    // GPT Image 1 picks the size and quality itself (auto): it may make 1536x1024 at high.
    expect(imagePriceOf(GPT_IMAGE_1, {})).toBe(0.25);
    expect(imagePriceOf(GPT_IMAGE_1, { size: '1024x1024' })).toBe(0.167);
    expect(imagePriceOf(GPT_IMAGE_1, { size: '1536x1024', quality: 'low' })).toBe(0.016);
  });

  it('takes "default" for what is not listed, else the dearest price listed', () => {
    expect(imagePriceOf({ '1024x1024': 0.02, default: 0.05 }, { size: '256x256' })).toBe(0.05);
    expect(imagePriceOf({ '1024x1024': { standard: 0.04, default: 0.06 } }, { quality: 'ultra' })).toBe(0.06);
    expect(imagePriceOf(DALL_E_3, { size: '4096x4096' })).toBe(0.12);
    expect(imagePriceOf(DALL_E_3, { size: '1024x1024', quality: 'ultra' })).toBe(0.08);
  });
});

describe('a "perImage" table is checked at start-up', () => {
  const parse = (perImage: unknown) => () => fromProvidersFile({ 'dall-e-3': { perImage } });

  it('takes one price, or prices by size and by quality', () => {
    expect(parse(0.04)().pricing?.['dall-e-3']).toEqual({ perImage: 0.04 });
    const provider = parse({ ...DALL_E_3, default: 0.2 })();
    expect(provider.imagePrices?.['dall-e-3']).toEqual({ ...DALL_E_3, default: 0.2 });
    // Its images reach the pricing table as their price in USD, at 1 USD each.
    expect(provider.pricing?.['dall-e-3']).toEqual({ perImage: 1 });
  });

  it('refuses a misspelt size or quality, a price that is not USD ≥ 0, and an empty table, naming them', () => {
    const at = 'providers.json, provider 0 (openai): "pricing" of "dall-e-3": "perImage"';
    expect(parse({ '1024X1024': 0.04 })).toThrow(
      `${at}: "1024X1024" is not a size: expected one such as "1024x1024" (width x height), "auto", or "default" for any size not listed`,
    );
    expect(parse({ '1024x1024': { HD: 0.08 } })).toThrow(
      `${at} of "1024x1024": unknown quality "HD" (known: standard, hd, low, medium, high, auto, or "default" for any quality not listed)`,
    );
    expect(parse({ '1024x1024': { hd: -1 } })).toThrow(
      `${at} of "1024x1024", "hd" must be a number of USD ≥ 0, got -1`,
    );
    expect(parse({ '1024x1024': '0.04' })).toThrow(`${at} of "1024x1024" must be a number of USD ≥ 0, got "0.04"`);
    expect(parse({})).toThrow(`${at} lists no size`);
    expect(parse({ '1024x1024': {} })).toThrow(`${at} of "1024x1024" lists no quality`);
    expect(parse('0.04')).toThrow(`${at} must be a number of USD ≥ 0, or prices by size and quality such as`);
    // The example the message quotes can be pasted into the providers file as it is.
    const message = (() => {
      try {
        parse('0.04')();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    const example = /such as (\{.*\}), got/.exec(message)?.[1];
    expect(example).toBeDefined();
    expect(parse(JSON.parse(example as string) as Record<string, unknown>)).not.toThrow();
  });
});
