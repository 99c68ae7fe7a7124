import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { TOKEN_TYPES, type GenAiServerRequestRecord } from '../src/index.js';
import {
  PricingTable,
  endGenAiSpan,
  genAiSemconvModeFrom,
  semconv,
  startGenAiSpan,
  usageFromAnthropic,
  usageFromOpenAi,
} from '../src/genai/index.js';
import { METRIC_CATALOG, prometheusName } from '../src/metrics/index.js';
import { bucketCount, telemetryPerTest } from './helpers.js';

const setup = telemetryPerTest();

const common = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'o4-mini',
  'gen_ai.response.model': 'o4-mini-2025-04-16',
};

describe('GenAI conventions v1.41', () => {
  it('pins the metric names of the v1.41 registry and their Prometheus names', () => {
    expect(semconv.GEN_AI_SEMCONV_VERSION).toBe('1.41.0');
    const expected = {
      genAiTimeToFirstChunk: 'gen_ai_client_operation_time_to_first_chunk',
      genAiTimePerOutputChunk: 'gen_ai_client_operation_time_per_output_chunk',
      genAiServerRequestDuration: 'gen_ai_server_request_duration',
      genAiServerTimeToFirstToken: 'gen_ai_server_time_to_first_token',
      genAiServerTimePerOutputToken: 'gen_ai_server_time_per_output_token',
    } as const;
    for (const [key, name] of Object.entries(expected)) {
      const definition = METRIC_CATALOG[key as keyof typeof expected];
      expect(prometheusName(definition, 'gatewayz_')).toBe(name);
      expect(definition.kind).toBe('histogram');
      expect(definition.unit).toBe('s');
    }
    expect(TOKEN_TYPES).toEqual(['input', 'output', 'cache_read', 'cache_write', 'reasoning']);
    expect(semconv.GEN_AI_TOKEN_TYPES).toEqual(['input', 'output']);
  });

  it('records chunk timing of a streamed client operation with the recommended buckets', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordGenAiOperation({
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'o4-mini',
      responseModel: 'o4-mini-2025-04-16',
      durationSeconds: 1.5,
      timeToFirstChunkSeconds: 0.3,
      timesPerOutputChunkSeconds: [0.015, 0.05, 0.05],
    });
    const collected = await collect();
    const first = collected.histogram('gen_ai.client.operation.time_to_first_chunk', common);
    expect(first?.count).toBe(1);
    expect(first?.sum).toBeCloseTo(0.3, 12);
    expect(first?.buckets.boundaries).toEqual([...semconv.GEN_AI_DURATION_BUCKETS]);
    expect(first && bucketCount(first, 0.32)).toBe(1);
    const perChunk = collected.histogram('gen_ai.client.operation.time_per_output_chunk', common);
    expect(perChunk?.count).toBe(3);
    expect(perChunk?.sum).toBeCloseTo(0.115, 12);
    expect(perChunk && bucketCount(perChunk, 0.02)).toBe(1);
    expect(perChunk && bucketCount(perChunk, 0.08)).toBe(2);
  });

  it('drops and counts chunk times that are not an array, never throwing after the duration was recorded', async () => {
    const { telemetry, collect } = setup();
    const operation = {
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'o4-mini',
      responseModel: 'o4-mini-2025-04-16',
      durationSeconds: 1.5,
    };
    // From plain JavaScript: a number, a Set, a string and an array-like object that is not iterable.
    for (const chunkTimes of [0.5, new Set([0.1]), '0.1', { length: 1, 0: 0.1 }])
      expect(() =>
        telemetry.recordGenAiOperation({ ...operation, timesPerOutputChunkSeconds: chunkTimes as never }),
      ).not.toThrow();
    // A typed array is read as the array it is.
    telemetry.recordGenAiOperation({ ...operation, timesPerOutputChunkSeconds: new Float64Array([0.015, 0.05]) });
    const collected = await collect();
    expect(collected.histogram('gen_ai.client.operation.duration', common)?.count).toBe(5);
    const perChunk = collected.histogram('gen_ai.client.operation.time_per_output_chunk', common);
    expect(perChunk?.count).toBe(2);
    expect(perChunk?.sum).toBeCloseTo(0.065, 12);
    expect(
      collected.value('gatewayz_telemetry_dropped', {
        reason: 'not_an_array',
        metric: 'gen_ai.client.operation.time_per_output_chunk',
      }),
    ).toBe(4);
  });

  it('records server duration always, time to first token and per output token for successful streamed answers', async () => {
    const { telemetry, collect } = setup();
    const streamed: GenAiServerRequestRecord = {
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'o4-mini',
      responseModel: 'o4-mini-2025-04-16',
      durationSeconds: 2.2,
      timeToFirstTokenSeconds: 0.2,
      outputTokens: 41,
    };
    telemetry.recordGenAiServerRequest(streamed);
    telemetry.recordGenAiServerRequest({ ...streamed, durationSeconds: 0.9, timeToFirstTokenSeconds: undefined });
    telemetry.recordGenAiServerRequest({ ...streamed, durationSeconds: 3, errorType: '502' });
    const collected = await collect();
    const duration = collected.histogram('gen_ai.server.request.duration', common);
    expect(duration?.count).toBe(2);
    expect(duration?.sum).toBeCloseTo(3.1, 12);
    const failed = collected.histogram('gen_ai.server.request.duration', { ...common, 'error.type': '502' });
    expect(failed?.count).toBe(1);
    const ttft = collected.histogram('gen_ai.server.time_to_first_token', common);
    expect(ttft?.count).toBe(1);
    expect(ttft?.buckets.boundaries).toEqual([...semconv.GEN_AI_SERVER_TIME_TO_FIRST_TOKEN_BUCKETS]);
    expect(ttft && bucketCount(ttft, 0.25)).toBe(1);
    const perToken = collected.histogram('gen_ai.server.time_per_output_token', common);
    // (2.2 - 0.2) / (41 - 1) = 0.05 s per token after the first
    expect(perToken?.count).toBe(1);
    expect(perToken?.sum).toBeCloseTo(0.05, 12);
    expect(perToken?.buckets.boundaries).toEqual([...semconv.GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN_BUCKETS]);
    expect(collected.points('gen_ai.server.time_to_first_token')).toHaveLength(1);
  });

  it('drops and counts time per output token for output tokens that are not an integer >= 0', async () => {
    const { telemetry, collect } = setup();
    const streamed: GenAiServerRequestRecord = {
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'o4-mini',
      responseModel: 'o4-mini-2025-04-16',
      durationSeconds: 1.9,
      timeToFirstTokenSeconds: 0.4,
    };
    for (const outputTokens of [Number.NaN, '151', -5, 2.5, Infinity])
      telemetry.recordGenAiServerRequest({ ...streamed, outputTokens: outputTokens as number });
    // 0 and 1 token have no token after the first: nothing to observe, nothing wrong.
    telemetry.recordGenAiServerRequest({ ...streamed, outputTokens: 1 });
    const collected = await collect();
    expect(collected.histogram('gen_ai.server.request.duration', common)?.count).toBe(6);
    expect(collected.metric('gen_ai.server.time_per_output_token')).toBeUndefined();
    const metric = 'gen_ai.server.time_per_output_token';
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'not_a_number', metric })).toBe(2);
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'out_of_range', metric })).toBe(1);
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'not_an_integer', metric })).toBe(1);
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'not_finite', metric })).toBe(1);
  });

  it('drops and counts time per output token when the first token came after the last byte, never recording 0', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordGenAiServerRequest({
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'o4-mini',
      responseModel: 'o4-mini-2025-04-16',
      durationSeconds: 1.9,
      timeToFirstTokenSeconds: 3,
      outputTokens: 100,
    });
    const collected = await collect();
    expect(collected.histogram('gen_ai.server.time_to_first_token', common)?.count).toBe(1);
    expect(collected.metric('gen_ai.server.time_per_output_token')).toBeUndefined();
    expect(
      collected.value('gatewayz_telemetry_dropped', {
        reason: 'out_of_range',
        metric: 'gen_ai.server.time_per_output_token',
      }),
    ).toBe(1);
  });

  it('adds cache and reasoning token types to tokens_used_total', async () => {
    const { telemetry } = setup();
    telemetry.recordTokensUsed('openai', 'o4-mini', 'cache_read', 1920);
    telemetry.recordTokensUsed('openai', 'o4-mini', 'reasoning', 192);
    telemetry.recordTokensUsed('anthropic', 'claude-3-5-haiku', 'cache_write', 1000);
    expect(
      telemetry.currentValue('tokensUsed', { provider: 'openai', model: 'o4-mini', token_type: 'cache_read' }),
    ).toBe(1920);
    expect(
      telemetry.currentValue('tokensUsed', { provider: 'openai', model: 'o4-mini', token_type: 'reasoning' }),
    ).toBe(192);
    expect(
      telemetry.currentValue('tokensUsed', {
        provider: 'anthropic',
        model: 'claude-3-5-haiku',
        token_type: 'cache_write',
      }),
    ).toBe(1000);
  });
});

describe('OTEL_SEMCONV_STABILITY_OPT_IN', () => {
  it('parses the comma list of the specification', () => {
    expect(genAiSemconvModeFrom(undefined)).toBe('default');
    expect(genAiSemconvModeFrom('')).toBe('default');
    expect(genAiSemconvModeFrom('http,database')).toBe('default');
    expect(genAiSemconvModeFrom('http/dup, gen_ai_latest_experimental')).toBe('latest_experimental');
    expect(genAiSemconvModeFrom('GEN_AI_LATEST_EXPERIMENTAL')).toBe('latest_experimental');
  });

  it('keeps image_generation by default and emits generate_content under gen_ai_latest_experimental', async () => {
    const image = { operationName: 'image_generation', providerName: 'openai', requestModel: 'gpt-image-1' };
    const byDefault = setup();
    byDefault.telemetry.recordGenAiOperation({ ...image, durationSeconds: 1 });
    const latest = setup({ semconvStabilityOptIn: 'gen_ai_latest_experimental' });
    expect(latest.telemetry.genAiSemconvMode).toBe('latest_experimental');
    latest.telemetry.recordGenAiOperation({ ...image, durationSeconds: 1 });
    latest.telemetry.recordGenAiServerRequest({ ...image, durationSeconds: 1 });
    const [defaultPoint] = (await byDefault.collect()).points('gen_ai.client.operation.duration');
    expect(defaultPoint?.attributes['gen_ai.operation.name']).toBe('image_generation');
    const collected = await latest.collect();
    expect(collected.points('gen_ai.client.operation.duration')[0]?.attributes['gen_ai.operation.name']).toBe(
      'generate_content',
    );
    expect(collected.points('gen_ai.server.request.duration')[0]?.attributes['gen_ai.operation.name']).toBe(
      'generate_content',
    );

    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('test');
    endGenAiSpan(startGenAiSpan(tracer, image));
    endGenAiSpan(startGenAiSpan(tracer, { ...image, semconvMode: 'latest_experimental' }));
    const [before, after] = exporter.getFinishedSpans();
    expect(before?.name).toBe('image_generation gpt-image-1');
    expect(before?.attributes['gen_ai.output.type']).toBeUndefined();
    expect(after?.name).toBe('generate_content gpt-image-1');
    expect(after?.attributes['gen_ai.operation.name']).toBe('generate_content');
    expect(after?.attributes['gen_ai.output.type']).toBe('image');
    await provider.shutdown();
  });
});

describe('v1.41 span attributes', () => {
  it('sets request.stream, response.id, time to first chunk, cache and reasoning usage', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const span = startGenAiSpan(provider.getTracer('test'), {
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'o4-mini',
      stream: true,
    });
    endGenAiSpan(span, {
      responseId: 'chatcmpl-123',
      inputTokens: 2006,
      outputTokens: 300,
      cacheReadInputTokens: 1920,
      cacheCreationInputTokens: 0,
      reasoningOutputTokens: 192,
      timeToFirstChunkSeconds: 0.25,
      finishReasons: ['stop'],
    });
    const [finished] = exporter.getFinishedSpans();
    expect(finished?.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': 'chatcmpl-123',
      'gen_ai.usage.input_tokens': 2006,
      'gen_ai.usage.output_tokens': 300,
      'gen_ai.usage.cache_read.input_tokens': 1920,
      'gen_ai.usage.cache_creation.input_tokens': 0,
      'gen_ai.usage.reasoning.output_tokens': 192,
      'gen_ai.response.time_to_first_chunk': 0.25,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    await provider.shutdown();
  });
});

describe('usage of both wire shapes, priced with cache prices', () => {
  const pricing = new PricingTable({
    openai: {
      'o4-mini': { inputPerMillionTokens: 1.1, cachedInputPerMillionTokens: 0.275, outputPerMillionTokens: 4.4 },
    },
    anthropic: {
      'claude-3-5-sonnet': {
        inputPerMillionTokens: 3,
        cachedInputPerMillionTokens: 0.3,
        cacheWritePerMillionTokens: 3.75,
        outputPerMillionTokens: 15,
      },
      'no-cache-prices': { inputPerMillionTokens: 3, outputPerMillionTokens: 15 },
    },
  });

  it('prices an OpenAI chat completion with cached and reasoning tokens', () => {
    // The usage object of an OpenAI chat completion (o-series model, prompt caching).
    const usage = usageFromOpenAi({
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 192,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
    expect(usage).toEqual({
      inputTokens: 2006,
      outputTokens: 300,
      cacheReadInputTokens: 1920,
      audioInputTokens: 0,
      reasoningOutputTokens: 192,
      audioOutputTokens: 0,
    });
    const cost = pricing.cost({ provider: 'openai', model: 'o4-mini', ...usage });
    // 86 uncached * 1.1 + 1920 cached * 0.275 + 300 output * 4.4, per million
    expect(Math.abs((cost as number) - (86 * 1.1 + 1920 * 0.275 + 300 * 4.4) / 1e6)).toBeLessThan(1e-12);
    expect(Math.abs((cost as number) - 0.0019426)).toBeLessThan(1e-12);
  });

  it('reads the usage of the final chunk of a stream with stream_options.include_usage', () => {
    const finalChunk = JSON.parse(
      '{"id":"chatcmpl-B9","object":"chat.completion.chunk","created":1741570283,"model":"o4-mini-2025-04-16","choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":80,"total_tokens":1280,"prompt_tokens_details":{"cached_tokens":1024},"completion_tokens_details":{"reasoning_tokens":64}}}',
    ) as { usage: unknown };
    const usage = usageFromOpenAi(finalChunk.usage);
    expect(usage).toEqual({
      inputTokens: 1200,
      outputTokens: 80,
      cacheReadInputTokens: 1024,
      reasoningOutputTokens: 64,
    });
    const cost = pricing.cost({ provider: 'openai', model: 'o4-mini', ...usage });
    expect(Math.abs((cost as number) - (176 * 1.1 + 1024 * 0.275 + 80 * 4.4) / 1e6)).toBeLessThan(1e-12);
  });

  it('reads a Responses API usage object', () => {
    expect(
      usageFromOpenAi({
        input_tokens: 500,
        input_tokens_details: { cached_tokens: 256 },
        output_tokens: 40,
        output_tokens_details: { reasoning_tokens: 16 },
        total_tokens: 540,
      }),
    ).toEqual({ inputTokens: 500, outputTokens: 40, cacheReadInputTokens: 256, reasoningOutputTokens: 16 });
  });

  it('prices an Anthropic message that reads and writes the prompt cache', () => {
    // Anthropic's input_tokens is the uncached part; cache reads and writes are counted beside it.
    const usage = usageFromAnthropic({
      input_tokens: 21,
      cache_creation_input_tokens: 188,
      cache_read_input_tokens: 1900,
      output_tokens: 393,
    });
    expect(usage).toEqual({
      inputTokens: 2109,
      outputTokens: 393,
      cacheReadInputTokens: 1900,
      cacheCreationInputTokens: 188,
    });
    const cost = pricing.cost({ provider: 'anthropic', model: 'claude-3-5-sonnet', ...usage });
    expect(Math.abs((cost as number) - (21 * 3 + 1900 * 0.3 + 188 * 3.75 + 393 * 15) / 1e6)).toBeLessThan(1e-12);
    expect(Math.abs((cost as number) - 0.007233)).toBeLessThan(1e-12);
    // Without cache prices, cached tokens cost the input price.
    const plain = pricing.cost({ provider: 'anthropic', model: 'no-cache-prices', ...usage });
    expect(Math.abs((plain as number) - (2109 * 3 + 393 * 15) / 1e6)).toBeLessThan(1e-12);
  });

  it("reads an Anthropic stream's usage from its final message_delta and its message_start", () => {
    // As the API streams it: input and cache counts in message_start, the delta's cumulative
    // output count, with the input fields null (or absent) in the delta.
    const start = {
      input_tokens: 21,
      cache_creation_input_tokens: 188,
      cache_read_input_tokens: 1900,
      output_tokens: 1,
    };
    const delta = {
      input_tokens: null,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      output_tokens: 393,
    };
    const expected = {
      inputTokens: 2109,
      outputTokens: 393,
      cacheReadInputTokens: 1900,
      cacheCreationInputTokens: 188,
    };
    expect(usageFromAnthropic(delta, start)).toEqual(expected);
    expect(usageFromAnthropic({ output_tokens: 393 }, start)).toEqual(expected);
    // A delta that reports the cumulative input too wins over the start.
    expect(usageFromAnthropic({ ...start, output_tokens: 393 }, { input_tokens: 0, output_tokens: 0 })).toEqual(
      expected,
    );
    // The delta alone cannot say what the input was.
    expect(usageFromAnthropic(delta)).toBeUndefined();
  });

  it('leaves usage without an output total unknown (undefined) rather than 0 output tokens', () => {
    expect(usageFromOpenAi({ prompt_tokens: 1200 })).toBeUndefined();
    expect(usageFromOpenAi({ prompt_tokens: 1200, completion_tokens: null })).toBeUndefined();
    expect(usageFromOpenAi({ input_tokens: 1200 })).toBeUndefined();
    expect(usageFromOpenAi({ input_tokens: 1200, output_tokens: null })).toBeUndefined();
    // A caller that knows there is no output (embeddings) says so.
    expect(usageFromOpenAi({ completion_tokens: 0, prompt_tokens: 8, total_tokens: 8 })).toEqual({
      inputTokens: 8,
      outputTokens: 0,
    });
  });

  it('refuses malformed usage and cache counts above the input', () => {
    expect(usageFromOpenAi({ prompt_tokens: -1, completion_tokens: 3 })).toBeUndefined();
    expect(usageFromOpenAi(null)).toBeUndefined();
    expect(usageFromAnthropic({ input_tokens: 3 })).toBeUndefined();
    expect(usageFromAnthropic({ input_tokens: 3, output_tokens: 1, cache_read_input_tokens: 'x' })).toBeUndefined();
    expect(
      pricing.cost({ provider: 'openai', model: 'o4-mini', inputTokens: 10, cacheReadInputTokens: 11 }),
    ).toBeUndefined();
  });
});
