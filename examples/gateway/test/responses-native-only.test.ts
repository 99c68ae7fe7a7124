import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleSum, SpanRecorder, startGatewayFor } from './harness.js';
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

describe('a request chat cannot carry, when the providers with the Responses API are all unavailable', () => {
  /*
   * Model `r1`: chat-only providers ca and cb, healthy, and ra and rb with the Responses API, each
   * a path of one loopback upstream (`/{name}/v1/...`) answering as `answers` says (200 by default).
   * The errors must speak of the providers that can serve the request, not of the model as a whole,
   * which answers the same request without the built-in tool.
   */
  type Answer = 'rate_limited' | 'failing';
  const answers = new Map<string, Answer>();
  const sent = new Map<string, number>();
  let upstream: Server;
  let running: Awaited<ReturnType<typeof startGatewayFor>>;

  beforeEach(async () => {
    answers.clear();
    sent.clear();
    upstream = createServer((request, response) => {
      const [, provider = '', , path] = (request.url ?? '').split('/');
      sent.set(provider, (sent.get(provider) ?? 0) + 1);
      request.resume().on('end', () => {
        const answer = answers.get(provider);
        const json = (status: number, body: unknown, headers: Record<string, string> = {}): void =>
          void response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
        if (answer === 'rate_limited')
          json(429, { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } }, { 'retry-after': '30' });
        else if (answer === 'failing') json(500, { error: { message: 'Internal error', type: 'server_error' } });
        else if (path === 'responses')
          json(200, nativeResponse('completed', { model: 'r1', output: [message], usage }));
        else json(200, chatCompletionAnswer('chatcmpl-r1', 'r1', 'Sunny.', { prompt_tokens: 5 }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    running = await startGatewayFor(
      ['ca', 'cb', 'ra', 'rb'].map((name) => ({
        name,
        baseUrl: `${base}/${name}/v1`,
        models: ['r1'],
        ...(name.startsWith('r') ? { responsesApi: true } : {}),
      })),
      {
        BREAKER_VOLUME_THRESHOLD: '1',
        BREAKER_ERROR_THRESHOLD_PERCENT: '1',
        BREAKER_RESET_TIMEOUT_MS: '600000',
        ATTEMPT_TIMEOUT_MS: '5000',
      },
    );
  });
  afterEach(async () => {
    await running.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const withWebSearch = { model: 'r1', input: 'Find it.', tools: [webSearch] };
  const plain = { model: 'r1', input: 'Find it.' };
  const post = (body: unknown): Promise<Response> =>
    fetch(`${running.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const errorOf = async (response: Response): Promise<Record<string, unknown>> =>
    ((await response.json()) as { error: Record<string, unknown> }).error;
  const chatOnlySent = (): number => (sent.get('ca') ?? 0) + (sent.get('cb') ?? 0);
  const restriction = 'that can serve this request (with the Responses API, needed for `tools[0].type`)';

  it('answers 503 naming the restriction and only the breakers of ra and rb; r1 still answers without the tool', async () => {
    answers.set('ra', 'failing').set('rb', 'failing');
    expect((await post(withWebSearch)).status).toBe(502);
    expect(running.gateway.router.breakerStates()).toEqual({ ca: 'closed', cb: 'closed', ra: 'open', rb: 'open' });

    const refused = await post(withWebSearch);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(await errorOf(refused)).toMatchObject({
      message: `No provider of \`r1\` ${restriction} is available: the circuit breakers of ra, rb are open. Retry shortly.`,
      type: 'server_error',
      code: 'providers_unavailable',
    });
    expect(chatOnlySent()).toBe(0);

    const answered = await post(plain);
    expect(answered.status).toBe(200);
    expect(sent.get('ca')).toBe(1);

    // With every breaker open, a request without a filter is told of the model as before.
    answers.set('ca', 'failing').set('cb', 'failing');
    expect(await errorOf(await post(plain))).toMatchObject({
      message: 'All providers failed for `r1` (ca: error, cb: error)',
    });
    expect(await errorOf(await post(plain))).toMatchObject({
      message: 'No provider is available for `r1`: the circuit breakers of ca, cb, ra, rb are open. Retry shortly.',
    });
  });

  it('answers 429 naming the restriction when ra and rb are rate limited', async () => {
    answers.set('ra', 'rate_limited').set('rb', 'rate_limited');
    const limited = await post(withWebSearch);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(await errorOf(limited)).toMatchObject({
      message: `Every provider of \`r1\` ${restriction} is rate limited; retry later`,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
    });
    expect(chatOnlySent()).toBe(0);

    answers.set('ca', 'rate_limited').set('cb', 'rate_limited');
    expect(await errorOf(await post(plain))).toMatchObject({
      message: 'Every provider serving `r1` is rate limited; retry later',
    });
  });

  it('answers 502 naming the restriction when ra and rb fail', async () => {
    answers.set('ra', 'failing').set('rb', 'failing');
    const failed = await post(withWebSearch);
    expect(failed.status).toBe(502);
    expect(await errorOf(failed)).toMatchObject({
      message: `All providers of \`r1\` ${restriction} failed (ra: error, rb: error)`,
      type: 'server_error',
      code: 'upstream_failed',
    });
    expect(chatOnlySent()).toBe(0);
  });
});
