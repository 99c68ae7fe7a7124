import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleSum, SpanRecorder } from './harness.js';
import { startScriptedGateway, type ScriptedGateway, type ScriptStep } from './scripted-upstream.js';

/*
 * How a native Responses API answer ended, as the attempt records it: the finish reason of a
 * response whose output calls a tool, and the usage of a failed response. The official OpenAI SDK
 * calls the gateway; a loopback upstream answers as a Responses API provider.
 */

const RESPONSES = '/v1/responses';
const model = 'gpt-native';

let gw: ScriptedGateway;
const spans = new SpanRecorder();
let openai: OpenAI;

beforeAll(async () => {
  gw = await startScriptedGateway(
    {
      name: 'openai',
      models: [model],
      responsesApi: true,
      pricing: { [model]: { inputPerMillionTokens: 2, cachedInputPerMillionTokens: 0.5, outputPerMillionTokens: 8 } },
    },
    [spans],
  );
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
});
beforeEach(() => {
  spans.clear();
});

const attemptSpan = () => {
  const span = spans.spans.find((candidate) => candidate.name === `chat ${model}`);
  if (span === undefined) throw new Error('no attempt span');
  return span;
};

/** Counter and histogram-count deltas across `run`. */
async function measure<T>(
  run: () => Promise<T>,
): Promise<{ result: T; delta: (name: string, labels?: Record<string, string>) => number }> {
  const before = await gw.scrape();
  const result = await run();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await gw.scrape();
  return {
    result,
    delta: (name, labels = {}) => sampleSum(after, name, labels) - sampleSum(before, name, labels),
  };
}

const response = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'resp_native',
  object: 'response',
  created_at: 1_700_000_000,
  model,
  status,
  output: [],
  ...extra,
});
const event = (afterMs: number, type: string, fields: Record<string, unknown>): ScriptStep => ({
  afterMs,
  event: type,
  data: { type, ...fields },
});
const functionCall = {
  id: 'fc_1',
  type: 'function_call',
  status: 'completed',
  call_id: 'call_1',
  name: 'get_weather',
  arguments: '{"city":"Paris"}',
};
const message = {
  id: 'msg_1',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text: 'Sunny.', annotations: [] }],
};
const webSearch = { id: 'ws_1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'x' } };
const usage = {
  input_tokens: 120,
  input_tokens_details: { cached_tokens: 40 },
  output_tokens: 15,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 135,
};

async function readStream(): Promise<string[]> {
  const stream = await openai.responses.create({ model, input: 'weather in Paris?', stream: true });
  const types: string[] = [];
  for await (const received of stream) types.push(received.type);
  return types;
}

describe('finish reason of a native Responses answer', () => {
  it('is tool_calls when a streamed response.completed holds a function call', async () => {
    gw.upstream.script(RESPONSES, [
      event(0, 'response.created', { sequence_number: 0, response: response('in_progress') }),
      event(10, 'response.output_item.added', {
        sequence_number: 1,
        output_index: 0,
        item: { ...functionCall, status: 'in_progress', arguments: '' },
      }),
      event(10, 'response.function_call_arguments.delta', {
        sequence_number: 2,
        item_id: 'fc_1',
        output_index: 0,
        delta: '{"city":"Paris"}',
      }),
      event(10, 'response.completed', {
        sequence_number: 3,
        response: response('completed', { output: [functionCall], usage }),
      }),
    ]);
    const types = await readStream();
    expect(types.at(-1)).toBe('response.completed');
    expect(attemptSpan().attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
  });

  it('is tool_calls for a JSON answer with a function call, stop for a message after a built-in tool', async () => {
    gw.upstream.scriptJson(RESPONSES, response('completed', { output: [functionCall], usage }));
    const called = await openai.responses.create({ model, input: 'weather in Paris?' });
    expect(called.output[0]?.type).toBe('function_call');
    expect(attemptSpan().attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);

    spans.clear();
    // The provider ran its own web search and answered: the turn ended with a message.
    gw.upstream.scriptJson(RESPONSES, response('completed', { output: [webSearch, message], usage }));
    await openai.responses.create({ model, input: 'weather in Paris?' });
    expect(attemptSpan().attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);

    spans.clear();
    gw.upstream.scriptJson(
      RESPONSES,
      response('incomplete', { output: [message], usage, incomplete_details: { reason: 'content_filter' } }),
    );
    await openai.responses.create({ model, input: 'weather in Paris?' });
    expect(attemptSpan().attributes['gen_ai.response.finish_reasons']).toEqual(['content_filter']);
  });
});

describe('usage of a failed native Responses stream', () => {
  it('records the tokens and cost response.failed reports, with the attempt error.type', async () => {
    gw.upstream.script(RESPONSES, [
      event(0, 'response.created', { sequence_number: 0, response: response('in_progress') }),
      event(10, 'response.output_text.delta', {
        sequence_number: 1,
        item_id: 'msg_1',
        output_index: 0,
        content_index: 0,
        delta: 'Sun',
        logprobs: [],
      }),
      event(10, 'response.failed', {
        sequence_number: 2,
        response: response('failed', {
          error: { code: 'server_error', message: 'The model crashed' },
          usage,
        }),
      }),
    ]);
    // The SDK hands response.failed to the caller as an event; the stream ends with it.
    const { result, delta } = await measure(readStream);
    expect(result.at(-1)).toBe('response.failed');
    const errorType = { error_type: 'upstream_stream_error' };
    expect(delta('gen_ai_client_operation_duration_count', errorType)).toBe(1);
    expect(delta('gen_ai_client_token_usage_sum', { gen_ai_token_type: 'input' })).toBe(120);
    expect(delta('gen_ai_client_token_usage_sum', { gen_ai_token_type: 'output' })).toBe(15);
    expect(delta('tokens_used_total', { token_type: 'input' })).toBe(120);
    expect(delta('tokens_used_total', { token_type: 'output' })).toBe(15);
    expect(delta('tokens_used_total', { token_type: 'cache_read' })).toBe(40);
    expect(delta('gatewayz_cost_by_provider_total')).toBeCloseTo((80 * 2 + 40 * 0.5 + 15 * 8) / 1e6, 12);
    expect(attemptSpan().attributes).toMatchObject({
      'error.type': 'upstream_stream_error',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.cache_read.input_tokens': 40,
      'gen_ai.usage.output_tokens': 15,
    });
  });
});

describe('a native Responses JSON answer that says it did not complete', () => {
  it('records status failed (HTTP 200) as a failed attempt, as a streamed response.failed, with its usage', async () => {
    const failed = response('failed', { error: { code: 'server_error', message: 'The model crashed' }, usage });
    gw.upstream.scriptJson(RESPONSES, failed);
    const { result, delta } = await measure(() => openai.responses.create({ model, input: 'weather in Paris?' }));
    // The client gets the Response as the provider sent it.
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('The model crashed');
    const errorType = { error_type: 'upstream_stream_error' };
    expect(delta('gen_ai_client_operation_duration_count', errorType)).toBe(1);
    expect(delta('gen_ai_server_request_duration_count', errorType)).toBe(1);
    expect(delta('model_inference_requests_total', { status: 'error' })).toBe(1);
    expect(delta('model_inference_requests_total', { status: 'success' })).toBe(0);
    expect(delta('tokens_used_total', { token_type: 'input' })).toBe(120);
    expect(delta('tokens_used_total', { token_type: 'output' })).toBe(15);
    expect(delta('gatewayz_cost_by_provider_total')).toBeCloseTo((80 * 2 + 40 * 0.5 + 15 * 8) / 1e6, 12);
    const attributes = attemptSpan().attributes;
    expect(attributes).toMatchObject({
      'error.type': 'upstream_stream_error',
      'gen_ai.response.id': 'resp_native',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 15,
    });
    // A failed response has no finish reason, as a streamed response.failed has none.
    expect(attributes['gen_ai.response.finish_reasons']).toBeUndefined();
    expect(attemptSpan().status.code).toBe(2);
  });

  it('records status incomplete as a success cut short (length), as a streamed response.incomplete', async () => {
    gw.upstream.scriptJson(
      RESPONSES,
      response('incomplete', { output: [message], usage, incomplete_details: { reason: 'max_output_tokens' } }),
    );
    const { result, delta } = await measure(() => openai.responses.create({ model, input: 'weather in Paris?' }));
    expect(result.status).toBe('incomplete');
    expect(delta('model_inference_requests_total', { status: 'success' })).toBe(1);
    expect(delta('tokens_used_total', { token_type: 'output' })).toBe(15);
    expect(attemptSpan().attributes['gen_ai.response.finish_reasons']).toEqual(['length']);
    expect(attemptSpan().attributes['error.type']).toBeUndefined();
  });
});
