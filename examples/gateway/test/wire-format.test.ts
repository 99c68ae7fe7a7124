import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProvidersFile } from '../src/index.js';
import { SpanRecorder, sampleSum, startTestGateway, type TestGateway } from './harness.js';

/*
 * What goes over the wire, event by event, where the official SDKs are forgiving: Anthropic and
 * Responses stream events, OpenAI's include_usage rule, mid-stream errors, the GenAI spans of the
 * new endpoints, and the 400s of the Responses API features the gateway does not keep.
 */

let gw: TestGateway;
const recorder = new SpanRecorder();

beforeAll(async () => {
  gw = await startTestGateway({ spanProcessors: [recorder] });
});
afterAll(async () => {
  await gw.close();
});
beforeEach(() => {
  recorder.clear();
});
afterEach(() => {
  for (const provider of gw.demo.simulated)
    provider.configure({ errorRate: 0, latencyMs: 0, failureMode: 'error', chunkDelayMs: 0, usageInEveryChunk: false });
});

interface SseEvent {
  event?: string;
  data: string;
}

async function events(response: Response): Promise<SseEvent[]> {
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  return (await response.text())
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const name = lines.find((line) => line.startsWith('event: '))?.slice(7);
      const data = lines.find((line) => line.startsWith('data: '))?.slice(6) ?? '';
      return { ...(name !== undefined ? { event: name } : {}), data };
    });
}

/** What the gateway tells the client when the upstream connection drops mid-stream (simulated `cut`). */
const CUT_MESSAGE = 'Upstream connection failed during the stream';

const json = (event: SseEvent | undefined): Record<string, any> => JSON.parse(event?.data ?? 'null');

describe('Anthropic Messages stream', () => {
  const request = {
    model: 'claude-3-5-haiku',
    max_tokens: 64,
    stream: true,
    messages: [{ role: 'user', content: 'Hi' }],
  };

  it('sends message_start, content_block_start, ping, deltas, and a message_delta with cumulative usage', async () => {
    const received = await events(await gw.post('/v1/messages', request));
    const names = received.map((event) => event.event);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.slice(3, -3).every((name) => name === 'content_block_delta')).toBe(true);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(received.every((event) => json(event).type === event.event)).toBe(true);
    expect(json(received.at(-2))).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 12 },
    });
  });

  it('carries the input tokens in message_start when the upstream reports them from its first chunk', async () => {
    for (const provider of gw.demo.simulated) provider.configure({ usageInEveryChunk: true });
    const prompt = 'A prompt of forty characters, give or take';
    const received = await events(
      await gw.post('/v1/messages', { ...request, messages: [{ role: 'user', content: prompt }] }),
    );
    expect(json(received[0]).message.usage).toEqual({
      input_tokens: Math.ceil(prompt.length / 4),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 0,
    });
  });

  it('ends a stream the upstream cut with an error event in Anthropic shape', async () => {
    for (const provider of gw.demo.simulated) provider.configure({ errorRate: 1, failureMode: 'cut' });
    const received = await events(await gw.post('/v1/messages', request));
    expect(received.at(-1)?.event).toBe('error');
    expect(json(received.at(-1))).toEqual({
      type: 'error',
      error: { type: 'api_error', message: CUT_MESSAGE },
    });
  });

  it('answers a request error in Anthropic shape', async () => {
    const response = await gw.post('/v1/messages', {
      model: 'nope',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });
});

describe('OpenAI chat stream', () => {
  const request = { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Hi' }] };

  it('sends no usage field unless include_usage, even when the upstream sends usage in every chunk', async () => {
    for (const provider of gw.demo.simulated) provider.configure({ usageInEveryChunk: true });
    const received = await events(await gw.post('/v1/chat/completions', request));
    expect(received.at(-1)?.data).toBe('[DONE]');
    expect(received.slice(0, -1).every((event) => !('usage' in json(event)))).toBe(true);
  });

  it('with include_usage, ends with one usage chunk whose choices are empty', async () => {
    const received = await events(
      await gw.post('/v1/chat/completions', { ...request, stream_options: { include_usage: true } }),
    );
    const chunks = received.slice(0, -1).map(json);
    expect(chunks.filter((chunk) => chunk.usage)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({
      object: 'chat.completion.chunk',
      choices: [],
      usage: { completion_tokens: 12 },
    });
  });

  it('sends a failure midway in OpenAI error shape', async () => {
    gw.provider('openai').configure({ errorRate: 1, failureMode: 'cut' });
    const received = await events(await gw.post('/v1/chat/completions', request));
    expect(json(received.at(-1))).toEqual({
      error: {
        message: CUT_MESSAGE,
        type: 'server_error',
        param: null,
        code: 'network_error',
      },
    });
  });
});

describe('Responses API', () => {
  it('streams typed events with consecutive sequence numbers, each named by its type', async () => {
    for (const model of ['gpt-4o', 'claude-3-5-sonnet']) {
      const received = await events(await gw.post('/v1/responses', { model, input: 'Hi', stream: true }));
      expect(received.map((event) => json(event).sequence_number)).toEqual(received.map((_, index) => index));
      expect(received.every((event) => json(event).type === event.event)).toBe(true);
      expect(received.at(-1)?.event).toBe('response.completed');
      expect(json(received[0]).response).toMatchObject({ object: 'response', status: 'in_progress', usage: null });
    }
  });

  it('ends a translated stream the upstream cut with response.failed and an error event', async () => {
    gw.provider('anthropic').configure({ errorRate: 1, failureMode: 'cut' });
    const received = await events(
      await gw.post('/v1/responses', { model: 'claude-3-5-sonnet', input: 'Hi', stream: true }),
    );
    expect(received.slice(-2).map((event) => event.event)).toEqual(['response.failed', 'error']);
    expect(json(received.at(-2)).response).toMatchObject({
      status: 'failed',
      error: { code: 'server_error', message: CUT_MESSAGE },
    });
    expect(json(received.at(-1))).toMatchObject({
      type: 'error',
      code: 'server_error',
      message: CUT_MESSAGE,
      param: null,
      error: { type: 'server_error', code: 'network_error' },
    });
  });

  it('ends a relayed Responses API stream the upstream cut with an error event that continues its sequence', async () => {
    gw.provider('openai').configure({ errorRate: 1, failureMode: 'cut' });
    const before = await gw.scrape();
    const received = await events(await gw.post('/v1/responses', { model: 'gpt-4o', input: 'Hi', stream: true }));
    expect(received.map((event) => json(event).sequence_number)).toEqual(received.map((_, index) => index));
    expect(received.filter((event) => event.event === 'response.output_text.delta')).toHaveLength(2);
    expect(received.at(-1)?.event).toBe('error');
    expect(json(received.at(-1))).toMatchObject({ message: CUT_MESSAGE, error: { code: 'network_error' } });
    const after = await gw.scrape();
    const labels = { provider: 'openai', model: 'gpt-4o', status: 'network_error' };
    expect(sampleSum(after, 'model_inference_requests_total', labels)).toBe(
      sampleSum(before, 'model_inference_requests_total', labels) + 1,
    );
  });

  it('refuses previous_response_id, conversation and store: true with a 400 in OpenAI error shape', async () => {
    for (const [param, value] of [
      ['previous_response_id', 'resp_1'],
      ['conversation', 'conv_1'],
      ['store', true],
    ] as const) {
      const response = await gw.post('/v1/responses', { model: 'gpt-4o', input: 'Hi', [param]: value });
      expect(response.status).toBe(400);
      const { error } = await response.json();
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param });
      expect(error.message).toContain('not supported');
    }
    expect((await gw.post('/v1/responses', { model: 'gpt-4o', input: 'Hi', store: false })).status).toBe(200);
  });

  it('reads text.format null as plain text, and answers a text or format that is no object 400 (not 500)', async () => {
    // claude-3-5-haiku: a provider without the Responses API, so the request is translated.
    const plain = await gw.post('/v1/responses', { model: 'claude-3-5-haiku', input: 'Hi', text: { format: null } });
    expect(plain.status).toBe(200);
    for (const [text, param] of [
      ['json', 'text'],
      [{ format: 'json' }, 'text.format'],
    ] as const) {
      const response = await gw.post('/v1/responses', { model: 'claude-3-5-haiku', input: 'Hi', text });
      expect(response.status, JSON.stringify(text)).toBe(400);
      expect((await response.json()).error).toMatchObject({ type: 'invalid_request_error', param });
    }
  });

  it('traces a response like a chat completion: GenAI operation chat, usage on the attempt span', async () => {
    const body = await (await gw.post('/v1/responses', { model: 'claude-3-5-sonnet', input: 'Hi' })).json();
    const attempt = recorder.spans.find((span) => span.attributes['gen_ai.operation.name'] !== undefined);
    expect(attempt?.name).toBe('chat claude-3-5-sonnet');
    expect(attempt?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.usage.input_tokens': body.usage.input_tokens,
      'gen_ai.usage.output_tokens': body.usage.output_tokens,
    });
  });
});

describe('Embeddings', () => {
  it('traces with the GenAI operation embeddings and input tokens only', async () => {
    const body = await (await gw.post('/v1/embeddings', { model: 'text-embedding-3-small', input: 'trace me' })).json();
    const attempt = recorder.spans.find((span) => span.attributes['gen_ai.operation.name'] !== undefined);
    expect(attempt?.name).toBe('embeddings text-embedding-3-small');
    expect(attempt?.attributes['gen_ai.usage.input_tokens']).toBe(body.usage.prompt_tokens);
    expect(attempt?.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
  });

  it('answers 404 for a model no provider embeds with', async () => {
    const response = await gw.post('/v1/embeddings', { model: 'gpt-4o', input: 'x' });
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe('model_not_found');
  });
});

describe('providers file', () => {
  const directories: string[] = [];
  afterAll(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });
  const file = (providers: unknown): string => {
    const directory = mkdtempSync(join(tmpdir(), 'providers-'));
    directories.push(directory);
    const path = join(directory, 'providers.json');
    writeFileSync(path, JSON.stringify(providers));
    return path;
  };
  const base = { name: 'acme', baseUrl: 'https://api.acme.example/v1', models: ['acme-large'] };

  it('reads responsesApi and embeddingModels, off and empty by default', () => {
    const [native] = loadProvidersFile(file([{ ...base, responsesApi: true, embeddingModels: ['acme-embed'] }]), {});
    expect(native).toMatchObject({ responsesApi: true, embeddingModels: ['acme-embed'] });
    expect(loadProvidersFile(file([base]), {})[0]).toMatchObject({ responsesApi: false, embeddingModels: [] });
  });

  it('rejects a responsesApi that is not a boolean, naming the field', () => {
    expect(() => loadProvidersFile(file([{ ...base, responsesApi: 'yes' }]), {})).toThrow(
      /provider 0: "responsesApi" must be true or false/,
    );
  });
});
