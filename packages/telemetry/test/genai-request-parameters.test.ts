import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  endGenAiSpan,
  requestParametersFromAnthropic,
  requestParametersFromOpenAi,
  semconv,
  startGenAiSpan,
  type GenAiSpanStart,
} from '../src/genai/index.js';

// The request attributes of the GenAI inference and embeddings spans of the v1.41 conventions:
// recommended (max_tokens, temperature, top_p, top_k, penalties, stop sequences, encoding formats,
// dimension count) and conditionally required (seed when the request has one, choice.count when
// not 1, output.type when the request names an output format).

let exporter: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
});

afterEach(async () => {
  await tracerProvider.shutdown();
});

function spanAttributes(start: GenAiSpanStart): Record<string, unknown> {
  endGenAiSpan(startGenAiSpan(tracerProvider.getTracer('test'), start));
  const [span] = exporter.getFinishedSpans().splice(-1);
  return { ...span?.attributes };
}

const chat = { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' } as const;

describe('GenAI request parameters on the span', () => {
  it('reads every parameter of an OpenAI chat request and puts it under its v1.41 name', () => {
    const parameters = requestParametersFromOpenAi({
      model: 'gpt-4o-mini',
      messages: [],
      max_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      frequency_penalty: 0.1,
      presence_penalty: -0.2,
      stop: ['END', '\n\n'],
      seed: 42,
      n: 3,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } },
    });
    expect(parameters).toEqual({
      maxTokens: 50,
      temperature: 0.3,
      topP: 0.9,
      frequencyPenalty: 0.1,
      presencePenalty: -0.2,
      stopSequences: ['END', '\n\n'],
      seed: 42,
      choiceCount: 3,
      outputType: 'json',
    });
    expect(spanAttributes({ ...chat, ...parameters })).toEqual({
      [semconv.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [semconv.ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
      [semconv.ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o-mini',
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.frequency_penalty': 0.1,
      'gen_ai.request.presence_penalty': -0.2,
      'gen_ai.request.stop_sequences': ['END', '\n\n'],
      'gen_ai.request.seed': 42,
      'gen_ai.request.choice.count': 3,
      'gen_ai.output.type': 'json',
    });
  });

  it('prefers max_completion_tokens, reads the Responses API and embeddings shapes', () => {
    expect(requestParametersFromOpenAi({ max_completion_tokens: 200, max_tokens: 100, stop: 'END' })).toEqual({
      maxTokens: 200,
      stopSequences: ['END'],
    });
    expect(
      requestParametersFromOpenAi({ max_output_tokens: 64, temperature: 0, text: { format: { type: 'text' } } }),
    ).toEqual({ maxTokens: 64, temperature: 0, outputType: 'text' });
    const embeddings = requestParametersFromOpenAi({ input: 'x', encoding_format: 'base64', dimensions: 256 });
    expect(embeddings).toEqual({ encodingFormats: ['base64'], embeddingsDimensionCount: 256 });
    expect(
      spanAttributes({ operationName: 'embeddings', providerName: 'openai', requestModel: 'e', ...embeddings }),
    ).toMatchObject({
      'gen_ai.request.encoding_formats': ['base64'],
      'gen_ai.embeddings.dimension.count': 256,
    });
  });

  it('reads an Anthropic Messages request, top_k included', () => {
    const parameters = requestParametersFromAnthropic({
      model: 'claude-3-5-haiku',
      max_tokens: 1024,
      temperature: 1,
      top_p: 0.7,
      top_k: 40,
      stop_sequences: ['\n\nHuman:'],
      messages: [],
    });
    expect(parameters).toEqual({
      maxTokens: 1024,
      temperature: 1,
      topP: 0.7,
      topK: 40,
      stopSequences: ['\n\nHuman:'],
    });
    expect(spanAttributes({ ...chat, providerName: 'anthropic', ...parameters })).toMatchObject({
      'gen_ai.request.top_k': 40,
      'gen_ai.request.stop_sequences': ['\n\nHuman:'],
    });
  });

  it('leaves out values of the wrong type and never throws', () => {
    const odd = {
      max_tokens: '50',
      temperature: Number.NaN,
      top_p: Infinity,
      stop: ['ok', 3],
      seed: 1.5,
      n: null,
      response_format: 'json',
      encoding_format: [],
      dimensions: -0.5,
    };
    expect(requestParametersFromOpenAi(odd)).toEqual({});
    expect(requestParametersFromAnthropic({ max_tokens: 10.5, top_k: '40', stop_sequences: 'x' })).toEqual({
      stopSequences: ['x'],
    });
    for (const body of [undefined, null, 42, 'text', [1, 2]]) {
      expect(requestParametersFromOpenAi(body)).toEqual({});
      expect(requestParametersFromAnthropic(body)).toEqual({});
    }
  });

  it('sets gen_ai.request.choice.count only when it is not 1, as the conventions ask', () => {
    expect(spanAttributes({ ...chat, choiceCount: 1 })['gen_ai.request.choice.count']).toBeUndefined();
    expect(spanAttributes({ ...chat, choiceCount: 2 })['gen_ai.request.choice.count']).toBe(2);
  });

  it('keeps gen_ai.output.type="image" of an image operation under latest_experimental', () => {
    const attributes = spanAttributes({
      operationName: 'image_generation',
      providerName: 'openai',
      requestModel: 'gpt-image-1',
      outputType: 'json',
      semconvMode: 'latest_experimental',
    });
    expect(attributes['gen_ai.operation.name']).toBe('generate_content');
    expect(attributes['gen_ai.output.type']).toBe('image');
  });
});
