import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletionAnswer, startScriptedGateway, type ScriptedGateway } from './scripted-upstream.js';

/*
 * Top-level fields of /v1/messages that Anthropic's Messages API does not know, over raw HTTP:
 * refused with a 400 `invalid_request_error` ("<field>: Extra inputs are not permitted") as
 * Anthropic refuses them, never silently dropped; the fields documented as accepted and left out
 * still pass. The loopback scripted upstream answers the requests that get through.
 */

const CHAT = '/v1/chat/completions';
const model = 'claude-extra';

let gw: ScriptedGateway;
beforeAll(async () => {
  gw = await startScriptedGateway({ name: 'upstream', models: [model] });
  gw.upstream.scriptJson(
    CHAT,
    chatCompletionAnswer('chatcmpl-extra', model, 'Hi', { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 }),
  );
});
afterAll(async () => gw.close());

const base = { model, max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] };
const send = (body: Record<string, unknown>): Promise<Response> =>
  fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });

describe('/v1/messages top-level fields', () => {
  it.each([
    // An OpenAI field sent to the Anthropic API by mistake: silently dropped, the answer would not be JSON.
    ['response_format', { type: 'json_object' }],
    ['n', 2],
    ['frequency_penalty', 0.5],
    ['extra_body', {}],
    ['temperture', 0.2],
    // Anthropic refuses an unknown field even when it is null.
    ['seed', null],
  ])('refuses %s with 400 invalid_request_error, before any provider is tried', async (field, value) => {
    const before = gw.upstream.lastBody(CHAT);
    const response = await send({ ...base, [field]: value });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: `${field}: Extra inputs are not permitted` },
    });
    expect(gw.upstream.lastBody(CHAT)).toBe(before);
  });

  it('streamed requests alike: the 400 comes before the stream opens', async () => {
    const response = await send({ ...base, stream: true, logprobs: true });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      'logprobs: Extra inputs are not permitted',
    );
  });

  it('accepts the known fields, those left out included, and leaves the latter out of the upstream request', async () => {
    const response = await send({
      ...base,
      system: 'Be brief.',
      temperature: 0.3,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
      cache_control: { type: 'ephemeral' },
      service_tier: 'auto',
      speed: 'standard',
      inference_geo: 'us',
      diagnostics: null,
      workspace_id: 'wrkspc_1',
      user_profile_id: 'prof_1',
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { content: unknown }).content).toEqual([{ type: 'text', text: 'Hi' }]);
    const sent = gw.upstream.lastBody(CHAT) ?? {};
    expect(Object.keys(sent).sort()).toEqual([
      'max_tokens',
      'messages',
      'model',
      'stop',
      'stream',
      'temperature',
      'user',
    ]);
  });
});
