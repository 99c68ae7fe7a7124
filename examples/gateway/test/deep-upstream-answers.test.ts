import { Hono } from 'hono';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleErrors } from '../src/middleware/errors.js';
import { RouteTemplates } from '../src/middleware/route-templates.js';
import { toolInput, UntranslatableAnswer } from '../src/protocol/anthropic.js';
import type { GatewayEnv, GatewayLogger } from '../src/server/gateway-env.js';
import { sampleSum, startGatewayFor } from './harness.js';
import { startUpstream, type LoopbackUpstream } from './misbehaving-upstream.js';

/*
 * A provider's answer nested thousands of levels deep (about 10 KB) reached `JSON.stringify` when
 * the gateway wrote it out, whose RangeError answered the client 500 `internal_error` after the
 * attempt had been recorded as a success and charged. Requests were bounded (deep-nesting.test.ts),
 * answers were not. An answer nested deeper than MAX_JSON_DEPTH is now an `invalid_response`: the
 * next provider is tried, and with none left the client gets 502. A provider's error body that deep
 * loses its details, not its status; tool call arguments that deep cannot be an Anthropic `input`.
 */

/** The documented limit (`MAX_JSON_DEPTH`, protocol/json.ts): levels of objects and arrays, the body itself the first. */
const MAX_JSON_DEPTH = 128;
const DEEP = 5_000;

/** `depth` levels of nested arrays, as JSON text (a test's own `JSON.stringify` would overflow too). */
const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

const completion = (extra: string, argumentsText?: string): string =>
  `{"id":"c","object":"chat.completion","created":1700000000,"model":"m",${extra}"choices":[{"index":0,` +
  (argumentsText === undefined
    ? `"message":{"role":"assistant","content":"from upstream"},"finish_reason":"stop"}],`
    : `"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":${JSON.stringify(argumentsText)}}}]},"finish_reason":"tool_calls"}],`) +
  `"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`;

const send = (response: ServerResponse, status: number, text: string): void => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(text);
};

/** What the deep provider answers next; the sound one always answers a plain completion. */
let deepAnswer: (response: ServerResponse) => void;
let deep: LoopbackUpstream;
let sound: LoopbackUpstream;
let gw: Awaited<ReturnType<typeof startGatewayFor>>;

beforeAll(async () => {
  deep = await startUpstream((_model, _stream, response) => deepAnswer(response));
  sound = await startUpstream((_model, _stream, response) => send(response, 200, completion('')));
  gw = await startGatewayFor(
    [
      { name: 'deep', baseUrl: deep.baseUrl, models: ['m', 'only-deep'] },
      { name: 'sound', baseUrl: sound.baseUrl, models: ['m'] },
    ],
    { ATTEMPT_TIMEOUT_MS: '5000', BREAKER_VOLUME_THRESHOLD: '1000' },
  );
});
afterAll(async () => {
  await gw?.close();
  await deep?.close();
  await sound?.close();
});

const post = (path: string, body: Record<string, unknown>): Promise<Response> =>
  fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const chat = (model: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
const scrape = async (): Promise<string> => (await fetch(`${gw.url}/metrics`)).text();
const ANTHROPIC_REQUEST = { model: 'only-deep', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
/** A 502 in Anthropic's error shape, as `/v1/messages` answers when no provider is left. */
async function expectAnthropic502(response: Response): Promise<void> {
  expect(response.status).toBe(502);
  expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
}

describe('a provider answer nested deeper than MAX_JSON_DEPTH', () => {
  it('fails over to the next provider as an invalid_response, not a success', async () => {
    deepAnswer = (response) => send(response, 200, completion(`"extra":${nestedArrays(DEEP)},`));
    const before = await scrape();
    const response = await post('/v1/chat/completions', chat('m'));
    expect(response.status).toBe(200);
    expect(
      ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content,
    ).toBe('from upstream');
    const after = await scrape();
    const count = (text: string, labels: Record<string, string>): number =>
      sampleSum(text, 'model_inference_requests_total', { provider: 'deep', model: 'm', ...labels });
    expect(count(after, { status: 'success' }) - count(before, { status: 'success' })).toBe(0);
    expect(count(after, { status: 'error' }) - count(before, { status: 'error' })).toBe(1);
  });

  it('is answered 502, not 500, when no other provider serves the model, also as a stream', async () => {
    deepAnswer = (response) => send(response, 200, completion(`"extra":${nestedArrays(DEEP)},`));
    const plain = await post('/v1/chat/completions', chat('only-deep'));
    expect(plain.status).toBe(502);
    expect(((await plain.json()) as { error: { code: string } }).error.code).not.toBe('internal_error');
    const streamed = await post('/v1/chat/completions', chat('only-deep', { stream: true }));
    expect(streamed.status).toBe(502);
  });

  it('is failed over on /v1/messages too, in Anthropic’s shape when nothing is left', async () => {
    deepAnswer = (response) => send(response, 200, completion(`"usage_details":${nestedArrays(DEEP)},`));
    await expectAnthropic502(await post('/v1/messages', ANTHROPIC_REQUEST));
  });

  it('passes at exactly MAX_JSON_DEPTH levels', async () => {
    // The answer is level 1, so `extra` may hold MAX_JSON_DEPTH - 1 levels.
    deepAnswer = (response) => send(response, 200, completion(`"extra":${nestedArrays(MAX_JSON_DEPTH - 1)},`));
    const response = await post('/v1/chat/completions', chat('only-deep'));
    expect(response.status).toBe(200);
    deepAnswer = (response) => send(response, 200, completion(`"extra":${nestedArrays(MAX_JSON_DEPTH)},`));
    expect((await post('/v1/chat/completions', chat('only-deep'))).status).toBe(502);
  });
});

describe("a provider's error body nested deeper than MAX_JSON_DEPTH", () => {
  it('keeps its status for the client and loses only its details', async () => {
    deepAnswer = (response) =>
      send(response, 400, `{"error":{"message":"bad","type":"invalid_request_error","param":${nestedArrays(DEEP)}}}`);
    const response = await post('/v1/chat/completions', chat('only-deep'));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string | null; param: unknown } };
    expect(body.error.code).not.toBe('internal_error');
    expect(body.error.param).toBeNull();
  });
});

describe('tool call arguments nested deeper than MAX_JSON_DEPTH', () => {
  it('cannot be an Anthropic tool_use input: untranslatable, so /v1/messages fails over', async () => {
    const deepArguments = `{"a":${nestedArrays(DEEP)}}`;
    expect(() => toolInput(deepArguments)).toThrow(UntranslatableAnswer);
    expect(() => toolInput(deepArguments)).toThrow(`more than ${MAX_JSON_DEPTH} levels deep`);
    expect(toolInput(`{"a":${nestedArrays(MAX_JSON_DEPTH - 1)}}`)).toHaveProperty('a');

    deepAnswer = (response) => send(response, 200, completion('', deepArguments));
    await expectAnthropic502(await post('/v1/messages', ANTHROPIC_REQUEST));
  });
});

describe('an unexpected error under /v1/messages', () => {
  it("is answered 500 in Anthropic's error shape, elsewhere in OpenAI's", async () => {
    const logged: string[] = [];
    const log = { error: (message: string) => logged.push(message) } as unknown as GatewayLogger;
    const app = new Hono<GatewayEnv>();
    app.onError(handleErrors(log, new RouteTemplates(app)));
    app.post('/v1/messages', () => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    app.post('/v1/chat/completions', () => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    const anthropic = await app.request('/v1/messages', { method: 'POST' });
    expect(anthropic.status).toBe(500);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    const openAi = await app.request('/v1/chat/completions', { method: 'POST' });
    expect(openAi.status).toBe(500);
    expect(await openAi.json()).toMatchObject({ error: { type: 'server_error', code: 'internal_error' } });
    expect(logged).toEqual(['unhandled error', 'unhandled error']);
  });
});
