import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSum } from './harness.js';
import {
  post,
  startGoodUpstream,
  startLoggedGateway,
  startUpstream,
  USAGE,
  type LoggedGateway,
  type LoopbackUpstream,
} from './misbehaving-upstream.js';

/*
 * A provider that answers a request without `stream` with status 200 and an error body
 * (OpenRouter's `{"error":{"message":"...","code":502}}`) has not answered it. The gateway used to
 * hand that body to its client as a 200, and count the attempt as the provider's success in the
 * metrics, model health and the circuit breaker. Now it fails the attempt as the same error before
 * a stream's first event does: the next provider is tried, with none left the client gets the
 * gateway's error, and an error whose `code` is a 4xx the client caused goes back to the client.
 */

/** How the erring upstream answers each model (a `native-` prefix: the same, on `/responses`). */
const ERRING = {
  /** 200 `{"error":{"code":502,...}}`: the provider is overloaded. */
  overloaded: 'error-502',
  /** 200 with an error that has no HTTP status for its code. */
  uncoded: 'error-uncoded',
  /** 200 `{"error":{"code":400,...}}`: the client's request is wrong. */
  clientError: 'error-400',
  /** 200 with the 502 error beside empty answer fields (`"choices": []`): no answer either. */
  emptyAnswer: 'error-empty-answer',
  /** A completion with `"error": null`, as some providers send with every answer. */
  nullError: 'error-null',
  /** A completion with an `error` beside its choices: an answer. */
  errorBesideChoices: 'error-and-choices',
} as const;

const CHAT_MODELS = Object.values(ERRING);
const NATIVE_MODELS = CHAT_MODELS.map((model) => `native-${model}`);

/** The error body of an erring model, or `undefined` for one that answers. */
function errorOf(model: string): Record<string, unknown> | undefined {
  switch (model) {
    case ERRING.overloaded:
    case ERRING.emptyAnswer:
      return { message: 'overloaded upstream', code: 502 };
    case ERRING.uncoded:
      return { message: 'no healthy upstream', code: 'upstream_error' };
    case ERRING.clientError:
      return { message: 'prompt too long for this model', code: 400 };
    default:
      return undefined;
  }
}

/** What the erring upstream answers `model` on `path`: its error, or an answer saying "from odd". */
function erringAnswer(path: string, model: string): Record<string, unknown> {
  const own = model.replace(/^native-/, '');
  const error = errorOf(own);
  // Embeddings report no completion tokens.
  if (error !== undefined && path.endsWith('/embeddings'))
    return { error, usage: { prompt_tokens: 8, total_tokens: 8 } };
  if (own === ERRING.emptyAnswer) return { error, choices: [], content: [], data: [], usage: USAGE };
  if (error !== undefined) return { error, usage: USAGE };
  const besides = own === ERRING.nullError ? { error: null } : { error: { message: 'a warning, not an error' } };
  if (path.endsWith('/responses'))
    return {
      id: 'resp_x',
      object: 'response',
      status: 'completed',
      model,
      output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'from odd' }] }],
      usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
      ...besides,
    };
  return {
    id: 'chatcmpl-x',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'from odd' }, finish_reason: 'stop' }],
    usage: USAGE,
    ...besides,
  };
}

/** A loopback upstream answering every request with status 200 and `erringAnswer`. */
function startErringUpstream(): Promise<LoopbackUpstream> {
  return startUpstream((model, _stream, response, _origin, path) =>
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(erringAnswer(path, model))),
  );
}

/** A request for `model` on `path`, in the route's own shape, without `stream`. */
function requestFor(path: string, model: string): Record<string, unknown> {
  if (path === '/v1/responses') return { model, input: 'hi' };
  const messages = [{ role: 'user', content: 'hi' }];
  return path === '/v1/messages' ? { model, max_tokens: 64, messages } : { model, messages };
}

/** The text of an answer, whatever its route's shape. */
const textOf = async (answer: Response): Promise<string> => JSON.stringify(await answer.json());

/** The routes answered with one JSON body: `native` is a `responsesApi` provider's model. */
const ROUTES = [
  ['/v1/chat/completions', ''],
  ['/v1/messages', ''],
  ['/v1/responses', ''],
  ['/v1/responses', 'native-'],
] as const;

let odd: LoopbackUpstream;
let backup: LoopbackUpstream;
/** The erring providers first (`odd`, and `native` for the Responses API), a healthy one after them. */
let withBackup: LoggedGateway;
/** The erring providers alone. */
let alone: LoggedGateway;

beforeAll(async () => {
  odd = await startErringUpstream();
  backup = await startGoodUpstream();
  const erring = [
    { name: 'odd', baseUrl: odd.baseUrl, models: CHAT_MODELS, embeddingModels: [ERRING.overloaded] },
    { name: 'native', baseUrl: odd.baseUrl, models: NATIVE_MODELS, responsesApi: true },
  ];
  const env = { BREAKER_VOLUME_THRESHOLD: '1000' };
  withBackup = await startLoggedGateway(
    [...erring, { name: 'backup', baseUrl: backup.baseUrl, models: [...CHAT_MODELS, ...NATIVE_MODELS] }],
    env,
  );
  alone = await startLoggedGateway(erring, env);
});
afterAll(async () => {
  await withBackup.close();
  await alone.close();
  await odd.close();
  await backup.close();
});

describe('a 200 whose JSON body is an error, on each route answered with one body', () => {
  it.each(
    ROUTES.flatMap(([path, prefix]) => [
      [path, `${prefix}${ERRING.overloaded}`, '502'],
      [path, `${prefix}${ERRING.uncoded}`, 'upstream_stream_error'],
      [path, `${prefix}${ERRING.emptyAnswer}`, '502'],
    ]),
  )('fails %s over to the next provider: %s', async (path, model, errorType) => {
    const provider = model.startsWith('native-') ? 'native' : 'odd';
    const before = await withBackup.scrape();
    const answer = await post(withBackup.url, path, requestFor(path, model));
    expect(answer.status).toBe(200);
    const text = await textOf(answer);
    expect(text).toContain('from backup');
    expect(text).not.toContain('overloaded upstream');
    const after = await withBackup.scrape();
    const added = (name: string, labels: Record<string, string>): number =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);
    // The failed attempt counts against its provider; the answer is the backup's success.
    expect(added('model_inference_requests_total', { provider, model, status: 'error' })).toBe(1);
    expect(added('model_inference_requests_total', { provider, model, status: 'success' })).toBe(0);
    expect(added('model_inference_requests_total', { provider: 'backup', model, status: 'success' })).toBe(1);
    expect(
      added('gen_ai_client_operation_duration_count', {
        gen_ai_provider_name: provider,
        gen_ai_request_model: model,
        error_type: errorType,
      }),
    ).toBe(1);
    expect(added('gatewayz_failovers_total', { provider, next_provider: 'backup', reason: 'error' })).toBe(1);
    // The provider reported usage with its error: it bills it, so it is recorded.
    expect(added('tokens_used_total', { provider, model, token_type: 'input' })).toBe(10);
  });

  it.each([
    ['/v1/chat/completions', 502, { error: { code: 'upstream_failed' } }],
    ['/v1/messages', 502, { type: 'error', error: { type: 'api_error' } }],
    ['/v1/responses', 502, { error: { code: 'upstream_failed' } }],
  ])('answers %s with the gateway error when no provider is left', async (path, status, shape) => {
    for (const model of [ERRING.overloaded, `native-${ERRING.overloaded}`]) {
      if (model.startsWith('native-') && path !== '/v1/responses') continue;
      const answer = await post(alone.url, path, requestFor(path, model));
      expect(answer.status).toBe(status);
      expect(await answer.json()).toMatchObject(shape);
    }
    const metrics = await alone.scrape();
    expect(
      sampleSum(metrics, 'gen_ai_server_request_duration_count', {
        gen_ai_request_model: ERRING.overloaded,
        error_type: '502',
      }),
    ).toBeGreaterThan(0);
  });

  it('answers embeddings with the gateway error too, not a 200 without embeddings', async () => {
    const before = await alone.scrape();
    const answer = await post(alone.url, '/v1/embeddings', { model: ERRING.overloaded, input: 'hi' });
    expect(answer.status).toBe(502);
    expect(await answer.json()).toMatchObject({ error: { code: 'upstream_failed' } });
    // Its usage (prompt tokens only, as embeddings report) is recorded with the failed attempt.
    const labels = { provider: 'odd', model: ERRING.overloaded, token_type: 'input' };
    expect(
      sampleSum(await alone.scrape(), 'tokens_used_total', labels) - sampleSum(before, 'tokens_used_total', labels),
    ).toBe(8);
  });

  it.each([
    ['/v1/chat/completions', ERRING.clientError, { error: { message: 'prompt too long for this model' } }],
    [
      '/v1/messages',
      ERRING.clientError,
      { type: 'error', error: { type: 'invalid_request_error', message: 'prompt too long for this model' } },
    ],
    ['/v1/responses', ERRING.clientError, { error: { message: 'prompt too long for this model' } }],
    ['/v1/responses', `native-${ERRING.clientError}`, { error: { message: 'prompt too long for this model' } }],
  ])(
    "passes an error for the client's own request on %s back to it, without failing over: %s",
    async (path, model, shape) => {
      const provider = model.startsWith('native-') ? 'native' : 'odd';
      const before = await withBackup.scrape();
      const answer = await post(withBackup.url, path, requestFor(path, model));
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject(shape);
      expect(backup.received.get(model)).toBeUndefined();
      const after = await withBackup.scrape();
      const added = (name: string, labels: Record<string, string>): number =>
        sampleSum(after, name, labels) - sampleSum(before, name, labels);
      // The client's error says nothing of the provider: out of its health figures, in the GenAI ones.
      expect(added('model_inference_requests_total', { provider, model })).toBe(0);
      expect(added('gen_ai_client_operation_duration_count', { gen_ai_request_model: model, error_type: '400' })).toBe(
        1,
      );
    },
  );

  it.each(
    ROUTES.flatMap(([path, prefix]) => [
      [path, `${prefix}${ERRING.nullError}`],
      [path, `${prefix}${ERRING.errorBesideChoices}`],
    ]),
  )('answers %s from the first provider when its answer carries an error field: %s', async (path, model) => {
    const provider = model.startsWith('native-') ? 'native' : 'odd';
    const before = await withBackup.scrape();
    const answer = await post(withBackup.url, path, requestFor(path, model));
    expect(answer.status).toBe(200);
    expect(await textOf(answer)).toContain('from odd');
    expect(backup.received.get(model)).toBeUndefined();
    const after = await withBackup.scrape();
    expect(
      sampleSum(after, 'model_inference_requests_total', { provider, model, status: 'success' }) -
        sampleSum(before, 'model_inference_requests_total', { provider, model, status: 'success' }),
    ).toBe(1);
  });
});

describe('the circuit breaker of a provider answering errors with 200', () => {
  it('opens, as it does for the same errors with their own status', async () => {
    const gateway = await startLoggedGateway([{ name: 'odd', baseUrl: odd.baseUrl, models: CHAT_MODELS }], {
      BREAKER_VOLUME_THRESHOLD: '2',
    });
    try {
      for (let i = 0; i < 2; i++)
        expect((await post(gateway.url, '/v1/chat/completions', requestFor('', ERRING.overloaded))).status).toBe(502);
      const refused = await post(gateway.url, '/v1/chat/completions', requestFor('', ERRING.overloaded));
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ error: { code: 'providers_unavailable' } });
      expect(
        sampleSum(await gateway.scrape(), 'gatewayz_circuit_breaker_state', { provider: 'odd', state: 'open' }),
      ).toBe(1);
    } finally {
      await gateway.close();
    }
  });
});
