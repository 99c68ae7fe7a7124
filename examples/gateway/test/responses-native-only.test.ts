import { SpanKind } from '@opentelemetry/api';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleSum, SpanRecorder } from './harness.js';
import {
  chatCompletionAnswer,
  startScriptedGateway,
  startScriptedUpstream,
  type ScriptedGateway,
  type ScriptedUpstream,
  type ScriptStep,
} from './scripted-upstream.js';

/*
 * A /v1/responses request chat completions cannot carry (a built-in tool, log probabilities) for a
 * model whose chain has a chat-only provider first and a provider with the Responses API after it:
 * the official OpenAI SDK calls the gateway, two loopback upstreams answer, and the test reads
 * which of them was sent the request, the attempt spans, the metrics, model health and breakers.
 * Breakers open on one counted failure here, so a chat-only provider tried and failed would show.
 */

const CHAT = '/v1/chat/completions';
const RESPONSES = '/v1/responses';
const mixedModel = 'mixed-native-only';
const chatOnlyModel = 'chat-only-native-only';

let gw: ScriptedGateway;
let native: ScriptedUpstream;
let openai: OpenAI;
const spans = new SpanRecorder();

beforeAll(async () => {
  native = await startScriptedUpstream();
  gw = await startScriptedGateway({ name: 'chatonly', models: [mixedModel, chatOnlyModel] }, [spans], {
    providers: [{ name: 'native', baseUrl: `${native.url}/v1`, models: [mixedModel], responsesApi: true }],
    env: { BREAKER_VOLUME_THRESHOLD: '1', BREAKER_ERROR_THRESHOLD_PERCENT: '1' },
  });
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw.close();
  await native.close();
});
beforeEach(() => {
  spans.clear();
});

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};
const webSearch = { type: 'web_search' as const };
const usage = { input_tokens: 5, output_tokens: 3, total_tokens: 8 };
const message = {
  id: 'msg_1',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text: 'Found it.', annotations: [] }],
};
const nativeResponse = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'resp_native',
  object: 'response',
  created_at: 1_700_000_000,
  model: mixedModel,
  status,
  output: [],
  ...extra,
});
const event = (type: string, fields: Record<string, unknown>): ScriptStep => ({
  afterMs: 0,
  event: type,
  data: { type, ...fields },
});

/** Whether either path of the chat-only upstream was last sent a body holding `marker`. */
const chatOnlyGot = (marker: string): boolean =>
  [CHAT, RESPONSES].some((path) => JSON.stringify(gw.upstream.lastBody(path) ?? {}).includes(marker));

/** The providers of the attempt spans ended so far. */
const attempted = (): unknown[] =>
  spans.spans.filter((span) => span.kind === SpanKind.CLIENT).map((span) => span.attributes['gen_ai.provider.name']);

/** Calls of `provider` in model health, after the write-behind recorder flushed. */
async function calls(provider: string): Promise<number> {
  await gw.gateway.recorder.flush();
  return (await gw.gateway.store.getModelHealth(provider, mixedModel))?.callCount ?? 0;
}

/** What `run` did to the chat-only provider: its attempts, calls in model health, and the failovers. */
async function untouched(run: () => Promise<void>): Promise<void> {
  const before = await gw.scrape();
  const callsBefore = await calls('chatonly');
  await run();
  // A stream's attempt is recorded as its relay ends, just after the client read the last event.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await gw.scrape();
  const delta = (name: string, labels: Record<string, string> = {}): number =>
    sampleSum(after, name, labels) - sampleSum(before, name, labels);
  expect(attempted()).toEqual(['native']);
  expect(delta('model_inference_requests_total', { provider: 'chatonly' })).toBe(0);
  expect(delta('model_inference_requests_total', { provider: 'native', status: 'success' })).toBe(1);
  expect(delta('gatewayz_failovers_total')).toBe(0);
  expect(await calls('chatonly')).toBe(callsBefore);
  expect(gw.gateway.router.breakerStates()).toEqual({ chatonly: 'closed', native: 'closed' });
}

describe('a request chat cannot carry, for a model with a chat-only provider and one with the Responses API', () => {
  it('goes to the provider with the Responses API with its built-in tool; the chat-only provider is left out', async () => {
    native.scriptJson(RESPONSES, nativeResponse('completed', { output: [message], usage }));
    const marker = 'built-in tool, JSON';
    await untouched(async () => {
      const response = await openai.responses.create({
        model: mixedModel,
        input: marker,
        tools: [weatherTool, webSearch],
      });
      expect(response.output_text).toBe('Found it.');
    });
    expect(native.lastBody(RESPONSES)).toMatchObject({ input: marker, tools: [weatherTool, webSearch] });
    expect(chatOnlyGot(marker)).toBe(false);
  });

  it('goes there with its log probabilities', async () => {
    for (const asked of [{ top_logprobs: 2 }, { include: ['message.output_text.logprobs' as const] }]) {
      spans.clear();
      native.scriptJson(RESPONSES, nativeResponse('completed', { output: [message], usage }));
      const marker = `log probabilities ${JSON.stringify(asked)}`;
      await untouched(async () => {
        const response = await openai.responses.create({ model: mixedModel, input: marker, ...asked });
        expect(response.output_text).toBe('Found it.');
      });
      expect(native.lastBody(RESPONSES)).toMatchObject({ input: marker, ...asked });
      expect(chatOnlyGot(marker)).toBe(false);
    }
  });

  it('streams from the provider with the Responses API', async () => {
    native.script(RESPONSES, [
      event('response.created', { sequence_number: 0, response: nativeResponse('in_progress') }),
      event('response.output_item.added', {
        sequence_number: 1,
        output_index: 0,
        item: { ...message, status: 'in_progress', content: [] },
      }),
      event('response.content_part.added', {
        sequence_number: 2,
        item_id: 'msg_1',
        output_index: 0,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      }),
      event('response.output_text.delta', {
        sequence_number: 3,
        item_id: 'msg_1',
        output_index: 0,
        content_index: 0,
        delta: 'Found it.',
      }),
      event('response.completed', {
        sequence_number: 4,
        response: nativeResponse('completed', { output: [message], usage }),
      }),
    ]);
    const marker = 'built-in tool, stream';
    await untouched(async () => {
      const stream = openai.responses.stream({ model: mixedModel, input: marker, tools: [webSearch] });
      expect((await stream.finalResponse()).output_text).toBe('Found it.');
    });
    expect(native.lastBody(RESPONSES)).toMatchObject({ input: marker, stream: true, tools: [webSearch] });
    expect(chatOnlyGot(marker)).toBe(false);
  });

  it('does not fail over to the chat-only provider when the provider with the Responses API fails', async () => {
    native.script(RESPONSES, [{ afterMs: 0, destroy: true }]);
    const marker = 'native provider fails';
    const error = await openai.responses
      .create({ model: mixedModel, input: marker, tools: [webSearch] })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 502, code: 'upstream_failed' });
    expect((error as Error).message).toContain('(native: network_error)');
    expect(attempted()).toEqual(['native']);
    expect(chatOnlyGot(marker)).toBe(false);
    expect(gw.gateway.router.breakerStates()['chatonly']).toBe('closed');
  });
});

describe('a request chat can carry, for the same model', () => {
  it('goes to the chat-only provider first, translated, function tools included', async () => {
    gw.upstream.scriptJson(CHAT, chatCompletionAnswer('chatcmpl-1', mixedModel, 'Sunny.', { prompt_tokens: 5 }));
    const marker = 'function tool';
    const response = await openai.responses.create({ model: mixedModel, input: marker, tools: [weatherTool] });
    expect(response.output_text).toBe('Sunny.');
    expect(attempted()).toEqual(['chatonly']);
    expect(gw.upstream.lastBody(CHAT)).toMatchObject({
      messages: [{ role: 'user', content: marker }],
      tools: [{ type: 'function', function: { name: 'get_weather' } }],
    });
    expect(JSON.stringify(native.lastBody(RESPONSES) ?? {})).not.toContain(marker);
  });
});

describe('a request chat cannot carry, for a model whose providers are all chat-only', () => {
  it('is answered 400 unsupported_parameter naming the tool or parameter and the providers, and sent nowhere', async () => {
    const cases = [
      { asked: { tools: [weatherTool, webSearch] }, param: 'tools[1].type', names: '"web_search"' },
      { asked: { top_logprobs: 2 }, param: 'top_logprobs', names: 'top_logprobs' },
      { asked: { include: ['message.output_text.logprobs' as const] }, param: 'include', names: 'logprobs' },
    ];
    for (const { asked, param, names } of cases) {
      const marker = `never sent ${param}`;
      const error = await openai.responses
        .create({ model: chatOnlyModel, input: marker, ...asked })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, code: 'unsupported_parameter', param });
      expect((error as Error).message).toContain(names);
      expect((error as Error).message).toContain(
        `\`${chatOnlyModel}\` is served by chatonly, which has no Responses API`,
      );
      expect(chatOnlyGot(marker)).toBe(false);
      expect(JSON.stringify(native.lastBody(RESPONSES) ?? {})).not.toContain(marker);
    }
    expect(attempted()).toEqual([]);
  });
});
