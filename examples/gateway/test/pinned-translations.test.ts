import { SpanKind } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SpanRecorder, startGatewayFor } from './harness.js';
import { startScriptedGateway, type ScriptedGateway } from './scripted-upstream.js';

/*
 * How the gateway translates a chat completions upstream for its other APIs, field by field:
 * Anthropic's errors, stop reasons and usage on /v1/messages, a Response's status, completion
 * time and usage on /v1/responses, and what the attempt span says of a streamed answer of two
 * choices. The upstream is scripted (scripted-upstream.ts); the gateway runs in this process.
 */

const MODEL = 'sm-1';
/** Usage with cache reads and writes and reasoning, as OpenRouter reports it. */
const USAGE = {
  prompt_tokens: 100,
  completion_tokens: 20,
  total_tokens: 120,
  prompt_tokens_details: { cached_tokens: 30, cache_write_tokens: 10 },
  completion_tokens_details: { reasoning_tokens: 7 },
};

const chunk = (id: string, index: number, delta: Record<string, unknown>, finish: string | null = null) => ({
  id,
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: MODEL,
  choices: [{ index, delta, finish_reason: finish }],
});

const completion = (message: Record<string, unknown>, finishReason: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: MODEL,
  choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
  usage: USAGE,
});

async function post(url: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

const messagesBody = (stream: boolean) => ({
  model: MODEL,
  max_tokens: 50,
  stream,
  messages: [{ role: 'user', content: 'hi' }],
});

describe('Anthropic clients (/v1/messages)', () => {
  let gw: ScriptedGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('get overloaded_error when the upstream stream goes idle past STREAM_IDLE_TIMEOUT_MS', async () => {
    gw = await startScriptedGateway({ name: 'p', models: [MODEL] }, [], { env: { STREAM_IDLE_TIMEOUT_MS: '300' } });
    gw.upstream.script('/v1/chat/completions', [
      { afterMs: 0, data: chunk('chatcmpl-9', 0, { role: 'assistant', content: 'Hel' }) },
      { afterMs: 5000, data: '[DONE]' },
    ]);
    const answer = await post(gw.url, '/v1/messages', messagesBody(true));
    expect(answer.status).toBe(200);
    const errors = answer.text
      .split('\n')
      .filter((line) => line.startsWith('data: ') && line.includes('"type":"error"'))
      .map((line) => JSON.parse(line.slice('data: '.length)) as { error: { type: string } });
    expect(errors.map((event) => event.error.type)).toEqual(['overloaded_error']);
  });

  it('keep the content of a reply that has a refusal too, which ends as end_turn', async () => {
    gw = await startScriptedGateway({ name: 'p', models: [MODEL] });
    gw.upstream.scriptJson(
      '/v1/chat/completions',
      completion({ content: 'Partial answer', refusal: 'also refused' }, 'stop'),
    );
    const answer = await post(gw.url, '/v1/messages', messagesBody(false));
    expect(answer.status).toBe(200);
    const message = JSON.parse(answer.text) as Record<string, unknown>;
    expect(message['content']).toEqual([{ type: 'text', text: 'Partial answer' }]);
    expect(message['stop_reason']).toBe('end_turn');
  });

  it('get input_tokens without the cache reads and writes, which Anthropic counts beside it', async () => {
    gw = await startScriptedGateway({ name: 'p', models: [MODEL] });
    gw.upstream.scriptJson('/v1/chat/completions', completion({ content: 'Hi' }, 'stop'));
    const answer = await post(gw.url, '/v1/messages', messagesBody(false));
    expect((JSON.parse(answer.text) as Record<string, unknown>)['usage']).toEqual({
      input_tokens: 60,
      cache_creation_input_tokens: 10,
      cache_read_input_tokens: 30,
      output_tokens: 20,
    });
  });

  it('get request_too_large for a body past MAX_BODY_BYTES (413)', async () => {
    const running = await startGatewayFor([{ name: 'p', baseUrl: 'http://127.0.0.1:9/v1', models: [MODEL] }], {
      MAX_BODY_BYTES: '1024',
    });
    try {
      const body = { ...messagesBody(false), messages: [{ role: 'user', content: 'x'.repeat(5000) }] };
      const answer = await post(running.url, '/v1/messages', body);
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text)).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    } finally {
      await running.close();
    }
  });
});

describe('Responses clients (/v1/responses)', () => {
  let gw: ScriptedGateway;
  beforeAll(async () => {
    gw = await startScriptedGateway({ name: 'p', models: [MODEL] });
  });
  afterAll(() => gw.close());

  async function respond(finishReason: string): Promise<Record<string, unknown>> {
    gw.upstream.scriptJson('/v1/chat/completions', completion({ content: 'Hi' }, finishReason));
    const answer = await post(gw.url, '/v1/responses', { model: MODEL, input: 'hi' });
    expect(answer.status).toBe(200);
    return JSON.parse(answer.text) as Record<string, unknown>;
  }

  it('get an incomplete response, for content_filter, with no completion time', async () => {
    const response = await respond('content_filter');
    expect(response['status']).toBe('incomplete');
    expect(response['incomplete_details']).toEqual({ reason: 'content_filter' });
    expect(response['completed_at']).toBeNull();
  });

  it('get no completion time for a response cut at its output limit, and one for a completed response', async () => {
    const cut = await respond('length');
    expect(cut['status']).toBe('incomplete');
    expect(cut['completed_at']).toBeNull();
    const completed = await respond('stop');
    expect(completed['status']).toBe('completed');
    expect(completed['completed_at']).toEqual(expect.any(Number));
  });

  it('get the reasoning tokens and cache writes of the usage', async () => {
    const response = await respond('stop');
    expect(response['usage']).toEqual({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 30, cache_write_tokens: 10 },
      output_tokens: 20,
      output_tokens_details: { reasoning_tokens: 7 },
      total_tokens: 120,
    });
  });
});

describe('the attempt span of a stream of two choices (n=2)', () => {
  it('has the finish reasons in choice order and the id of the first chunk, whatever the order they came in', async () => {
    const recorder = new SpanRecorder();
    const gw = await startScriptedGateway({ name: 'p', models: [MODEL] }, [recorder]);
    try {
      // Choice 1 finishes before choice 0, and the upstream changes the id midway.
      gw.upstream.script('/v1/chat/completions', [
        { afterMs: 0, data: chunk('chatcmpl-A', 0, { role: 'assistant', content: 'a' }) },
        { afterMs: 0, data: chunk('chatcmpl-A', 1, { role: 'assistant', content: 'b' }) },
        { afterMs: 0, data: chunk('chatcmpl-B', 1, {}, 'length') },
        { afterMs: 0, data: chunk('chatcmpl-B', 0, {}, 'stop') },
        { afterMs: 0, data: '[DONE]' },
      ]);
      const body = { model: MODEL, n: 2, stream: true, messages: [{ role: 'user', content: 'hi' }] };
      expect((await post(gw.url, '/v1/chat/completions', body)).status).toBe(200);
      const span = await vi.waitFor(() => {
        const found = recorder.spans.find((recorded) => recorded.kind === SpanKind.CLIENT);
        if (found === undefined) throw new Error('no attempt span yet');
        return found;
      });
      expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['stop', 'length']);
      expect(span.attributes['gen_ai.response.id']).toBe('chatcmpl-A');
    } finally {
      await gw.close();
    }
  });
});
