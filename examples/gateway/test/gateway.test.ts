import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { componentAvailable, promtoolCheckMetrics } from '../../../test-support/prometheus.js';
import { DEMO_PRICES } from '../src/index.js';
import { chatBody, demoCost, sampleSum, startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
});
afterEach(() => {
  for (const provider of gw.demo.simulated)
    provider.configure({ errorRate: 0, latencyMs: 0, failureMode: 'error', chunkDelayMs: 0 });
});

/** Model health after the write-behind recorder flushed everything recorded so far. */
async function health(provider: string, model: string) {
  await gw.gateway.recorder.flush();
  return gw.gateway.store.getModelHealth(provider, model);
}

async function readSse(response: Response): Promise<string[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .map((event) => event.trim())
    .filter(Boolean);
}

describe('example gateway: OpenAI chat completions', () => {
  it('counts N successful completions exactly, with tokens and cost matching the responses', async () => {
    const before = await gw.scrape();
    const requests = 25;
    let inputTokens = 0;
    let outputTokens = 0;
    let cachedTokens = 0;
    for (let index = 0; index < requests; index++) {
      const response = await gw.post('/v1/chat/completions', chatBody('gpt-4o'));
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body.object).toBe('chat.completion');
      expect(body.choices[0].message.content.length).toBeGreaterThan(0);
      inputTokens += body.usage.prompt_tokens;
      outputTokens += body.usage.completion_tokens;
      cachedTokens += body.usage.prompt_tokens_details.cached_tokens;
    }
    const after = await gw.scrape();
    const delta = (name: string, labels: Record<string, string> = {}): number =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);
    expect(delta('model_inference_requests_total', { status: 'success' })).toBe(requests);
    expect(delta('model_inference_requests_total', { provider: 'openai', model: 'gpt-4o', status: 'success' })).toBe(
      requests,
    );
    expect(delta('fastapi_requests_total', { path: '/v1/chat/completions', status_code: '200' })).toBe(requests);
    expect(delta('provider_response_time_seconds_count', { provider: 'openai' })).toBe(requests);
    expect(delta('tokens_used_total', { model: 'gpt-4o', token_type: 'input' })).toBe(inputTokens);
    expect(delta('tokens_used_total', { model: 'gpt-4o', token_type: 'output' })).toBe(outputTokens);
    // The same prompt 25 times: every repeat is read from the simulated prompt cache.
    expect(cachedTokens).toBeGreaterThan(0);
    expect(delta('tokens_used_total', { model: 'gpt-4o', token_type: 'cache_read' })).toBe(cachedTokens);
    const expectedCost = demoCost(DEMO_PRICES['gpt-4o'], inputTokens, outputTokens, cachedTokens);
    expect(delta('gatewayz_cost_by_provider_total', { provider: 'openai' })).toBeCloseTo(expectedCost, 12);
    expect(
      delta('gen_ai_client_operation_duration_count', {
        gen_ai_provider_name: 'openai',
        gen_ai_request_model: 'gpt-4o',
      }),
    ).toBe(requests);
    const modelRecord = await health('openai', 'gpt-4o');
    expect(modelRecord?.successCount).toBeGreaterThanOrEqual(requests);
  });

  it('streams SSE chunks ending with [DONE], records time to first token and the end of the stream', async () => {
    const before = await gw.scrape();
    const response = await gw.post('/v1/chat/completions', chatBody('claude-3-5-sonnet', { stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = await readSse(response);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice('data: '.length)));
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.some((chunk) => chunk.usage !== undefined)).toBe(false);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);

    const withUsage = await gw.post(
      '/v1/chat/completions',
      chatBody('claude-3-5-sonnet', { stream: true, stream_options: { include_usage: true } }),
    );
    const usageChunk = (await readSse(withUsage))
      .slice(0, -1)
      .map((event) => JSON.parse(event.slice(6)))
      .find((chunk) => chunk.usage);
    expect(usageChunk.usage.completion_tokens).toBeGreaterThan(0);

    const after = await gw.scrape();
    const delta = (name: string, labels: Record<string, string>): number =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);
    expect(
      delta('gatewayz_time_to_first_token_seconds_count', { provider: 'anthropic', model: 'claude-3-5-sonnet' }),
    ).toBe(2);
    expect(
      delta('model_inference_requests_total', { provider: 'anthropic', model: 'claude-3-5-sonnet', status: 'success' }),
    ).toBe(2);
    expect(
      delta('tokens_used_total', { provider: 'anthropic', model: 'claude-3-5-sonnet', token_type: 'output' }),
    ).toBe(2 * usageChunk.usage.completion_tokens);
  });
});

describe('example gateway: Anthropic messages, models, health', () => {
  it('answers /v1/messages in the Anthropic shape', async () => {
    const response = await gw.post('/v1/messages', {
      model: 'claude-3-5-haiku',
      max_tokens: 32,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    });
    expect(response.status).toBe(200);
    const message = await response.json();
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku',
      stop_reason: 'end_turn',
    });
    expect(message.content[0].type).toBe('text');
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it('streams /v1/messages as Anthropic events', async () => {
    const response = await gw.post('/v1/messages', {
      model: 'claude-3-5-haiku',
      max_tokens: 32,
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const events = (await readSse(response)).map((event) => event.split('\n')[0]);
    expect(events[0]).toBe('event: message_start');
    expect(events).toContain('event: content_block_delta');
    expect(events.slice(-3)).toEqual(['event: content_block_stop', 'event: message_delta', 'event: message_stop']);
  });

  it('lists models in the OpenAI shape and reports health', async () => {
    const models = await (await fetch(`${gw.url}/v1/models`)).json();
    expect(models.object).toBe('list');
    const ids = models.data.map((model: { id: string }) => model.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku', 'llama-3.1-8b-instruct']));
    expect(models.data.find((model: { id: string }) => model.id === 'gpt-4o-mini').providers).toEqual([
      'openai',
      'openrouter',
    ]);
    const health = await (await fetch(`${gw.url}/health`)).json();
    expect(health.status).toBe('ok');
    expect(Object.keys(health.circuit_breakers)).toEqual(['openai', 'anthropic', 'openrouter']);
  });

  it('generates images and prices them per image', async () => {
    const before = await gw.scrape();
    const response = await gw.post('/v1/images/generations', { model: 'gpt-image-1', prompt: 'a lighthouse', n: 2 });
    expect(response.status).toBe(200);
    expect((await response.json()).data).toHaveLength(2);
    const after = await gw.scrape();
    expect(
      sampleSum(after, 'gatewayz_cost_by_provider_total', { provider: 'openai' }) -
        sampleSum(before, 'gatewayz_cost_by_provider_total', { provider: 'openai' }),
    ).toBeCloseTo(0.08, 12);
  });
});

describe('example gateway: failover and circuit breakers', () => {
  it("fails over to the next provider, records each attempt, and opens the failing provider's breaker", async () => {
    const openai = gw.provider('openai');
    openai.configure({ errorRate: 1, failureMode: 'error' });
    const before = await health('openai', 'gpt-4o-mini');
    const beforeOpenrouter = await health('openrouter', 'gpt-4o-mini');
    const openaiCalls = (): number => openai.requestCounts.get('/v1/chat/completions') ?? 0;
    const openaiCallsBefore = openaiCalls();
    let requests = 0;
    // The breaker opens once failures pass 50% of the calls in its rolling window (earlier tests
    // put successes in that window, so it takes a number of failures to get there).
    while (gw.gateway.router.breakerStates()['openai'] !== 'open' && requests < 200) {
      const response = await gw.post('/v1/chat/completions', chatBody('gpt-4o-mini'));
      expect(response.status).toBe(200);
      requests++;
    }
    expect(gw.gateway.router.breakerStates()['openai']).toBe('open');
    const attemptsOnOpenai = openaiCalls() - openaiCallsBefore;
    expect(attemptsOnOpenai).toBe(requests);
    // With the breaker open, requests skip openai entirely and still succeed.
    for (let index = 0; index < 5; index++) {
      expect((await gw.post('/v1/chat/completions', chatBody('gpt-4o-mini'))).status).toBe(200);
    }
    expect(openaiCalls() - openaiCallsBefore).toBe(attemptsOnOpenai);
    const failed = await health('openai', 'gpt-4o-mini');
    expect((failed?.errorCount ?? 0) - (before?.errorCount ?? 0)).toBe(attemptsOnOpenai);
    expect(failed?.lastStatus).toBe('error');
    const served = await health('openrouter', 'gpt-4o-mini');
    expect((served?.successCount ?? 0) - (beforeOpenrouter?.successCount ?? 0)).toBe(requests + 5);
    const text = await gw.scrape('/prometheus/metrics/providers');
    expect(sampleSum(text, 'gatewayz_circuit_breaker_state', { provider: 'openai', state: 'open' })).toBe(1);
    expect(sampleSum(text, 'gatewayz_circuit_breaker_state', { provider: 'openai', state: 'closed' })).toBe(0);
  });
});

describe('example gateway: model-health API', () => {
  it('shows success and error counts that add up exactly to what the providers answered, per attempt', async () => {
    const anthropic = gw.provider('anthropic');
    const openrouter = gw.provider('openrouter');
    const model = 'claude-3-5-haiku';
    const outcomes = () => ({
      anthropic: { ...(anthropic.outcomes.get(model) ?? { succeeded: 0, failed: 0 }) },
      openrouter: { ...(openrouter.outcomes.get(model) ?? { succeeded: 0, failed: 0 }) },
    });
    const fetchHealth = async (provider: string) => {
      await gw.gateway.recorder.flush();
      const response = await fetch(`${gw.url}/v1/model-health/${provider}/${model}`);
      return response.status === 404 ? { call_count: 0, success_count: 0, error_count: 0 } : response.json();
    };
    const before = outcomes();
    const healthBefore = { anthropic: await fetchHealth('anthropic'), openrouter: await fetchHealth('openrouter') };
    anthropic.configure({ errorRate: 0.5, failureMode: 'error' });
    let clientSuccesses = 0;
    for (let index = 0; index < 40; index++) {
      const response = await gw.post('/v1/chat/completions', chatBody(model, { stream: index % 4 === 0 }));
      await response.text();
      if (response.status === 200) clientSuccesses++;
    }
    const after = outcomes();
    for (const provider of ['anthropic', 'openrouter'] as const) {
      const healthAfter = await fetchHealth(provider);
      const succeeded = after[provider].succeeded - before[provider].succeeded;
      const failed = after[provider].failed - before[provider].failed;
      expect(healthAfter.success_count - healthBefore[provider].success_count).toBe(succeeded);
      expect(healthAfter.error_count - healthBefore[provider].error_count).toBe(failed);
      expect(healthAfter.call_count - healthBefore[provider].call_count).toBe(succeeded + failed);
    }
    // Every request succeeded somewhere: the successful attempts are exactly the clients' successes.
    expect(clientSuccesses).toBe(40);
    const successfulAttempts =
      after.anthropic.succeeded -
      before.anthropic.succeeded +
      (after.openrouter.succeeded - before.openrouter.succeeded);
    expect(successfulAttempts).toBe(40);
  });

  it('serves the model-health endpoints with 400s naming bad parameters', async () => {
    const list = await (await fetch(`${gw.url}/v1/model-health?limit=2`)).json();
    expect(list.items.length).toBeLessThanOrEqual(2);
    expect(list.total).toBeGreaterThan(0);
    expect((await fetch(`${gw.url}/v1/model-health/stats`)).status).toBe(200);
    expect((await fetch(`${gw.url}/v1/model-health/providers`)).status).toBe(200);
    expect((await fetch(`${gw.url}/v1/model-health/provider/openai/summary`)).status).toBe(200);
    expect((await fetch(`${gw.url}/v1/model-health/unhealthy?error_threshold=0.1`)).status).toBe(200);
    const bad = await fetch(`${gw.url}/v1/model-health/unhealthy?error_threshold=7`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.param).toBe('error_threshold');
  });
});

describe('example gateway: upstream faults map to model-health statuses', () => {
  it.each([
    // Every provider of the model rate limited: the client is told so (429), not sent a 502.
    ['rate_limit', 'rate_limited', 429, 'rate_limit_exceeded'],
    ['hang', 'timeout', 502, 'upstream_failed'],
    ['reset', 'network_error', 502, 'upstream_failed'],
  ] as const)('%s on the only provider of a model gives status %s', async (failureMode, status, httpStatus, code) => {
    const openrouter = gw.provider('openrouter');
    openrouter.configure({ errorRate: 1, failureMode });
    const before = await health('openrouter', 'llama-3.1-8b-instruct');
    const response = await gw.post('/v1/chat/completions', chatBody('llama-3.1-8b-instruct'));
    expect(response.status).toBe(httpStatus);
    expect((await response.json()).error.code).toBe(code);
    const after = await health('openrouter', 'llama-3.1-8b-instruct');
    expect(after?.lastStatus).toBe(status);
    expect((after?.errorCount ?? 0) - (before?.errorCount ?? 0)).toBe(1);
  });
});

describe('example gateway: rate limits and the circuit breaker', () => {
  it('a provider answering 429 again and again keeps its breaker closed: clients get 429, never 503', async () => {
    // A gateway of its own: no earlier successes in the breaker's window to dilute the failures.
    const fresh = await startTestGateway();
    try {
      const openrouter = fresh.provider('openrouter');
      openrouter.configure({ errorRate: 1, failureMode: 'rate_limit' });
      const sent = () => openrouter.requestCounts.get('/v1/chat/completions') ?? 0;
      // Four times the breaker's volume threshold (3), all failing: errors this many would open it.
      for (let index = 0; index < 12; index++) {
        const response = await fresh.post('/v1/chat/completions', chatBody('llama-3.1-8b-instruct'));
        expect(response.status).toBe(429);
        expect((await response.json()).error.code).toBe('rate_limit_exceeded');
      }
      // Every request was tried (the only provider of the model), none refused by an open breaker.
      expect(sent()).toBe(12);
      const metrics = await (await fetch(`${fresh.url}/metrics`)).text();
      expect(metrics).toContain('gatewayz_circuit_breaker_state{provider="openrouter",state="closed"} 1');
    } finally {
      await fresh.close();
    }
  });
});

describe('example gateway: client disconnects', () => {
  it('cancels the upstream attempt when the client goes away, without waiting for the attempt timeout', async () => {
    const openrouter = gw.provider('openrouter');
    openrouter.configure({ errorRate: 1, failureMode: 'hang' });
    const before = await health('openrouter', 'llama-3.1-8b-instruct');
    const attempts = async (errorType: string): Promise<number> =>
      sampleSum(await gw.scrape(), 'gen_ai_client_operation_duration_count', {
        gen_ai_provider_name: 'openrouter',
        gen_ai_request_model: 'llama-3.1-8b-instruct',
        error_type: errorType,
      });
    const [cancelledBefore, timeoutsBefore] = [await attempts('cancelled'), await attempts('timeout')];
    const sent = () => openrouter.requestCounts.get('/v1/chat/completions') ?? 0;
    const sentBefore = sent();
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody('llama-3.1-8b-instruct')),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    // Wait until the request reached the provider, then hang up.
    const deadline = Date.now() + 1_500;
    let after = before;
    while (Date.now() < deadline && sent() === sentBefore) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    // The attempt ends as cancelled, not as the timeout it would become after 2 s...
    while (Date.now() < deadline && (await attempts('cancelled')) === cancelledBefore) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await attempts('cancelled')) - cancelledBefore).toBe(1);
    expect((await attempts('timeout')) - timeoutsBefore).toBe(0);
    // ...and, since the provider was never given the time to answer, it is not held against it:
    // model health (so the provider's availability and score) has no call for it.
    after = await health('openrouter', 'llama-3.1-8b-instruct');
    expect(after?.callCount ?? 0).toBe(before?.callCount ?? 0);
    // As the GenAI server, the gateway lost its client (as a stream left midway), not a bad request.
    const model = { gen_ai_request_model: 'llama-3.1-8b-instruct' };
    const text = await gw.scrape();
    expect(sampleSum(text, 'gen_ai_server_request_duration_count', { ...model, error_type: 'client_cancelled' })).toBe(
      1,
    );
    expect(sampleSum(text, 'gen_ai_server_request_duration_count', { ...model, error_type: '400' })).toBe(0);
  });
});

describe('example gateway: bad input', () => {
  it.each([
    ['malformed JSON', '{"model":', 400, 'invalid_json'],
    ['a JSON array', '[1,2]', 400, 'invalid_json'],
    ['missing model', JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }), 400, 'invalid_request'],
    ['missing messages', JSON.stringify({ model: 'gpt-4o' }), 400, 'invalid_request'],
    ['wrong message type', JSON.stringify({ model: 'gpt-4o', messages: ['hi'] }), 400, 'invalid_request'],
    [
      'wrong stream type',
      JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }),
      400,
      'invalid_request',
    ],
    [
      'unknown model',
      JSON.stringify({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }),
      404,
      'model_not_found',
    ],
  ])('%s gets an OpenAI-style error', async (_case, body, status, code) => {
    const response = await gw.post('/v1/chat/completions', body);
    expect(response.status).toBe(status);
    const error = (await response.json()).error;
    expect(error.code).toBe(code);
    expect(typeof error.message).toBe('string');
  });

  it('names the offending parameter', async () => {
    const response = await gw.post('/v1/chat/completions', {
      model: 'gpt-4o',
      messages: [{ role: 'robot', content: 'x' }],
    });
    expect((await response.json()).error.param).toBe('messages[0].role');
  });

  it('rejects bodies over the limit with 413 and other content types with 415', async () => {
    const huge = JSON.stringify(chatBody('gpt-4o', { padding: 'x'.repeat(1_100_000) }));
    expect((await gw.post('/v1/chat/completions', huge)).status).toBe(413);
    const text = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
  });

  it('rejects a streamed (chunked, no content-length) body once it passes the limit, and keeps serving', async () => {
    const { request } = await import('node:http');
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = request(
        `${gw.url}/v1/chat/completions`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      outgoing.on('error', reject);
      outgoing.write('{"model":"gpt-4o","padding":"');
      for (let index = 0; index < 24; index++) outgoing.write('x'.repeat(64 * 1024));
      outgoing.end('"}');
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe('request_too_large');
    expect((await fetch(`${gw.url}/v1/models`)).status).toBe(200);
  });

  it.each([
    ['a header line without a colon', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400],
    [
      'a Content-Length that is not a number',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      400,
    ],
    [
      'an invalid chunk',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      400,
    ],
    ['headers over the size limit', `GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a request line that is not HTTP', 'GARBAGE\r\n\r\n', 400],
  ])('answers %s, which never reaches the app, with a JSON error, and keeps serving', async (_title, raw, status) => {
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.write(raw);
    });
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head.toLowerCase()).toContain('content-type: application/json');
    const error = JSON.parse(body).error;
    expect(error.type).toBe('invalid_request_error');
    expect(typeof error.message).toBe('string');
    expect(error.code).toBe(status === 431 ? 'request_headers_too_large' : 'malformed_request');
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it('never writes an error answer into a streamed answer already under way on the connection', async () => {
    // A pipelined request Node's parser refuses while the stream of the previous one is being
    // relayed: an error answer written now would land inside the chunked stream and corrupt it.
    // A gateway of its own: no breaker opened by the tests before, so the answer is a stream.
    const own = await startTestGateway();
    try {
      for (const provider of own.demo.simulated) provider.configure({ chunkDelayMs: 20 });
      const { connect } = await import('node:net');
      const body = JSON.stringify(chatBody('gpt-4o', { stream: true }));
      const received = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(own.url).port), '127.0.0.1');
        let text = '';
        let garbageSent = false;
        socket.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
          if (!garbageSent && text.includes('data: ')) {
            garbageSent = true;
            socket.write('GARBAGE\r\n\r\n');
          }
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        // Whatever went wrong, end with what arrived rather than wait for the test timeout.
        socket.setTimeout(4000, () => socket.destroy());
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      });
      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      expect(received).toContain('data: ');
      // The connection is dropped (as Node does), never answered twice.
      expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      expect(received).not.toContain('malformed_request');
      expect((await fetch(`${own.url}/health`)).status).toBe(200);
    } finally {
      await own.close();
    }
  });

  it('counts a body the client cut off as a client that went away (499), not as a server error (500)', async () => {
    const { connect } = await import('node:net');
    const before = await gw.scrape();
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    const counted = (text: string, status: string): number =>
      sampleSum(text, 'fastapi_requests_total', { path: '/v1/chat/completions', status_code: status }) -
      sampleSum(before, 'fastapi_requests_total', { path: '/v1/chat/completions', status_code: status });
    let after = await gw.scrape();
    const any = (text: string): number => counted(text, '499') + counted(text, '400') + counted(text, '500');
    for (let attempt = 0; attempt < 100 && any(after) === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await gw.scrape();
    }
    expect(counted(after, '499')).toBe(1);
    expect(counted(after, '400')).toBe(0);
    expect(counted(after, '500')).toBe(0);
  });

  it.each([
    ['closes its side', false],
    ['keeps its side open', true],
  ])(
    "counts a chunk Node's parser refused as the 400 it was answered, promptly, when the client %s",
    async (_title, allowHalfOpen) => {
      const { connect } = await import('node:net');
      const before = await gw.scrape();
      const socket = connect({ port: Number(new URL(gw.url).port), host: '127.0.0.1', allowHalfOpen });
      const answer = await new Promise<string>((resolve, reject) => {
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.write(
          'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"mod\r\nzz\r\n',
        );
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      const counted = (text: string, status: string): number =>
        sampleSum(text, 'fastapi_requests_total', { path: '/v1/chat/completions', status_code: status }) -
        sampleSum(before, 'fastapi_requests_total', { path: '/v1/chat/completions', status_code: status });
      // The handler ends without waiting for the client to hang up (a half-open one never does).
      let after = await gw.scrape();
      for (let attempt = 0; attempt < 100 && counted(after, '400') + counted(after, '499') === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        after = await gw.scrape();
      }
      socket.destroy();
      expect(counted(after, '400')).toBe(1);
      expect(counted(after, '499')).toBe(0);
    },
  );

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`${gw.url}/v2/whatever`);
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe('not_found');
  });

  it('never turns a client path into a metric label', async () => {
    await fetch(`${gw.url}/secret-path-${Date.now()}`);
    const text = await gw.scrape();
    expect(text).not.toContain('secret-path');
    expect(sampleSum(text, 'fastapi_requests_total', { path: 'other', status_code: '404' })).toBeGreaterThan(0);
  });

  it('never turns a model name a client sends into a metric label', async () => {
    const before = await gw.scrape();
    const unknown = ['client-model-a', 'client-model-b', `client-model-${'x'.repeat(300)}`];
    for (const model of unknown) {
      const response = await gw.post('/v1/chat/completions', chatBody(model));
      expect(response.status).toBe(404);
      expect((await response.json()).error.code).toBe('model_not_found');
    }
    // A model configured for chat but asked for images is a known name: it keeps its label.
    const images = await gw.post('/v1/images/generations', { model: 'gpt-4o', prompt: 'a lighthouse' });
    expect(images.status).toBe(404);
    const after = await gw.scrape();
    expect(after).not.toContain('client-model');
    const delta = (labels: Record<string, string>): number =>
      sampleSum(after, 'gen_ai_server_request_duration_count', labels) -
      sampleSum(before, 'gen_ai_server_request_duration_count', labels);
    expect(delta({ gen_ai_request_model: '_OTHER', error_type: '404' })).toBe(3);
    // No model generated a response to them: they carry no gen_ai.response.model.
    expect(after).not.toMatch(/^gen_ai_server_request_duration_count\{[^}]*gen_ai_response_model="_OTHER"/m);
    expect(
      delta({ gen_ai_operation_name: 'image_generation', gen_ai_request_model: 'gpt-4o', error_type: '404' }),
    ).toBe(1);
    // The over-long name is not a dropped recording either: nothing was wrong with the telemetry.
    expect(
      sampleSum(after, 'gatewayz_telemetry_dropped_total') - sampleSum(before, 'gatewayz_telemetry_dropped_total'),
    ).toBe(0);
  });
});

describe('example gateway: exposition', () => {
  it.skipIf(!componentAvailable('promtool'))('passes promtool check metrics after traffic', async () => {
    await gw.post('/v1/chat/completions', chatBody('gpt-4o'));
    const result = await promtoolCheckMetrics(await gw.scrape());
    expect(result.problems.filter((line) => !line.startsWith('subscription_count '))).toEqual([]);
  });
});
