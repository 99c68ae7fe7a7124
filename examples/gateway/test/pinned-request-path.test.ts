import cluster from 'node:cluster';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiKeyRegistry, type ApiKeyAccount } from '../src/api-keys/api-key-registry.js';
import { SHARE_INTERVAL_MS, startApiKeyUsageExchange } from '../src/api-keys/cluster-usage.js';
import type { ApiKeysConfig } from '../src/api-keys/api-keys-file.js';
import type { ProviderConfig } from '../src/config.js';
import type { Gateway } from '../src/index.js';
import { imagePriceOf, pricedByTokens } from '../src/provider-pricing.js';
import { reportedFailure } from '../src/providers/stream-answer.js';
import { chatCompletionOf, imagesCompletionOf } from '../src/request/body-attempt.js';
import { completionEvents } from '../src/request/json-answer-stream.js';
import { StreamedChatOutput } from '../src/request/streamed-chat-output.js';
import { InFlightWork } from '../src/server/in-flight-work.js';
import { admitThroughPrimary, startFakeClusterWorker } from './fake-cluster-worker.js';
import { chatBody, sampleSum, startGatewayFor, startTestGateway, type TestGateway } from './harness.js';
import { startUpstream } from './misbehaving-upstream.js';
import { chatCompletionAnswer } from './scripted-upstream.js';

/*
 * The request path between the client and the providers: the request bodies the gateway takes,
 * a provider's 2xx JSON body to a stream request, the stream made of a JSON chat completion, the
 * content and finish reasons an attempt records, the image prices, the model label of a failed
 * embeddings request, the requests the Responses route refuses before routing, a cut after the
 * drain deadline and the spend a cluster primary tells after a dead worker's late release.
 */

const MODEL = 'pinned-path';

/** How one loopback provider answers every call. */
interface Answer {
  status: number;
  contentType: string;
  body: unknown;
}

interface Setup {
  url: string;
  gateway: Gateway;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

let setup: Setup | TestGateway | undefined;
afterEach(async () => {
  await setup?.close();
  setup = undefined;
});

/** The gateway in front of one provider `p` answering `answer`, with `config` (models and more) of its own. */
async function start(answer: Answer, config: Partial<ProviderConfig> = {}, apiKeys?: ApiKeysConfig): Promise<Setup> {
  const upstream = await startUpstream((_model, _stream, response) => {
    response.writeHead(answer.status, { 'content-type': answer.contentType }).end(JSON.stringify(answer.body));
  });
  const running = await startGatewayFor(
    [{ name: 'p', baseUrl: upstream.baseUrl, models: [MODEL], ...config }],
    { ATTEMPT_TIMEOUT_MS: '5000', BREAKER_VOLUME_THRESHOLD: '1000' },
    apiKeys !== undefined ? { apiKeys } : {},
  );
  const started: Setup = {
    url: running.url,
    gateway: running.gateway,
    scrape: async () => (await fetch(`${running.url}/metrics`)).text(),
    close: async () => {
      await running.close();
      await upstream.close();
    },
  };
  setup = started;
  return started;
}

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const chatCompletion = chatCompletionAnswer('chatcmpl-1', MODEL, 'Hi', {
  prompt_tokens: 3,
  completion_tokens: 1,
  total_tokens: 4,
});

/** The `data:` payloads of an SSE text, parsed (but `[DONE]`). */
const events = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n\n')
    .filter((event) => event.startsWith('data: ') && event !== 'data: [DONE]')
    .map((event) => JSON.parse(event.slice(6)) as Record<string, unknown>);

describe('the request body the gateway takes', () => {
  it('takes a body of exactly MAX_BODY_BYTES with its Content-Length', async () => {
    const running = await startTestGateway({ env: { MAX_BODY_BYTES: '2048' } });
    setup = running;
    const empty = JSON.stringify(chatBody('gpt-4o', { user: '' }));
    const body = JSON.stringify(chatBody('gpt-4o', { user: 'x'.repeat(2048 - Buffer.byteLength(empty)) }));
    expect(Buffer.byteLength(body)).toBe(2048);
    expect((await running.post('/v1/chat/completions', body)).status).toBe(200);
    expect((await running.post('/v1/chat/completions', `${body} `)).status).toBe(413);
  });

  it('takes a JSON media type with a +json suffix', async () => {
    const running = await startTestGateway();
    setup = running;
    const answered = await running.post('/v1/chat/completions', chatBody('gpt-4o'), {
      'content-type': 'application/vnd.api+json',
    });
    expect(answered.status).toBe(200);
  });
});

describe("a provider's 2xx JSON body to a request for a stream", () => {
  it('serves a chat completion sent as a +json media type as the chat stream', async () => {
    const running = await start({ status: 200, contentType: 'application/vnd.example+json', body: chatCompletion });
    const answered = await post(running.url, '/v1/chat/completions', chatBody(MODEL, { stream: true }));
    expect(answered.status).toBe(200);
    expect(answered.headers.get('content-type')).toContain('text/event-stream');
    const text = await answered.text();
    expect(events(text).map((event) => (event['choices'] as Array<{ delta: unknown }>)[0]?.delta)).toEqual([
      { role: 'assistant', content: 'Hi' },
      {},
    ]);
  });

  it('passes a client error reported in a +json body to a native Responses stream back with its status', async () => {
    const error = { code: 400, message: 'input is invalid', type: 'invalid_request_error' };
    const running = await start(
      { status: 200, contentType: 'application/problem+json', body: { error } },
      { responsesApi: true },
    );
    const answered = await post(running.url, '/v1/responses', { model: MODEL, input: 'hi', stream: true });
    expect(answered.status).toBe(400);
  });

  it('says a Response body to a native Responses stream request does not stream (model health)', async () => {
    const response = { id: 'resp_1', object: 'response', status: 'completed', output: [] };
    const running = await start(
      { status: 200, contentType: 'application/json', body: response },
      { responsesApi: true },
    );
    const answered = await post(running.url, '/v1/responses', { model: MODEL, input: 'hi', stream: true });
    expect(answered.status).toBe(502);
    await running.gateway.recorder.flush();
    const health = await running.gateway.store.getModelHealth('p', MODEL);
    expect(health?.lastErrorMessage).toBe('Upstream answered a stream request with a JSON body (it does not stream)');
  });
});

describe('the stream made of a JSON chat completion (completionEvents)', () => {
  const choicesOf = (text: string): unknown[] => events(text).map((event) => event['choices']);

  it('streams the choices in index order, whatever their order in the completion', () => {
    const text = completionEvents(
      {
        id: 'c1',
        choices: [
          { index: 1, message: { role: 'assistant', content: 'B' }, finish_reason: 'stop' },
          { index: 0, message: { role: 'assistant', content: 'A' }, finish_reason: 'length' },
        ],
      },
      false,
    );
    expect(choicesOf(text)).toEqual([
      [{ index: 0, delta: { role: 'assistant', content: 'A' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }],
      [{ index: 1, delta: { role: 'assistant', content: 'B' }, logprobs: null, finish_reason: null }],
      [{ index: 1, delta: {}, logprobs: null, finish_reason: 'stop' }],
    ]);
  });

  it('puts the logprobs on the text only, not also on a refusal beside it', () => {
    const logprobs = { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }] };
    const text = completionEvents(
      {
        id: 'c1',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Hi', refusal: 'No' }, logprobs, finish_reason: 'stop' },
        ],
      },
      false,
    );
    expect(choicesOf(text)).toEqual([
      [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, logprobs, finish_reason: null }],
      [{ index: 0, delta: { refusal: 'No' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
    ]);
  });

  it('streams tool call arguments sent as a JSON object as their JSON text', () => {
    const call = { id: 'call_1', type: 'function', function: { name: 'weather', arguments: { city: 'Paris' } } };
    const text = completionEvents(
      { id: 'c1', choices: [{ index: 0, message: { role: 'assistant', tool_calls: [call] } }] },
      false,
    );
    expect(choicesOf(text)).toEqual([
      [
        {
          index: 0,
          delta: {
            role: 'assistant',
            tool_calls: [
              {
                index: 0,
                id: 'call_1',
                type: 'function',
                function: { name: 'weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          logprobs: null,
          finish_reason: null,
        },
      ],
    ]);
  });
});

describe('what an attempt records of its answer', () => {
  it('puts together a tool call name streamed in pieces (content capture)', () => {
    const output = new StreamedChatOutput(undefined);
    const call = (fn: Record<string, unknown>, id?: string) => ({
      choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...(id !== undefined ? { id } : {}), function: fn }] } }],
    });
    output.add(call({ name: 'get_', arguments: '{"city":' }, 'call_1'));
    output.add(call({ name: 'weather', arguments: '"Paris"}' }));
    output.add({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] });
    expect(output.messages()).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }],
        finish_reason: 'tool_call',
      },
    ]);
  });

  it("gives a JSON completion's finish reasons in choice index order", () => {
    const completion = chatCompletionOf({
      choices: [
        { index: 1, message: { role: 'assistant', content: 'B' }, finish_reason: 'length' },
        { index: 0, message: { role: 'assistant', content: 'A' }, finish_reason: 'stop' },
      ],
    });
    expect(completion).toEqual({ status: 'success', finishReasons: ['stop', 'length'] });
  });

  const usage = { prompt_tokens: 10, completion_tokens: 0, total_tokens: 10 };
  const imageProvider = (price: Record<string, number>): ProviderConfig => ({
    name: 'images',
    baseUrl: 'http://127.0.0.1:9/v1',
    models: [],
    imageModels: ['img'],
    pricing: { img: price },
  });

  it('prices the images of an answer with usage at a provider that prices the model per image only', () => {
    const completion = imagesCompletionOf(imageProvider({ perImage: 0.04 }), 'img', { data: [{}, {}], usage }, {});
    expect(completion).toEqual({
      status: 'success',
      usage: { inputTokens: 10, outputTokens: 0 },
      images: 2,
    });
  });

  it('prices by tokens a model with an output price only', () => {
    const provider = imageProvider({ outputPerMillionTokens: 40, perImage: 0.04 });
    expect(pricedByTokens(provider, 'img')).toBe(true);
    expect(imagesCompletionOf(provider, 'img', { data: [{}], usage }, {})).toEqual({
      status: 'success',
      usage: { inputTokens: 10, outputTokens: 0 },
    });
  });

  it('reads a quality left out as auto for a table pricing a GPT image quality, though it lists standard too', () => {
    expect(imagePriceOf({ '1024x1024': { standard: 0.04, high: 0.17 } }, { size: '1024x1024' })).toBe(0.17);
  });
});

describe('an error reported in a 2xx answer with an empty message', () => {
  it('says the upstream reported an error', () => {
    expect(reportedFailure({ message: '' }, undefined, undefined).message).toBe('The upstream reported an error');
    expect(reportedFailure({ code: 400, message: '' }, undefined, undefined).message).toBe(
      'Upstream reported error 400 in a 2xx answer: The upstream reported an error',
    );
  });
});

describe('a failed embeddings request', () => {
  it('is recorded under its embeddings model, which some provider is configured with', async () => {
    const running = await start(
      { status: 500, contentType: 'application/json', body: { error: { message: 'boom' } } },
      { models: [], embeddingModels: ['emb-1'] },
    );
    const answered = await post(running.url, '/v1/embeddings', { model: 'emb-1', input: 'hi' });
    expect(answered.status).toBe(502);
    const text = await running.scrape();
    expect(sampleSum(text, 'gen_ai_server_request_duration_count', { gen_ai_request_model: 'emb-1' })).toBe(1);
    expect(sampleSum(text, 'gen_ai_server_request_duration_count', { gen_ai_request_model: '_OTHER' })).toBe(0);
  });
});

describe('a Responses request chat cannot carry, for a model whose providers are all chat-only', () => {
  it('is answered 400 before routing: no GenAI server request is recorded', async () => {
    const running = await start({ status: 200, contentType: 'application/json', body: chatCompletion });
    const answered = await post(running.url, '/v1/responses', {
      model: MODEL,
      input: 'hi',
      tools: [{ type: 'web_search' }],
    });
    expect(answered.status).toBe(400);
    expect(sampleSum(await running.scrape(), 'gen_ai_server_request_duration_count')).toBe(0);
  });
});

describe('a native Responses request of a key with a budget', () => {
  it('is held for its max_output_tokens, not the default output bound', async () => {
    const response = {
      id: 'resp_1',
      object: 'response',
      status: 'completed',
      model: MODEL,
      output: [
        {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Hi', annotations: [] }],
        },
      ],
      usage: { input_tokens: 5, output_tokens: 1, total_tokens: 6 },
    };
    // 1,000 USD per million output tokens: 16 tokens may cost 0.016 USD, the default 4,096 tokens 4.096 USD.
    const running = await start(
      { status: 200, contentType: 'application/json', body: response },
      { responsesApi: true, pricing: { [MODEL]: { inputPerMillionTokens: 0, outputPerMillionTokens: 1000 } } },
      { keys: [{ name: 'capped', key: 'gwz-pinned-path', plan: 'paid', budgetUsd: 1 }], required: true },
    );
    const answered = await post(
      running.url,
      '/v1/responses',
      { model: MODEL, input: 'hi', tools: [{ type: 'web_search' }], max_output_tokens: 16 },
      { authorization: 'Bearer gwz-pinned-path' },
    );
    expect(answered.status).toBe(200);
  });
});

describe("a request that starts after shutdown's drain deadline passed", () => {
  it('is cut at once', () => {
    const inFlight = new InFlightWork();
    inFlight.markCut();
    let cuts = 0;
    inFlight.whenCut(() => cuts++);
    expect(cuts).toBe(1);
  });
});

describe('a release from a worker that exited, its channel still open', () => {
  const BUDGET_USD = 0.4;
  const IMAGE_USD = 0.04;
  const stops: Array<() => void> = [];
  beforeEach(() => {
    vi.useFakeTimers();
    stops.push(startApiKeyUsageExchange());
  });
  afterEach(() => {
    for (const stop of stops.splice(0).reverse()) stop();
    vi.useRealTimers();
  });

  function startWorker(id: number) {
    const registry = new ApiKeyRegistry({
      config: {
        keys: [{ name: 'images', key: `gwz-pinned-path-${id}`, plan: 'paid', budgetUsd: BUDGET_USD }],
        required: true,
      },
      telemetry: new GatewayTelemetry({ exportVia: 'producer' }),
    });
    const started = startFakeClusterWorker(id, registry);
    stops.push(started.stop);
    return { ...started, registry, account: registry.account('images') as ApiKeyAccount };
  }
  /** Let the usage batches of workers and primary go out and arrive. */
  async function share(): Promise<void> {
    await vi.advanceTimersByTimeAsync(2 * SHARE_INTERVAL_MS);
  }

  it('tells the other workers the hold it ends, though the spend it tells is unchanged', async () => {
    const killed = startWorker(71);
    const other = startWorker(72);
    await share();
    expect(await admitThroughPrimary(killed, IMAGE_USD)).toBeDefined();
    expect(await admitThroughPrimary(killed, IMAGE_USD)).toBeDefined();
    // Killed: node:cluster reports the exit before the channel closes.
    cluster.emit('exit', killed.worker, null, 'SIGKILL');
    await share();
    expect(other.account.spentUsd).toBeCloseTo(2 * IMAGE_USD, 15);
    // The first request failed and cost nothing: its release, still in the channel, tells a spend of 0.
    cluster.emit('message', killed.worker, {
      tag: 'gatewayz-example-api-key-holds',
      kind: 'release',
      id: 1,
      name: 'images',
      spentUsd: 0,
    });
    await share();
    expect(other.account.spentUsd).toBeCloseTo(IMAGE_USD, 15);
  });
});
