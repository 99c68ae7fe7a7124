import { PricingTable, usageFromAnthropic, usageFromOpenAi } from '@gatewayz/telemetry/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SpanKindNumber,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../../../test-support/otlp-receiver.js';
import { DEMO_PRICES, DEMO_REASONING_MODELS, startDemoProviders } from '../src/index.js';
import { CACHE_WRITE_MIN_TOKENS, REASONING_TOKENS } from '../src/providers/simulated-provider.js';
import { otlpJsonGatewayEnv, startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { sampleSum } from './harness.js';

// The GenAI signal of issue 17, end to end through the built gateway process: conventions v1.41
// metrics on /metrics, span attributes as the OTLP receiver decodes them, cache and reasoning
// tokens priced from the usage the clients saw, and the summary right after start-up.

const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
/** A system prompt above the simulated anthropic provider's cache-write threshold. */
const LONG_SYSTEM = 'Answer as the gateway runbook would, with the provider health in mind. '.repeat(70);
const pricing = new PricingTable({
  anthropic: DEMO_PRICES,
  openai: DEMO_PRICES,
});

const gatewayEnv = otlpJsonGatewayEnv;

async function post(gateway: GatewayProcess, path: string, body: unknown): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The `data:` payloads of an SSE body, `[DONE]` left out. */
async function sseData(response: Response): Promise<Array<Record<string, unknown>>> {
  const text = await response.text();
  return text
    .split('\n\n')
    .map((event) => event.trim())
    .filter((event) => event.startsWith('data: ') && event !== 'data: [DONE]')
    .map((event) => JSON.parse(event.slice(6)) as Record<string, unknown>);
}

describe('the GenAI signal of the example gateway process (conventions v1.41)', () => {
  let receiver: OtlpReceiver;
  let gateway: GatewayProcess;
  let summary: { metrics: { providers: Record<string, number> } };
  let metrics: string;
  let openMetrics: string;
  let spans: ReceivedSpan[];
  const streamedUsage: Array<Record<string, unknown>> = [];
  const anthropicUsages: unknown[] = [];
  let streamedChunks = 0;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    gateway = await startGatewayProcess(gatewayEnv(receiver));
    // Ten requests right after start-up, as a new user would send them.
    for (let index = 0; index < 2; index++) {
      const response = await post(gateway, '/v1/chat/completions', {
        model: 'o4-mini',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Plan the rollout of a reasoning model.' }],
      });
      expect(response.status).toBe(200);
      const chunks = await sseData(response);
      streamedChunks += chunks.length;
      const last = chunks.at(-1) as Record<string, unknown>;
      expect(last['choices']).toEqual([]);
      streamedUsage.push(last['usage'] as Record<string, unknown>);
    }
    for (let index = 0; index < 2; index++) {
      const response = await post(gateway, '/v1/messages', {
        model: 'claude-3-5-haiku',
        max_tokens: 64,
        temperature: 0.5,
        stop_sequences: ['\n\nHuman:'],
        system: LONG_SYSTEM,
        messages: [{ role: 'user', content: 'Summarise the incident.' }],
      });
      expect(response.status).toBe(200);
      anthropicUsages.push(((await response.json()) as { usage: unknown }).usage);
    }
    for (let index = 0; index < 2; index++) {
      const response = await post(gateway, '/v1/chat/completions', {
        model: 'gpt-4o-mini',
        max_completion_tokens: 80,
        temperature: 0.2,
        top_p: 0.9,
        frequency_penalty: 0.1,
        presence_penalty: 0.3,
        stop: 'END',
        seed: 7,
        n: 1,
        response_format: { type: 'json_object' },
        messages: [{ role: 'user', content: 'One line on exemplars, as JSON.' }],
      });
      expect(response.status).toBe(200);
      await response.json();
    }
    const plainStream = await post(gateway, '/v1/chat/completions', {
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'Stream without usage.' }],
    });
    expect((await sseData(plainStream)).every((chunk) => chunk['usage'] === undefined)).toBe(true);
    const image = await post(gateway, '/v1/images/generations', { model: 'gpt-image-1', prompt: 'a gauge' });
    expect(image.status).toBe(200);
    await image.json();
    const embeddings = await post(gateway, '/v1/embeddings', {
      model: 'text-embedding-3-small',
      input: 'x',
      encoding_format: 'base64',
      dimensions: 64,
    });
    expect(embeddings.status).toBe(200);
    await embeddings.json();
    const responses = await post(gateway, '/v1/responses', {
      model: 'o4-mini',
      input: 'Reason briefly.',
      max_output_tokens: 200,
    });
    expect(responses.status).toBe(200);
    await responses.json();
    summary = (await (await fetch(`${gateway.url}/prometheus/metrics/summary`)).json()) as typeof summary;
    const unknown = await post(gateway, '/v1/chat/completions', {
      model: 'no-such-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(unknown.status).toBe(404);
    await unknown.text();
    const notForImages = await post(gateway, '/v1/images/generations', { model: 'gpt-4o', prompt: 'a chart' });
    expect(notForImages.status).toBe(404);
    await notForImages.text();
    metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    openMetrics = await (await fetch(`${gateway.url}/metrics`, { headers: { accept: OPENMETRICS_ACCEPT } })).text();
    expect(await gateway.terminate()).toBe(0);
    spans = await receiver.waitForSpans((received) => received.length >= 22, 10_000);
  }, 60_000);

  afterAll(async () => {
    await gateway?.terminate();
    await receiver?.close();
  });

  it('counts the three configured providers right after start-up', () => {
    expect(summary.metrics.providers).toMatchObject({
      total_providers: 3,
      healthy_providers: 3,
      degraded_providers: 0,
      unavailable_providers: 0,
    });
  });

  it('reads reasoning tokens and, on a repeat, cached tokens from the final streamed chunk', () => {
    expect(DEMO_REASONING_MODELS).toContain('o4-mini');
    const [first, second] = streamedUsage.map((usage) => usageFromOpenAi(usage));
    expect(first).toMatchObject({ reasoningOutputTokens: REASONING_TOKENS, cacheReadInputTokens: 0 });
    expect(second?.reasoningOutputTokens).toBe(REASONING_TOKENS);
    expect(second?.cacheReadInputTokens).toBe(Math.floor((second?.inputTokens ?? 0) / 2));
    expect(second?.cacheReadInputTokens).toBeGreaterThan(0);
    const labels = { provider: 'openai', model: 'o4-mini' };
    // Two streams and one Responses API call, each with REASONING_TOKENS.
    expect(sampleSum(metrics, 'tokens_used_total', { ...labels, token_type: 'reasoning' })).toBe(3 * REASONING_TOKENS);
    expect(sampleSum(metrics, 'tokens_used_total', { ...labels, token_type: 'cache_read' })).toBe(
      second?.cacheReadInputTokens,
    );
  });

  it('prices Anthropic cache writes and reads from the usage the client saw, to 1e-12', () => {
    const [write, read] = anthropicUsages.map((usage) => usageFromAnthropic(usage));
    expect(write?.inputTokens).toBeGreaterThanOrEqual(CACHE_WRITE_MIN_TOKENS);
    expect(write?.cacheCreationInputTokens).toBe(Math.floor((write?.inputTokens ?? 0) / 2));
    expect(write?.cacheReadInputTokens).toBe(0);
    expect(read?.cacheReadInputTokens).toBe(Math.floor((read?.inputTokens ?? 0) / 2));
    expect(read?.cacheCreationInputTokens).toBe(0);
    const labels = { provider: 'anthropic', model: 'claude-3-5-haiku' };
    expect(sampleSum(metrics, 'tokens_used_total', { ...labels, token_type: 'cache_write' })).toBe(
      write?.cacheCreationInputTokens,
    );
    expect(sampleSum(metrics, 'tokens_used_total', { ...labels, token_type: 'cache_read' })).toBe(
      read?.cacheReadInputTokens,
    );
    expect(sampleSum(metrics, 'tokens_used_total', { ...labels, token_type: 'input' })).toBe(
      (write?.inputTokens ?? 0) + (read?.inputTokens ?? 0),
    );
    const expected =
      (pricing.cost({ provider: 'anthropic', model: 'claude-3-5-haiku', ...write }) as number) +
      (pricing.cost({ provider: 'anthropic', model: 'claude-3-5-haiku', ...read }) as number);
    const cached = DEMO_PRICES['claude-3-5-haiku'];
    expect(cached.cacheWritePerMillionTokens).toBeGreaterThan(cached.inputPerMillionTokens);
    expect(
      Math.abs(sampleSum(metrics, 'gatewayz_cost_by_provider_total', { provider: 'anthropic' }) - expected),
    ).toBeLessThan(1e-12);
  });

  it('exposes the client chunk timing of streamed attempts with the recommended buckets', () => {
    const o4 = { gen_ai_operation_name: 'chat', gen_ai_provider_name: 'openai', gen_ai_request_model: 'o4-mini' };
    expect(metrics).toContain('# TYPE gen_ai_client_operation_time_to_first_chunk histogram');
    expect(sampleSum(metrics, 'gen_ai_client_operation_time_to_first_chunk_count', o4)).toBe(2);
    expect(sampleSum(metrics, 'gen_ai_client_operation_time_to_first_chunk_bucket', { ...o4, le: '81.92' })).toBe(2);
    // One observation per chunk after the first: every upstream chunk but one per stream.
    expect(sampleSum(metrics, 'gen_ai_client_operation_time_per_output_chunk_count', o4)).toBeGreaterThanOrEqual(
      streamedChunks - 2,
    );
    // Non-streamed calls have no chunks.
    expect(
      sampleSum(metrics, 'gen_ai_client_operation_time_to_first_chunk_count', { gen_ai_request_model: 'gpt-4o-mini' }),
    ).toBe(0);
  });

  it('records every answered request in the server metrics, time to first token for streams', () => {
    expect(metrics).toContain('# TYPE gen_ai_server_request_duration histogram');
    // 10 successful answers and two 404s the gateway gave itself.
    expect(sampleSum(metrics, 'gen_ai_server_request_duration_count')).toBe(12);
    expect(
      sampleSum(metrics, 'gen_ai_server_request_duration_count', {
        gen_ai_operation_name: 'image_generation',
        gen_ai_provider_name: 'gatewayz',
        gen_ai_request_model: 'gpt-4o',
        error_type: '404',
      }),
    ).toBe(1);
    expect(
      sampleSum(metrics, 'gen_ai_server_request_duration_count', {
        gen_ai_provider_name: 'gatewayz',
        // A model no provider is configured with is not a label (the client chose the string).
        gen_ai_request_model: '_OTHER',
        error_type: '404',
      }),
    ).toBe(1);
    expect(sampleSum(metrics, 'gen_ai_server_time_to_first_token_count')).toBe(3);
    expect(sampleSum(metrics, 'gen_ai_server_time_to_first_token_bucket', { le: '0.001' })).toBeLessThanOrEqual(3);
    expect(sampleSum(metrics, 'gen_ai_server_time_to_first_token_bucket', { le: '10' })).toBe(3);
    // The gateway asks every upstream stream for usage: each has its output tokens, so a time per
    // output token after the first.
    expect(sampleSum(metrics, 'gen_ai_server_time_per_output_token_count')).toBe(3);
    expect(sampleSum(metrics, 'gen_ai_server_time_per_output_token_bucket', { le: '2.5' })).toBe(3);
    expect(
      sampleSum(metrics, 'gen_ai_server_request_duration_count', {
        gen_ai_operation_name: 'image_generation',
        gen_ai_provider_name: 'openai',
      }),
    ).toBe(1);
  });

  it('carries exemplars on the server histograms, like the other latency histograms', () => {
    expect(openMetrics).toMatch(
      /^gen_ai_server_request_duration_bucket\{[^}]*\} \d+ # \{trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}"\} [\d.e-]+ [\d.]+$/m,
    );
    expect(openMetrics).toMatch(/^gen_ai_client_operation_time_to_first_chunk_bucket\{[^}]*\} \d+ # \{trace_id=/m);
  });

  it('puts the v1.41 attributes on the attempt spans', () => {
    const clients = spans.filter((span) => span.kind === SpanKindNumber.CLIENT);
    const o4Streams = clients
      .filter((span) => span.name === 'chat o4-mini' && span.attributes['gen_ai.request.stream'] === true)
      .sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)));
    expect(o4Streams).toHaveLength(2);
    for (const span of o4Streams) {
      expect(span.attributes['gen_ai.usage.reasoning.output_tokens']).toBe(REASONING_TOKENS);
      expect(span.attributes['gen_ai.response.id']).toMatch(/^openai-\d+$/);
      expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
      expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    }
    expect(o4Streams[0]?.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(0);
    expect(o4Streams[1]?.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(
      streamedUsage[1] && usageFromOpenAi(streamedUsage[1])?.cacheReadInputTokens,
    );

    const haiku = clients
      .filter((span) => span.name === 'chat claude-3-5-haiku')
      .sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)));
    const [write, read] = anthropicUsages.map((usage) => usageFromAnthropic(usage));
    expect(haiku[0]?.attributes).toMatchObject({
      'gen_ai.request.stream': false,
      'gen_ai.usage.input_tokens': write?.inputTokens,
      'gen_ai.usage.cache_creation.input_tokens': write?.cacheCreationInputTokens,
    });
    expect(haiku[1]?.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(read?.cacheReadInputTokens);
    // The upstream reports a cache write only when there was one (OpenRouter's usage shape).
    expect(haiku[1]?.attributes['gen_ai.usage.cache_creation.input_tokens']).toBeUndefined();
    const plain = clients.find((span) => span.name === 'chat gpt-4o-mini');
    expect(plain?.attributes['gen_ai.request.stream']).toBe(false);
    expect(plain?.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();
    expect(plain?.attributes['gen_ai.response.id']).toMatch(/^openai-\d+$/);
    const image = clients.find((span) => span.name === 'image_generation gpt-image-1');
    expect(image?.attributes['gen_ai.operation.name']).toBe('image_generation');
    expect(image?.attributes['gen_ai.output.type']).toBeUndefined();
  });

  it("puts the client's request parameters on the attempt spans, in each API's terms", () => {
    const clients = spans.filter((span) => span.kind === SpanKindNumber.CLIENT);
    const chat = clients.filter((span) => span.name === 'chat gpt-4o-mini');
    expect(chat).toHaveLength(2);
    for (const span of chat) {
      expect(span.attributes).toMatchObject({
        'gen_ai.request.max_tokens': 80,
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.top_p': 0.9,
        'gen_ai.request.frequency_penalty': 0.1,
        'gen_ai.request.presence_penalty': 0.3,
        'gen_ai.request.stop_sequences': ['END'],
        'gen_ai.request.seed': 7,
        'gen_ai.output.type': 'json',
      });
      // n: 1 is the default: the conventions want choice.count only when it is not 1.
      expect(span.attributes['gen_ai.request.choice.count']).toBeUndefined();
    }
    // /v1/messages: the parameters of the OpenAI request the upstream got (stop_sequences sent as stop).
    const messages = clients.filter((candidate) => candidate.name === 'chat claude-3-5-haiku');
    expect(messages).toHaveLength(2);
    for (const span of messages)
      expect(span.attributes).toMatchObject({
        'gen_ai.request.max_tokens': 64,
        'gen_ai.request.temperature': 0.5,
        'gen_ai.request.stop_sequences': ['\n\nHuman:'],
      });
    const responses = clients.find(
      (span) => span.name === 'chat o4-mini' && span.attributes['gen_ai.request.stream'] === false,
    );
    expect(responses?.attributes['gen_ai.request.max_tokens']).toBe(200);
    const embeddings = clients.find((span) => span.name === 'embeddings text-embedding-3-small');
    expect(embeddings?.attributes).toMatchObject({
      'gen_ai.request.encoding_formats': ['base64'],
      'gen_ai.embeddings.dimension.count': 64,
    });
    expect(embeddings?.attributes['gen_ai.request.temperature']).toBeUndefined();
    // A request without parameters has none on its span.
    const plainStream = clients.find((span) => span.name === 'chat gpt-4o');
    expect(Object.keys(plainStream?.attributes ?? {}).filter((key) => key.startsWith('gen_ai.request.'))).toEqual([
      'gen_ai.request.model',
      'gen_ai.request.stream',
    ]);
  });
});

describe('OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental in the gateway process', () => {
  let receiver: OtlpReceiver;
  let metrics: string;
  let spans: ReceivedSpan[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const gateway = await startGatewayProcess(
      gatewayEnv(receiver, { OTEL_SEMCONV_STABILITY_OPT_IN: 'http, gen_ai_latest_experimental' }),
    );
    const image = await post(gateway, '/v1/images/generations', { model: 'gpt-image-1', prompt: 'a dial' });
    expect(image.status).toBe(200);
    await image.json();
    metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(await gateway.terminate()).toBe(0);
    spans = await receiver.waitForSpans((received) => received.length >= 2, 10_000);
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
  });

  it('names image generation generate_content with gen_ai.output.type=image; the seed names stay', () => {
    const generate = { gen_ai_operation_name: 'generate_content', gen_ai_request_model: 'gpt-image-1' };
    expect(sampleSum(metrics, 'gen_ai_client_operation_duration_count', generate)).toBe(1);
    expect(sampleSum(metrics, 'gen_ai_server_request_duration_count', generate)).toBe(1);
    expect(metrics).not.toContain('gen_ai_operation_name="image_generation"');
    expect(sampleSum(metrics, 'model_inference_requests_total', { model: 'gpt-image-1', status: 'success' })).toBe(1);
    const attempt = spans.find((span) => span.kind === SpanKindNumber.CLIENT);
    expect(attempt?.name).toBe('generate_content gpt-image-1');
    expect(attempt?.attributes['gen_ai.operation.name']).toBe('generate_content');
    expect(attempt?.attributes['gen_ai.output.type']).toBe('image');
  });
});

describe('the demo providers simulate reasoning and prompt caching', () => {
  it('o4-mini on openrouter: reasoning tokens, cached tokens on a repeat, usage only in the final chunk when asked', async () => {
    const demo = await startDemoProviders({ latencyMs: 0, errorRate: 0 });
    try {
      const openrouter = demo.providers.find((provider) => provider.name === 'openrouter');
      expect(openrouter?.models).toContain('o4-mini');
      expect(demo.providers.find((provider) => provider.name === 'openai')?.models).toContain('o4-mini');
      const stream = async (includeUsage: boolean): Promise<Array<Record<string, unknown>>> => {
        const response = await fetch(`${openrouter?.baseUrl}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'o4-mini',
            stream: true,
            ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
            messages: [{ role: 'user', content: 'Think about cache keys.' }],
          }),
        });
        return sseData(response);
      };
      const withoutUsage = await stream(false);
      expect(withoutUsage.some((chunk) => chunk['usage'] !== undefined)).toBe(false);
      const chunks = await stream(true);
      const last = chunks.at(-1) as { choices: unknown[]; usage: unknown };
      expect(last.choices).toEqual([]);
      expect(chunks.slice(0, -1).every((chunk) => chunk['usage'] === undefined)).toBe(true);
      const usage = usageFromOpenAi(last.usage);
      expect(usage?.reasoningOutputTokens).toBe(REASONING_TOKENS);
      expect(usage?.outputTokens).toBe(12 + REASONING_TOKENS);
      expect(usage?.cacheReadInputTokens).toBe(Math.floor((usage?.inputTokens ?? 0) / 2));
      expect(usage?.cacheReadInputTokens).toBeGreaterThan(0);
    } finally {
      await demo.close();
    }
  });
});
