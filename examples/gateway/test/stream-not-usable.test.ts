import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSum } from './harness.js';
import {
  MISBEHAVIOURS,
  post,
  startGoodUpstream,
  startLoggedGateway,
  startMisbehavingUpstream,
  type LoggedGateway,
  type LoopbackUpstream,
} from './misbehaving-upstream.js';

/*
 * A 2xx to a request for a stream is not yet a stream. The gateway used to count a streamed attempt
 * as opened once the upstream's headers arrived and answered its client 200 before reading an
 * event, so a provider that answered an HTML page or a gzip-encoded stream, or opened with an error
 * event (an overloaded OpenRouter) was relayed as a 200 whose stream carried only an error, and no
 * other provider was tried. Now the attempt opens with the upstream's first sound event: before it,
 * any of these fails the attempt, the next provider is tried, and with none left the client gets an
 * error status. A provider that ignored `stream: true` and answered a JSON chat completion has
 * answered: its completion is served as a stream (json-answer-stream.test.ts has the details).
 */

const { json, html, gzip, encodingNone, textPlain, errorFirst, clientErrorFirst, silent } = MISBEHAVIOURS;
const MODELS = [json, html, gzip, encodingNone, textPlain, errorFirst, clientErrorFirst, silent, 'good'];
const IDLE_TIMEOUT_MS = 300;

const chat = (model: string): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'hi' }],
  stream: true,
});

let odd: LoopbackUpstream;
let backup: LoopbackUpstream;
/** The misbehaving provider first, a healthy one after it. */
let withBackup: LoggedGateway;
/** The misbehaving provider alone. */
let alone: LoggedGateway;

beforeAll(async () => {
  odd = await startMisbehavingUpstream();
  backup = await startGoodUpstream();
  const env = { BREAKER_VOLUME_THRESHOLD: '1000', STREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) };
  withBackup = await startLoggedGateway(
    [
      { name: 'odd', baseUrl: odd.baseUrl, models: MODELS },
      { name: 'backup', baseUrl: backup.baseUrl, models: MODELS },
    ],
    env,
  );
  alone = await startLoggedGateway([{ name: 'odd', baseUrl: odd.baseUrl, models: MODELS }], env);
});
afterAll(async () => {
  await withBackup.close();
  await alone.close();
  await odd.close();
  await backup.close();
});

describe('a 2xx to a stream request that is not a usable stream', () => {
  it.each([
    ['an HTML page', html, 'invalid_response'],
    ['a gzip-encoded stream', gzip, 'invalid_response'],
    ['an error as the first event', errorFirst, '502'],
    ['headers and then silence', silent, 'timeout'],
  ])('fails over to the next provider: %s', async (_what, model, errorType) => {
    const before = backup.received.get(model) ?? 0;
    const answer = await post(withBackup.url, '/v1/chat/completions', chat(model));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const text = await answer.text();
    expect(text).toContain('from backup');
    expect(text).not.toContain('"error"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(backup.received.get(model)).toBe(before + 1);
    const metrics = await withBackup.scrape();
    expect(sampleSum(metrics, 'model_inference_requests_total', { provider: 'odd', model, status: 'error' })).toBe(
      errorType === 'timeout' ? 0 : 1,
    );
    expect(
      sampleSum(metrics, 'gen_ai_client_operation_duration_count', {
        gen_ai_request_model: model,
        error_type: errorType,
      }),
    ).toBe(1);
  });

  it('serves a JSON completion that ignored stream: true as a stream, recording its usage once, without failing over', async () => {
    const answer = await post(withBackup.url, '/v1/chat/completions', chat(json));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const text = await answer.text();
    expect(text).toContain('"content":"json"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(backup.received.get(json)).toBeUndefined();
    const metrics = await withBackup.scrape();
    const tokens = (type: string): number =>
      sampleSum(metrics, 'tokens_used_total', { provider: 'odd', model: json, token_type: type });
    expect([tokens('input'), tokens('output')]).toEqual([10, 5]);
    expect(
      sampleSum(metrics, 'model_inference_requests_total', { provider: 'odd', model: json, status: 'success' }),
    ).toBe(1);
    expect(
      sampleSum(metrics, 'model_inference_requests_total', { provider: 'odd', model: json, status: 'error' }),
    ).toBe(0);
    expect(withBackup.lines).toContainEqual(
      expect.objectContaining({
        level: 'debug',
        msg: 'provider answered a stream request with a JSON chat completion, served as a stream',
        provider: 'odd',
        model: json,
      }),
    );
  });

  it("passes an error for the client's own request back to it, without failing over", async () => {
    const answer = await post(withBackup.url, '/v1/chat/completions', chat(clientErrorFirst));
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ error: { message: 'prompt too long for this model' } });
    expect(backup.received.get(clientErrorFirst)).toBeUndefined();
  });

  it.each([
    ['an HTML page', html, 502],
    ['a gzip-encoded stream', gzip, 502],
    ['an error as the first event', errorFirst, 502],
    ['headers and then silence', silent, 502],
    ["an error for the client's request", clientErrorFirst, 400],
  ])('answers an error status, not a 200 stream, when no provider is left: %s', async (_what, model, status) => {
    const answer = await post(alone.url, '/v1/chat/completions', chat(model));
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toContain('application/json');
    const body = (await answer.json()) as { error: { code: string | null } };
    if (status === 502) expect(body.error.code).toBe('upstream_failed');
  });

  it("gives the OpenAI SDK the error's status when it creates the stream", async () => {
    const openai = new OpenAI({ baseURL: `${alone.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const error: unknown = await openai.chat.completions
      .create({ model: errorFirst, messages: [{ role: 'user', content: 'hi' }], stream: true })
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it.each([
    ['`content-encoding: none`', encodingNone, 'uncompressed'],
    ['`content-type: text/plain`', textPlain, 'mislabelled'],
  ])('relays a readable stream whatever its labels say: %s', async (_what, model, content) => {
    const before = backup.received.get(model) ?? 0;
    const answer = await post(alone.url, '/v1/chat/completions', chat(model));
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toContain(content);
    expect(text).toContain('data: [DONE]');
    expect(backup.received.get(model) ?? 0).toBe(before);
  });

  it('relays a good stream from the first provider as before', async () => {
    const answer = await post(withBackup.url, '/v1/chat/completions', chat('good'));
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toContain('from odd');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const metrics = await withBackup.scrape();
    expect(sampleSum(metrics, 'gatewayz_time_to_first_token_seconds_count', { provider: 'odd', model: 'good' })).toBe(
      1,
    );
  });
});

describe('the translated streams (/v1/messages, /v1/responses) open the same way', () => {
  it('fails an Anthropic messages stream over on an error as the first event, or answers an Anthropic error', async () => {
    const body = { model: errorFirst, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true };
    const answer = await post(withBackup.url, '/v1/messages', body);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toContain('from backup');
    expect(text).toContain('event: message_stop');
    const failed = await post(alone.url, '/v1/messages', body);
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it('serves a Responses stream from a JSON completion, from the provider that answered it', async () => {
    const body = { model: json, input: 'hi', stream: true };
    for (const gateway of [withBackup, alone]) {
      const answer = await post(gateway.url, '/v1/responses', body);
      expect(answer.status).toBe(200);
      const text = await answer.text();
      expect(text).toContain('"delta":"json"');
      expect(text).toContain('event: response.completed');
    }
    expect(backup.received.get(json)).toBeUndefined();
  });

  it('fails a Responses stream over on an HTML page, or answers an error', async () => {
    const body = { model: html, input: 'hi', stream: true };
    const answer = await post(withBackup.url, '/v1/responses', body);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toContain('from backup');
    expect(text).toContain('event: response.completed');
    expect((await post(alone.url, '/v1/responses', body)).status).toBe(502);
  });
});
