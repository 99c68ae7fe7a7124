import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { simulatedEmbedding } from '../src/providers/simulated-embeddings.js';
import { DEMO_PRICES } from '../src/index.js';
import { demoCost, sampleSum, startTestGateway, type DemoPrice, type TestGateway } from './harness.js';

/*
 * The official `openai` and `@anthropic-ai/sdk` clients against a real gateway on loopback, with
 * the demo's simulated providers behind it. `openai` (the simulated provider) speaks the Responses
 * API itself; `anthropic` and `openrouter` get `/v1/responses` translated to chat completions.
 * Usage is checked against what the simulated provider reports: ~4 characters per prompt token,
 * min(max tokens, 12) output tokens, and half the prompt tokens cached when a prompt repeats.
 */

let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  gw = await startTestGateway();
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test-dummy', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-test-dummy', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
});
afterEach(() => {
  for (const provider of gw.demo.simulated)
    provider.configure({ errorRate: 0, latencyMs: 0, failureMode: 'error', chunkDelayMs: 0, usageInEveryChunk: false });
});

/** Prompt tokens the simulated providers report for these texts. */
const promptTokens = (...texts: string[]): number => Math.max(1, Math.ceil(texts.join('').length / 4));

/** Metric deltas across `run`, and model health after it (write-behind recorder flushed). */
async function measure<T>(
  run: () => Promise<T>,
): Promise<{ result: T; delta: (name: string, labels?: Record<string, string>) => number }> {
  const before = await gw.scrape();
  const result = await run();
  await gw.gateway.recorder.flush();
  const after = await gw.scrape();
  return { result, delta: (name, labels = {}) => sampleSum(after, name, labels) - sampleSum(before, name, labels) };
}

async function successes(provider: string, model: string): Promise<number> {
  await gw.gateway.recorder.flush();
  return (await gw.gateway.store.getModelHealth(provider, model))?.successCount ?? 0;
}

/** The chat metrics one successful call leaves, checked against the usage the client saw. */
function expectChatMetrics(
  delta: (name: string, labels?: Record<string, string>) => number,
  provider: string,
  model: string,
  usage: { input: number; output: number; cacheRead?: number },
  prices: DemoPrice,
): void {
  expect(delta('model_inference_requests_total', { provider, model, status: 'success' })).toBe(1);
  expect(delta('tokens_used_total', { provider, model, token_type: 'input' })).toBe(usage.input);
  expect(delta('tokens_used_total', { provider, model, token_type: 'output' })).toBe(usage.output);
  const genAi = { gen_ai_operation_name: 'chat', gen_ai_provider_name: provider, gen_ai_request_model: model };
  expect(delta('gen_ai_client_token_usage_sum', { ...genAi, gen_ai_token_type: 'input' })).toBe(usage.input);
  expect(delta('gen_ai_client_token_usage_sum', { ...genAi, gen_ai_token_type: 'output' })).toBe(usage.output);
  expect(delta('gen_ai_client_operation_duration_count', genAi)).toBe(1);
  expect(delta('tokens_used_total', { provider, model, token_type: 'cache_read' })).toBe(usage.cacheRead ?? 0);
  expect(delta('gatewayz_cost_by_provider_total', { provider })).toBeCloseTo(
    demoCost(prices, usage.input, usage.output, usage.cacheRead ?? 0),
    12,
  );
}

const GPT_4O = DEMO_PRICES['gpt-4o'];
const SONNET = DEMO_PRICES['claude-3-5-sonnet'];
const HAIKU = DEMO_PRICES['claude-3-5-haiku'];

describe('official openai SDK: chat completions', () => {
  it('chat.completions.create: content, usage as the provider reported it, metrics, model health', async () => {
    const prompt = 'Name one property of a good gateway. (chat plain)';
    const healthBefore = await successes('openai', 'gpt-4o');
    const { result: completion, delta } = await measure(() =>
      openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: prompt }] }),
    );
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content?.split(' ')).toHaveLength(12);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({
      prompt_tokens: promptTokens(prompt),
      completion_tokens: 12,
      total_tokens: promptTokens(prompt) + 12,
    });
    expectChatMetrics(delta, 'openai', 'gpt-4o', { input: promptTokens(prompt), output: 12 }, GPT_4O);
    expect(await successes('openai', 'gpt-4o')).toBe(healthBefore + 1);
  });

  it('streamed with include_usage: deltas, then one usage chunk with no choices', async () => {
    const prompt = 'Stream a sentence about spans. (chat stream)';
    const { result, delta } = await measure(async () => {
      const stream = await openai.chat.completions.create({
        model: 'claude-3-5-sonnet',
        messages: [{ role: 'user', content: prompt }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      return chunks;
    });
    const last = result.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: promptTokens(prompt), completion_tokens: 12 });
    expect(result.slice(0, -1).every((chunk) => chunk.usage === undefined || chunk.usage === null)).toBe(true);
    const text = result.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text.split(' ')).toHaveLength(12);
    expectChatMetrics(delta, 'anthropic', 'claude-3-5-sonnet', { input: promptTokens(prompt), output: 12 }, SONNET);
    expect(delta('gatewayz_time_to_first_token_seconds_count', { provider: 'anthropic' })).toBe(1);
  });

  it('a stream cut upstream ends in an APIError, recorded as a failed attempt', async () => {
    gw.provider('anthropic').configure({ errorRate: 1, failureMode: 'cut' });
    const { result, delta } = await measure(async () => {
      const stream = await openai.chat.completions.create({
        model: 'claude-3-5-sonnet',
        messages: [{ role: 'user', content: 'cut me off' }],
        stream: true,
      });
      let text = '';
      try {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      } catch (error) {
        return { text, error };
      }
      return { text, error: undefined };
    });
    expect(result.text.split(' ')).toHaveLength(2);
    expect(result.error).toBeInstanceOf(OpenAI.APIError);
    expect((result.error as InstanceType<typeof OpenAI.APIError>).message).toContain('Upstream');
    expect(delta('model_inference_requests_total', { provider: 'anthropic', status: 'network_error' })).toBe(1);
  });
});

describe('official openai SDK: responses', () => {
  it('responses.create through a chat-only provider: translated, with usage details', async () => {
    const input = 'Explain a circuit breaker in one line. (responses translated)';
    const healthBefore = await successes('anthropic', 'claude-3-5-sonnet');
    const { result: response, delta } = await measure(() =>
      openai.responses.create({ model: 'claude-3-5-sonnet', instructions: 'Be terse.', input }),
    );
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(response.status).toBe('completed');
    expect(response.instructions).toBe('Be terse.');
    expect(response.output_text.split(' ')).toHaveLength(12);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    const input_tokens = promptTokens('Be terse.', input);
    expect(response.usage).toEqual({
      input_tokens,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 12,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: input_tokens + 12,
    });
    expectChatMetrics(delta, 'anthropic', 'claude-3-5-sonnet', { input: input_tokens, output: 12 }, SONNET);
    expect(await successes('anthropic', 'claude-3-5-sonnet')).toBe(healthBefore + 1);
    expect(gw.provider('anthropic').requestCounts.get('/v1/responses')).toBeUndefined();
  });

  it('responses.create with message input and max_output_tokens through a Responses API provider', async () => {
    const text = 'Two words about tracing. (responses native)';
    const before = gw.provider('openai').requestCounts.get('/v1/responses') ?? 0;
    const { result: response, delta } = await measure(() =>
      openai.responses.create({
        model: 'gpt-4o',
        input: [{ role: 'user', content: [{ type: 'input_text', text }] }],
        max_output_tokens: 5,
      }),
    );
    expect(gw.provider('openai').requestCounts.get('/v1/responses')).toBe(before + 1);
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect((response as unknown as { store: boolean }).store).toBe(false); // sent upstream: nothing kept there
    expect(response.output_text.split(' ')).toHaveLength(5);
    expect(response.usage).toMatchObject({ input_tokens: promptTokens(text), output_tokens: 5 });
    expectChatMetrics(delta, 'openai', 'gpt-4o', { input: promptTokens(text), output: 5 }, GPT_4O);
  });

  it('responses.stream().finalResponse(), translated and native, with cached tokens on a repeated prompt', async () => {
    for (const model of ['claude-3-5-haiku', 'gpt-4o-mini']) {
      const provider = model === 'gpt-4o-mini' ? 'openai' : 'anthropic';
      const input = `Stream about cache hits. (${model})`;
      const run = async () => {
        const events: string[] = [];
        const stream = openai.responses.stream({ model, input });
        stream.on('event', (event) => events.push(event.type));
        return { events, final: await stream.finalResponse() };
      };
      await run(); // the second identical prompt is a prompt-cache hit at the simulated provider
      const { result, delta } = await measure(run);
      expect(result.events).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        ...Array<string>(12).fill('response.output_text.delta'),
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(result.final.status).toBe('completed');
      expect(result.final.output_text.split(' ')).toHaveLength(12);
      const input_tokens = promptTokens(input);
      expect(result.final.usage).toMatchObject({
        input_tokens,
        input_tokens_details: { cached_tokens: Math.floor(input_tokens / 2) },
        output_tokens: 12,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: input_tokens + 12,
      });
      const prices = model === 'gpt-4o-mini' ? DEMO_PRICES['gpt-4o-mini'] : HAIKU;
      const cacheRead = Math.floor(input_tokens / 2);
      expectChatMetrics(delta, provider, model, { input: input_tokens, output: 12, cacheRead }, prices);
      expect(delta('gatewayz_time_to_first_token_seconds_count', { provider, model })).toBe(1);
    }
  });

  it('refuses the stateful features with a 400 the SDK raises as BadRequestError', async () => {
    const attempts = [
      () => openai.responses.create({ model: 'gpt-4o', input: 'hi', previous_response_id: 'resp_123' }),
      () => openai.responses.create({ model: 'gpt-4o', input: 'hi', store: true }),
      () => openai.responses.create({ model: 'gpt-4o', input: 'hi', conversation: 'conv_123' }),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('unsupported_parameter');
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/not supported/);
    }
  });
});

describe('official openai SDK: embeddings', () => {
  const model = 'text-embedding-3-small';

  it('embeddings.create (float): deterministic vectors, input tokens and their price, GenAI embeddings metrics', async () => {
    const inputs = ['first text to embed', 'second text'];
    const healthBefore = await successes('openai', model);
    const { result, delta } = await measure(() =>
      openai.embeddings.create({ model, input: inputs, encoding_format: 'float' }),
    );
    expect(result.data.map((item) => item.embedding)).toEqual(inputs.map((text) => simulatedEmbedding(text)));
    expect(result.data[0]?.embedding).toHaveLength(256);
    const tokens = promptTokens(inputs[0] as string) + promptTokens(inputs[1] as string);
    expect(result.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    expect(delta('model_inference_requests_total', { provider: 'openai', model, status: 'success' })).toBe(1);
    expect(delta('tokens_used_total', { provider: 'openai', model, token_type: 'input' })).toBe(tokens);
    expect(delta('tokens_used_total', { provider: 'openai', model, token_type: 'output' })).toBe(0);
    const genAi = { gen_ai_operation_name: 'embeddings', gen_ai_provider_name: 'openai', gen_ai_request_model: model };
    expect(delta('gen_ai_client_token_usage_sum', { ...genAi, gen_ai_token_type: 'input' })).toBe(tokens);
    expect(delta('gen_ai_client_token_usage_count', { ...genAi, gen_ai_token_type: 'output' })).toBe(0);
    expect(delta('gen_ai_client_operation_duration_count', genAi)).toBe(1);
    expect(delta('gatewayz_cost_by_provider_total', { provider: 'openai' })).toBeCloseTo((tokens * 0.02) / 1e6, 15);
    expect(await successes('openai', model)).toBe(healthBefore + 1);
  });

  it('embeddings.create (base64, dimensions) and the SDK default, which asks for base64 and decodes it', async () => {
    const text = 'embed me as base64';
    const base64 = await openai.embeddings.create({ model, input: text, encoding_format: 'base64', dimensions: 64 });
    const encoded = base64.data[0]?.embedding as unknown as string;
    expect(typeof encoded).toBe('string');
    const bytes = new Uint8Array(Buffer.from(encoded, 'base64'));
    expect(Array.from(new Float32Array(bytes.buffer))).toEqual(simulatedEmbedding(text, 64));
    const byDefault = await openai.embeddings.create({ model, input: text });
    expect(byDefault.data[0]?.embedding).toEqual(simulatedEmbedding(text));
  });
});

describe('official @anthropic-ai/sdk: messages', () => {
  it('messages.create: content and usage as the provider reported it', async () => {
    const prompt = 'One line on exemplars. (anthropic create)';
    const { result: message, delta } = await measure(() =>
      anthropic.messages.create({
        model: 'claude-3-5-haiku',
        max_tokens: 64,
        system: 'Be brief.',
        messages: [{ role: 'user', content: prompt }],
      }),
    );
    expect(message.type).toBe('message');
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content[0]?.type === 'text' && message.content[0].text.split(' ')).toHaveLength(12);
    const input = promptTokens('Be brief.', prompt);
    expect(message.usage).toMatchObject({
      input_tokens: input,
      output_tokens: 12,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
    expectChatMetrics(delta, 'anthropic', 'claude-3-5-haiku', { input, output: 12 }, HAIKU);
  });

  it('messages.stream().finalMessage(): cumulative usage from the final message_delta, cache reads split out', async () => {
    const prompt = 'Stream one line on histograms. (anthropic stream)';
    const run = async () => {
      const stream = anthropic.messages.stream({
        model: 'claude-3-5-haiku',
        max_tokens: 64,
        messages: [{ role: 'user', content: prompt }],
      });
      const types: string[] = [];
      stream.on('streamEvent', (event) => types.push(event.type));
      return { types, final: await stream.finalMessage() };
    };
    const first = await run();
    const input = promptTokens(prompt);
    expect(first.final.usage).toMatchObject({ input_tokens: input, output_tokens: 12, cache_read_input_tokens: 0 });
    expect(first.types[0]).toBe('message_start');
    expect(first.types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const { result: second, delta } = await measure(run);
    const cached = Math.floor(input / 2);
    expect(second.final.usage).toMatchObject({
      input_tokens: input - cached,
      cache_read_input_tokens: cached,
      cache_creation_input_tokens: 0,
      output_tokens: 12,
    });
    expect(second.final.content[0]?.type === 'text' && second.final.content[0].text.split(' ')).toHaveLength(12);
    expectChatMetrics(delta, 'anthropic', 'claude-3-5-haiku', { input, output: 12, cacheRead: cached }, HAIKU);
  });

  it('a stream that fails upstream midway rejects finalMessage() with an api_error', async () => {
    gw.provider('anthropic').configure({ errorRate: 1, failureMode: 'cut' });
    gw.provider('openrouter').configure({ errorRate: 1, failureMode: 'cut' });
    const stream = anthropic.messages.stream({
      model: 'claude-3-5-haiku',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'fail midway' }],
    });
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'api_error' },
    });
  });
});
