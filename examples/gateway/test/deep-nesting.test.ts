import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptTokens } from '../src/api-keys/cost-estimate.js';
import { postUpstream, UpstreamFailure } from '../src/providers/upstream.js';
import { sampleSum, startGatewayFor } from './harness.js';
import { chatCompletionAnswer } from './scripted-upstream.js';

/*
 * A request body nested thousands of levels deep (about 10 KB, far under MAX_BODY_BYTES) used to
 * reach `JSON.stringify` when it was sent upstream, whose RangeError was caught as the provider's
 * `network_error`: every provider serving the model was charged a failure and failed over to, and
 * a few such requests opened every breaker, so all clients got 503. With a budgeted key the prompt
 * estimate overflowed first (500). The body is now refused 400 when it is read, before any
 * provider is tried; JSON schemas of real depth still pass.
 */

/** The documented limit (`MAX_JSON_DEPTH`, read-json-object.ts): levels of objects and arrays, the body itself the first. */
const MAX_JSON_DEPTH = 128;
const MODEL = 'm';
const EMBED_MODEL = 'e';
const KEY = 'gwz-deep-nesting';
const PRICE = { inputPerMillionTokens: 1, outputPerMillionTokens: 2 };

/** `depth` levels of nested arrays, as JSON text (a test's own `JSON.stringify` would overflow too). */
const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** A JSON schema nesting objects `depth` levels deep (an even number: each schema level is two, itself and its `properties`). */
function deepSchema(depth: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'object', properties: {} };
  for (let levels = 2; levels < depth; levels += 2) schema = { type: 'object', properties: { child: schema } };
  return schema;
}

/** Nesting depth of a parsed JSON value (the value itself is level 1). */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

let upstream: Server;
/** Requests the upstream received, and the last body it was sent. */
let received = 0;
let lastBody: Record<string, unknown> | undefined;
let gw: Awaited<ReturnType<typeof startGatewayFor>>;

beforeAll(async () => {
  upstream = createServer((request, response) => {
    let text = '';
    request.on('data', (piece: Buffer) => (text += piece.toString('utf8')));
    request.on('end', () => {
      received++;
      lastBody = JSON.parse(text) as Record<string, unknown>;
      const answer = request.url?.endsWith('/embeddings')
        ? {
            object: 'list',
            model: EMBED_MODEL,
            data: [{ object: 'embedding', index: 0, embedding: [0.1] }],
            usage: { prompt_tokens: 1, total_tokens: 1 },
          }
        : chatCompletionAnswer('c-1', MODEL, 'ok', { prompt_tokens: 3, completion_tokens: 1 });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  const provider = (name: string) => ({
    name,
    baseUrl,
    models: [MODEL],
    embeddingModels: [EMBED_MODEL],
    pricing: { [MODEL]: PRICE, [EMBED_MODEL]: PRICE },
  });
  gw = await startGatewayFor(
    [provider('alpha'), provider('beta')],
    {
      BREAKER_VOLUME_THRESHOLD: '3',
      BREAKER_RESET_TIMEOUT_MS: '600000',
      ATTEMPT_TIMEOUT_MS: '5000',
    },
    {
      apiKeys: {
        keys: [
          { name: 'open', key: 'gwz-open', plan: 'paid' },
          { name: 'capped', key: KEY, plan: 'paid', budgetUsd: 100 },
        ],
        required: true,
      },
    },
  );
});

afterAll(async () => {
  await gw.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

const post = (path: string, body: string, key = 'gwz-open'): Promise<Response> =>
  fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'anthropic-version': '2023-06-01' },
    body,
  });

const chat = (fields: string): string => `{"model":"${MODEL}","messages":[{"role":"user","content":"hi"}],${fields}}`;
const message = (fields: string): string =>
  `{"model":"${MODEL}","max_tokens":10,"messages":[{"role":"user","content":"hi"}],${fields}}`;

const DEEP = nestedArrays(5_000);
const refusal = new RegExp(`more than ${MAX_JSON_DEPTH} levels deep`);

describe('a deeply nested request body', () => {
  it.each([
    ['an extra field', chat(`"foo":${DEEP}`)],
    ['response_format', chat(`"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${DEEP}}}`)],
    ['a tool', chat(`"tools":[{"type":"function","function":{"name":"f","parameters":${DEEP}}}]`)],
  ])('on /v1/chat/completions (in %s) is answered 400 invalid_request_error', async (_where, body) => {
    const response = await post('/v1/chat/completions', body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'nesting_too_deep', param: null });
    expect(error['message']).toMatch(refusal);
  });

  it("on /v1/messages (in a tool's input_schema) is answered 400 in Anthropic's error shape", async () => {
    const response = await post(
      '/v1/messages',
      message(`"tools":[{"name":"f","input_schema":{"type":"object","properties":{"x":${DEEP}}}}]`),
    );
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { type: string; error: { type: string; message: string } };
    expect(answer.type).toBe('error');
    expect(answer.error.type).toBe('invalid_request_error');
    expect(answer.error.message).toMatch(refusal);
  });

  it('on /v1/embeddings is answered 400 too', async () => {
    const response = await post('/v1/embeddings', `{"model":"${EMBED_MODEL}","input":"hi","foo":${DEEP}}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('nesting_too_deep');
  });

  it('of a budgeted key is answered 400, not 500', async () => {
    const response = await post(
      '/v1/chat/completions',
      chat(`"tools":[{"type":"function","function":{"name":"f","parameters":${DEEP}}}]`),
      KEY,
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('nesting_too_deep');
  });

  it('charges no provider: nothing is sent, no failover, every breaker stays closed', async () => {
    // More refused requests than the breaker's volume threshold (3): each used to be a failure of both providers.
    for (let sent = 0; sent < 6; sent++) {
      const response = await post('/v1/chat/completions', chat(`"foo":${DEEP}`));
      expect(response.status).toBe(400);
    }
    expect(received).toBe(0);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(sampleSum(metrics, 'gatewayz_failovers_total')).toBe(0);
    expect(sampleSum(metrics, 'model_inference_requests_total')).toBe(0);
    const health = (await (await fetch(`${gw.url}/health`)).json()) as { circuit_breakers: Record<string, string> };
    expect(health.circuit_breakers).toEqual({ alpha: 'closed', beta: 'closed' });
  });
});

describe('a request body of real depth', () => {
  it('passes with a 50-level schema, sent upstream as it came, on /v1/chat/completions and /v1/messages', async () => {
    const schema = deepSchema(50);
    expect(depthOf(schema)).toBe(50);
    const before = received;
    const chatAnswer = await post(
      '/v1/chat/completions',
      chat(`"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${JSON.stringify(schema)}}}`),
      KEY,
    );
    expect(chatAnswer.status).toBe(200);
    expect(lastBody?.['response_format']).toEqual({ type: 'json_schema', json_schema: { name: 'x', schema } });
    const messageAnswer = await post(
      '/v1/messages',
      message(`"tools":[{"name":"f","input_schema":${JSON.stringify(schema)}}]`),
    );
    expect(messageAnswer.status).toBe(200);
    expect((lastBody?.['tools'] as Array<{ function: { parameters: unknown } }>)[0]?.function.parameters).toEqual(
      schema,
    );
    expect(received).toBe(before + 2);
  });

  it(`passes at exactly ${MAX_JSON_DEPTH} levels and is refused one level deeper`, async () => {
    // The body object is level 1, so `foo` may hold MAX_JSON_DEPTH - 1 levels.
    const atLimit = await post('/v1/chat/completions', chat(`"foo":${nestedArrays(MAX_JSON_DEPTH - 1)}`));
    expect(atLimit.status).toBe(200);
    const past = await post('/v1/chat/completions', chat(`"foo":${nestedArrays(MAX_JSON_DEPTH)}`));
    expect(past.status).toBe(400);
  });
});

describe('recursion-free walks of a parsed body', () => {
  /** `depth` nested arrays, built without recursion. */
  function nested(depth: number): unknown[] {
    let value: unknown[] = [];
    for (let level = 1; level < depth; level++) value = [value];
    return value;
  }

  it('promptTokens counts a body of any depth without overflowing (4 tokens per array)', () => {
    expect(promptTokens(nested(200_000))).toBe(800_000);
  });

  it("a body postUpstream cannot serialise is the client's 400, sent nowhere and held against no provider", async () => {
    const before = received;
    const address = upstream.address() as AddressInfo;
    const error: unknown = await postUpstream({
      url: `http://127.0.0.1:${address.port}/v1/chat/completions`,
      body: { model: MODEL, foo: nested(200_000) },
      headers: {},
      timeoutMs: 2_000,
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UpstreamFailure);
    const failure = error as UpstreamFailure;
    expect(failure).toMatchObject({ httpStatus: 400, failover: false, errorType: '400', unsent: true });
    expect(failure.saysNothingOfProvider).toBe(true);
    expect(received).toBe(before);
  });
});
