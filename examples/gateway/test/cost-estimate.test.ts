import { GatewayTelemetry } from '@gatewayz/telemetry';
import { PricingTable } from '@gatewayz/telemetry/genai';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiKeyAccount } from '../src/api-keys/api-key-registry.js';
import { CostEstimator, MEDIA_PART_TOKENS, promptTokens } from '../src/api-keys/cost-estimate.js';
import type { ProviderConfig } from '../src/config.js';

const PROVIDERS: ProviderConfig[] = [
  {
    name: 'cheap',
    baseUrl: 'http://127.0.0.1:1/v1',
    models: ['chat-model'],
    imageModels: ['image-model'],
    embeddingModels: ['embed-model'],
  },
  { name: 'dear', baseUrl: 'http://127.0.0.1:2/v1', models: ['chat-model'], imageModels: ['image-model'] },
];
const PRICING = new PricingTable({
  cheap: {
    'chat-model': { inputPerMillionTokens: 1, outputPerMillionTokens: 4 },
    'image-model': { perImage: 0.04 },
    'embed-model': { inputPerMillionTokens: 0.02 },
  },
  // Dearer output, and a cache-write price above its input price (Anthropic's 1.25×).
  dear: {
    'chat-model': { inputPerMillionTokens: 0.8, cacheWritePerMillionTokens: 2, outputPerMillionTokens: 5 },
    'image-model': { perImage: 0.03 },
  },
});

describe('CostEstimator', () => {
  const costs = new CostEstimator(PROVIDERS, PRICING, 1000);

  it('holds an image request for exactly what the provider then charges: n × the price per image', () => {
    for (let n = 1; n <= 10; n++) {
      expect(costs.images('image-model', n)).toBe(PRICING.cost({ provider: 'cheap', model: 'image-model', images: n }));
    }
    expect(costs.images('image-model', 3)).toBe(3 * 0.04);
    expect(costs.images('unpriced-model', 3)).toBe(0);
  });

  it('bounds embeddings input by UTF-8 bytes, token arrays by their length', () => {
    expect(costs.embeddings('embed-model', 'héllo')).toBe((6 * 0.02) / 1e6);
    expect(costs.embeddings('embed-model', ['ab', '€'])).toBe((5 * 0.02) / 1e6);
    expect(costs.embeddings('embed-model', [[1, 2, 3], [4]])).toBe((4 * 0.02) / 1e6);
    expect(costs.embeddings('embed-model', [1, 2, 3])).toBe((3 * 0.02) / 1e6);
  });

  it('holds chat for the prompt bound at the dearest input price and the output limit at the dearest output price', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    // 4 (array) + 4 (message) + role 4 + user 4 + content 7 + hi 2.
    expect(promptTokens(messages)).toBe(25);
    const input = (25 * 2) / 1e6; // dear's cache-write price is the dearest input price
    expect(costs.chat('chat-model', { messages, max_tokens: 100 })).toBeCloseTo(input + (100 * 5) / 1e6, 18);
    // Both limits set: the larger, whichever field it is in (the body goes upstream as it came, and
    // a provider may read either); n choices each up to the limit.
    expect(costs.chat('chat-model', { messages, max_tokens: 10, max_completion_tokens: 100, n: 3 })).toBeCloseTo(
      input + (300 * 5) / 1e6,
      18,
    );
    expect(costs.chat('chat-model', { messages, max_tokens: 100_000, max_completion_tokens: 1 })).toBeCloseTo(
      input + (100_000 * 5) / 1e6,
      18,
    );
    expect(costs.chat('chat-model', { messages, max_completion_tokens: 10 })).toBeCloseTo(input + (10 * 5) / 1e6, 18);
    // No limit: the configured hold (1000 output tokens here).
    expect(costs.chat('chat-model', { messages })).toBeCloseTo(input + (1000 * 5) / 1e6, 18);
    expect(new CostEstimator(PROVIDERS, PRICING, 0).chat('chat-model', { messages })).toBeCloseTo(input, 18);
    // Tool definitions are part of the prompt.
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    expect(costs.chat('chat-model', { messages, tools, max_tokens: 1 })).toBeGreaterThan(
      costs.chat('chat-model', { messages, max_tokens: 1 }),
    );
    expect(costs.chat('unknown-model', { messages })).toBe(0);
  });

  it('prices one attempt at its own provider (the hold is the dearest), with fewer output tokens when fewer were made', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const bound = costs.chatBound('chat-model', { messages, max_tokens: 100 });
    expect(bound).toEqual({ operation: 'chat', model: 'chat-model', inputTokens: 25, outputTokens: 100, images: 0 });
    const atCheap = (25 * 1 + 100 * 4) / 1e6;
    const atDear = (25 * 2 + 100 * 5) / 1e6;
    expect(costs.atProvider(bound, 'cheap')).toBeCloseTo(atCheap, 18);
    expect(costs.atProvider(bound, 'dear')).toBeCloseTo(atDear, 18);
    expect(costs.maximum(bound)).toBe(costs.atProvider(bound, 'dear'));
    expect(costs.maximum(bound)).toBe(costs.chat('chat-model', { messages, max_tokens: 100 }));
    // A stream left after 7 bytes of output: at most 7 output tokens.
    expect(costs.atProvider(bound, 'cheap', 7)).toBeCloseTo((25 * 1 + 7 * 4) / 1e6, 18);
    expect(costs.atProvider(costs.imagesBound('image-model', 2), 'dear')).toBeCloseTo(0.06, 18);
  });

  it('counts an image, audio or file part as MEDIA_PART_TOKENS, never its base64 data', () => {
    const image = { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(1_000_000)}` } };
    const text = { type: 'text', text: 'describe' };
    expect(promptTokens([{ role: 'user', content: [text, image] }])).toBe(
      4 + 4 + 4 + 4 + 7 + (4 + 4 + 4 + 4 + 4 + 8) + MEDIA_PART_TOKENS,
    );
    const audio = { type: 'input_audio', input_audio: { data: 'A'.repeat(100_000), format: 'wav' } };
    expect(promptTokens([{ role: 'user', content: [audio] }])).toBe(4 + 4 + 4 + 4 + 7 + 4 + MEDIA_PART_TOKENS);
  });

  it('takes only content parts for media: a message with a type or image_url of its own is counted whole', () => {
    const prompt = 'x'.repeat(1_000_000);
    const plain = promptTokens([{ role: 'user', content: prompt }]);
    expect(plain).toBeGreaterThan(1_000_000);
    // Extra fields on the message add their own bytes; they never turn the message into one image.
    for (const extra of [{ type: 'image' }, { type: 'x', image_url: 'u' }, { input_audio: {} }]) {
      expect(promptTokens([{ role: 'user', content: prompt, ...extra }]), JSON.stringify(extra)).toBeGreaterThan(plain);
    }
    // Tool definitions are not content either.
    const tool = { type: 'image', function: { name: 'f', description: prompt } };
    expect(promptTokens([tool])).toBeGreaterThan(1_000_000);
    // A content part is media by its type, also in a tool message's content.
    expect(promptTokens([{ role: 'tool', content: [{ type: 'image_url', image_url: { url: prompt } }] }])).toBeLessThan(
      MEDIA_PART_TOKENS + 100,
    );
  });

  it('refuses to hold for nothing: a bound the price table cannot price is Infinity, an unpriced model 0', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    // max_tokens × n past a double's range: the table refuses the count.
    expect(costs.chat('chat-model', { messages, max_tokens: 1e308, n: 2 })).toBe(Infinity);
    expect(costs.chat('chat-model', { messages, n: 1e306, max_tokens: 1e4 })).toBe(Infinity);
    const bound = costs.chatBound('chat-model', { messages, max_tokens: 1e308, n: 2 });
    expect(costs.atProvider(bound, 'cheap')).toBe(Infinity);
    // An Infinity hold does not fit any budget.
    const account = new ApiKeyAccount('k', 'paid', 0.01, new GatewayTelemetry({ exportVia: 'producer' }));
    expect(account.hold(costs.chat('chat-model', { messages, max_tokens: 1e308, n: 2 }))).toBeUndefined();
    expect(costs.chat('unknown-model', { messages, max_tokens: 1e308, n: 2 })).toBe(0);
  });

  it('is never below what the providers charge for usage within the bound (any split of cached input)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: 1, max: 4000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (content, limit, readShare, writeShare) => {
          const body = { messages: [{ role: 'user', content }], max_tokens: limit };
          const held = costs.chat('chat-model', body);
          // Real usage: at most as many input tokens as the bound, at most `limit` output tokens.
          const input = promptTokens(body.messages);
          const read = Math.floor(input * readShare);
          const write = Math.floor((input - read) * writeShare);
          for (const provider of ['cheap', 'dear']) {
            const charged = PRICING.cost({
              provider,
              model: 'chat-model',
              inputTokens: input,
              cacheReadInputTokens: read,
              cacheCreationInputTokens: write,
              outputTokens: limit,
            });
            expect(held).toBeGreaterThanOrEqual(charged as number);
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  describe('with one-hour cache-write and audio prices', () => {
    const provider = (name: string): ProviderConfig => ({
      name,
      baseUrl: 'http://127.0.0.1:1/v1',
      models: ['chat-model'],
    });
    // Anthropic's 1.25× and 2× cache writes; OpenAI's audio model, its audio 16× and 8× the text prices.
    const pricing = new PricingTable({
      claude: {
        'chat-model': {
          inputPerMillionTokens: 3,
          cacheWritePerMillionTokens: 3.75,
          cacheWrite1hPerMillionTokens: 6,
          outputPerMillionTokens: 15,
        },
      },
      audio: {
        'chat-model': {
          inputPerMillionTokens: 2.5,
          audioInputPerMillionTokens: 40,
          outputPerMillionTokens: 10,
          audioOutputPerMillionTokens: 80,
        },
      },
    });
    const costs = new CostEstimator([provider('claude'), provider('audio')], pricing, 1000);
    const bound = costs.chatBound('chat-model', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 });

    it('holds the input at the one-hour write price and audio input price, the output at the audio output price', () => {
      expect(costs.atProvider(bound, 'claude')).toBeCloseTo((25 * 6 + 100 * 15) / 1e6, 15);
      expect(costs.atProvider(bound, 'audio')).toBeCloseTo((25 * 40 + 100 * 80) / 1e6, 15);
      expect(costs.atProvider(bound, 'audio', 7)).toBeCloseTo((25 * 40 + 7 * 80) / 1e6, 15);
    });

    it('is never below what the providers charge for usage within the bound (any split into kinds of token)', () => {
      const share = fc.double({ min: 0, max: 1, noNaN: true });
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 4000 }),
          fc.integer({ min: 0, max: 4000 }),
          fc.tuple(share, share, share, share, share),
          (input, output, [readShare, writeShare, hourShare, audioShare, audioOutputShare]) => {
            const bounded = {
              operation: 'chat' as const,
              model: 'chat-model',
              inputTokens: input,
              outputTokens: output,
              images: 0,
            };
            const read = Math.floor(input * readShare);
            const write = Math.floor((input - read) * writeShare);
            const usage = {
              model: 'chat-model',
              inputTokens: input,
              cacheReadInputTokens: read,
              cacheCreationInputTokens: write,
              cacheCreation1hInputTokens: Math.floor(write * hourShare),
              audioInputTokens: Math.floor(input * audioShare),
              outputTokens: output,
              audioOutputTokens: Math.floor(output * audioOutputShare),
            };
            for (const name of ['claude', 'audio']) {
              const charged = pricing.cost({ provider: name, ...usage }) as number;
              expect(costs.atProvider(bounded, name)).toBeGreaterThanOrEqual(charged);
            }
          },
        ),
        { seed: 7, numRuns: 300 },
      );
    });
  });
});

describe('ApiKeyAccount holds', () => {
  const account = (budgetUsd: number | undefined): ApiKeyAccount =>
    new ApiKeyAccount('key', 'paid', budgetUsd, new GatewayTelemetry({ exportVia: 'producer' }));

  it('fits holds in the budget exactly: ten of 0.04 USD fill 0.4 USD, the eleventh does not fit', () => {
    const key = account(0.4);
    const holds = Array.from({ length: 10 }, () => key.hold(0.04));
    expect(holds.every((hold) => hold !== undefined)).toBe(true);
    expect(key.heldUsd).toBe(0.4);
    expect(key.hold(0.04)).toBeUndefined();
    const free = key.hold(0); // a free request fits a full budget
    expect(free).toBeDefined();
    free?.release();
    // Each charge replaces its hold: held + spent stays 0.4 throughout.
    for (const hold of holds) {
      hold!.charge(0.04);
      hold!.release();
    }
    expect(key.spentUsd).toBe(0.4);
    expect(key.heldUsd).toBe(0);
    expect(key.holdCount).toBe(0);
    expect(key.exhausted).toBe(true);
    expect(account(undefined).hold(1)).toBeUndefined(); // no budget, no hold needed
  });

  it('extends a hold only within the budget, and gives back what it holds in all, admissions included', () => {
    const key = account(0.1);
    const hold = key.hold(0.04)!;
    hold.charge(0.03); // a failed attempt that reported usage
    expect(hold.heldUsd).toBeCloseTo(0.01, 15);
    // Spent 0.03, held 0.01: 0.07 more fits exactly, 0.07 and a bit does not, and changes nothing.
    expect(hold.extend(0.0700001)).toBe(false);
    expect(key.heldUsd).toBeCloseTo(0.01, 15);
    expect(hold.extend(0.03)).toBe(true);
    expect(hold.heldUsd).toBeCloseTo(0.04, 15);
    expect(key.heldUsd).toBeCloseTo(0.04, 15);
    const released: string[] = [];
    hold.onRelease = () => released.push('first admission');
    hold.replaceAdmission(() => released.push('second admission'));
    expect(released).toEqual(['first admission']);
    hold.release();
    expect(released).toEqual(['first admission', 'second admission']);
    expect(hold.extend(0.01)).toBe(false); // released: nothing more is held for it
    // Admitted after the request ended: given back at once.
    hold.replaceAdmission(() => released.push('late admission'));
    expect(released.at(-1)).toBe('late admission');
    expect(key.heldUsd).toBe(0);
    expect(key.holdCount).toBe(0);
    expect(key.spentUsd).toBe(0.03);
  });

  it('returns to exactly nothing held after any mix of charges and releases, and never counts a cost twice', () => {
    const price = fc.constantFrom(0.04, 0.1, 0.000015, 0.0025, 0.6e-6 * 37);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(price, fc.integer({ min: 0, max: 3 }), fc.boolean()), { minLength: 1, maxLength: 60 }),
        (requests) => {
          const key = account(1_000_000);
          const open = requests.map(([held]) => key.hold(held)!);
          let charged = 0;
          requests.forEach(([held, charges, chargeAfterRelease], index) => {
            const hold = open[index]!;
            if (chargeAfterRelease) hold.release();
            for (let charge = 0; charge < charges; charge++) {
              hold.charge(held / 2);
              charged += held / 2;
            }
            hold.release();
            hold.release();
          });
          expect(key.holdCount).toBe(0);
          expect(key.heldUsd).toBe(0);
          expect(key.spentUsd).toBeCloseTo(charged, 9);
        },
      ),
      { seed: 11, numRuns: 200 },
    );
  });
});
