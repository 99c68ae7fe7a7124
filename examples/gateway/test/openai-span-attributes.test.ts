import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SpanRecorder } from './harness.js';
import {
  startScriptedGateway,
  startScriptedUpstream,
  type ScriptedGateway,
  type ScriptedUpstream,
  type ScriptStep,
} from './scripted-upstream.js';

/*
 * The OpenAI conventions' span attributes (v1.41 `docs/gen-ai/openai.md`) through the gateway: a
 * request's `service_tier` and the answer's `service_tier` and `system_fingerprint` go on the
 * attempt span of provider `openai` as `openai.request.service_tier`, `openai.response.service_tier`
 * and `openai.response.system_fingerprint`; chat completions and the Responses API, answered as
 * JSON or streamed, from loopback upstreams. A provider under another name gets none of them.
 */

const CHAT = '/v1/chat/completions';
const RESPONSES = '/v1/responses';
const REQUEST_TIER = 'openai.request.service_tier';
const RESPONSE_TIER = 'openai.response.service_tier';
const FINGERPRINT = 'openai.response.system_fingerprint';

let gw: ScriptedGateway;
let router: ScriptedUpstream;
const spans = new SpanRecorder();

beforeAll(async () => {
  router = await startScriptedUpstream();
  gw = await startScriptedGateway(
    { name: 'openai', models: ['gpt-4o-mini', 'gpt-native'], responsesApi: true },
    [spans],
    {
      providers: [{ name: 'openrouter', baseUrl: `${router.url}/v1`, models: ['routed-model'] }],
    },
  );
});
afterAll(async () => {
  await gw?.close();
  await router?.close();
});
beforeEach(() => spans.clear());

const usage = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 };
const completion = (model: string, fields: Record<string, unknown>): Record<string, unknown> => ({
  id: 'chatcmpl-tier',
  object: 'chat.completion',
  created: 1_700_000_000,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'stop' }],
  usage,
  ...fields,
});
const chunk = (fields: Record<string, unknown>, delta: Record<string, unknown>, finish: string | null = null) => ({
  afterMs: 0,
  data: {
    id: 'chatcmpl-tier',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...fields,
  },
});

function post(body: Record<string, unknown>, path = CHAT): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The attempt span of `model` once it has ended (a stream's ends when the stream does). */
function attemptSpan(model: string): Promise<ReadableSpan> {
  return vi.waitFor(() => {
    const span = spans.spans.find((candidate) => candidate.name === `chat ${model}`);
    if (span === undefined) throw new Error(`no attempt span for ${model} yet`);
    return span;
  });
}

const openAiAttributes = (span: ReadableSpan): Record<string, unknown> =>
  Object.fromEntries(Object.entries(span.attributes).filter(([key]) => key.startsWith('openai.')));

describe('the OpenAI attributes on the attempt span of provider openai', () => {
  it("a JSON chat answer: the requested tier, and the answer's tier and fingerprint", async () => {
    gw.upstream.scriptJson(CHAT, completion('gpt-4o-mini', { service_tier: 'flex', system_fingerprint: 'fp_1' }));
    const response = await post({
      model: 'gpt-4o-mini',
      service_tier: 'flex',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { system_fingerprint?: string }).system_fingerprint).toBe('fp_1');
    expect(gw.upstream.lastBody(CHAT)?.['service_tier']).toBe('flex');
    const span = await attemptSpan('gpt-4o-mini');
    expect(openAiAttributes(span)).toEqual({ [REQUEST_TIER]: 'flex', [RESPONSE_TIER]: 'flex', [FINGERPRINT]: 'fp_1' });
    expect(span.attributes['gen_ai.response.id']).toBe('chatcmpl-tier');
  });

  it('a streamed chat: the tier and fingerprint of the last chunks that carried them', async () => {
    const steps: ScriptStep[] = [
      chunk({}, { role: 'assistant', content: '' }),
      chunk({ service_tier: 'flex', system_fingerprint: 'fp_1' }, { content: 'Hi' }),
      chunk({ service_tier: 'flex', system_fingerprint: 'fp_2' }, {}, 'stop'),
      { afterMs: 0, data: { ...chunk({}, {}).data, choices: [], usage } },
      { afterMs: 0, data: '[DONE]' },
    ];
    gw.upstream.script(CHAT, steps);
    const response = await post({
      model: 'gpt-4o-mini',
      stream: true,
      service_tier: 'flex',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('data: [DONE]');
    const span = await attemptSpan('gpt-4o-mini');
    expect(span.attributes['gen_ai.request.stream']).toBe(true);
    expect(openAiAttributes(span)).toEqual({ [REQUEST_TIER]: 'flex', [RESPONSE_TIER]: 'flex', [FINGERPRINT]: 'fp_2' });
  });

  it('a requested tier of auto is left out, the tier the answer names is kept', async () => {
    gw.upstream.scriptJson(CHAT, completion('gpt-4o-mini', { service_tier: 'default', system_fingerprint: 'fp_3' }));
    await (
      await post({ model: 'gpt-4o-mini', service_tier: 'auto', messages: [{ role: 'user', content: 'hi' }] })
    ).json();
    expect(openAiAttributes(await attemptSpan('gpt-4o-mini'))).toEqual({
      [RESPONSE_TIER]: 'default',
      [FINGERPRINT]: 'fp_3',
    });
  });

  it('a Responses API request: the requested tier and the Response`s, as JSON and streamed', async () => {
    const answer = (status: string) => ({
      id: 'resp_tier',
      object: 'response',
      created_at: 1_700_000_000,
      model: 'gpt-native',
      status,
      service_tier: status === 'in_progress' ? 'auto' : 'flex',
      output: [],
      ...(status === 'completed' ? { usage: { input_tokens: 5, output_tokens: 1, total_tokens: 6 } } : {}),
    });
    gw.upstream.scriptJson(RESPONSES, answer('completed'));
    expect((await post({ model: 'gpt-native', input: 'hi', service_tier: 'flex' }, RESPONSES)).status).toBe(200);
    expect(openAiAttributes(await attemptSpan('gpt-native'))).toEqual({
      [REQUEST_TIER]: 'flex',
      [RESPONSE_TIER]: 'flex',
    });

    spans.clear();
    const event = (type: string, sequence: number, status: string): ScriptStep => ({
      afterMs: 0,
      event: type,
      data: { type, sequence_number: sequence, response: answer(status) },
    });
    gw.upstream.script(RESPONSES, [
      event('response.created', 0, 'in_progress'),
      event('response.completed', 1, 'completed'),
    ]);
    const streamed = await post({ model: 'gpt-native', input: 'hi', stream: true, service_tier: 'flex' }, RESPONSES);
    expect(await streamed.text()).toContain('response.completed');
    expect(openAiAttributes(await attemptSpan('gpt-native'))).toEqual({
      [REQUEST_TIER]: 'flex',
      [RESPONSE_TIER]: 'flex',
    });
  });
});

describe('an OpenAI-compatible provider under another name', () => {
  it('gets none of the OpenAI attributes, which the conventions define for openai alone', async () => {
    router.scriptJson(CHAT, completion('routed-model', { service_tier: 'flex', system_fingerprint: 'fp_1' }));
    const response = await post({
      model: 'routed-model',
      service_tier: 'flex',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(200);
    await response.json();
    const span = await attemptSpan('routed-model');
    expect(span.attributes['gen_ai.provider.name']).toBe('openrouter');
    expect(openAiAttributes(span)).toEqual({});
  });
});
