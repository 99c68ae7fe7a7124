import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningTelemetry } from '@gatewayz/telemetry-node';
import type { Gateway } from '../src/index.js';
import { chatBody, sampleSum, startGatewayFor } from './harness.js';

/*
 * What counts against a provider, through the real gateway in this process: two providers on a
 * loopback upstream that behaves like OpenAI's (a `max_tokens` over the model's limit is the
 * client's 400; a wrong key is 401, a model it lacks 404, an outage 500). A client's bad requests
 * and the requests it abandons must leave the provider's health alone (model health, the tracker's
 * availability/error rate/score, model_inference_requests_total, the anomaly detector, the
 * breaker), while the provider's own faults still count everywhere.
 */

type Mode = 'ok' | 'unauthorized' | 'model_not_found' | 'server_error';

interface Upstream {
  url: string;
  /** How provider `acme` answers from now on, and after how long. */
  set(mode: Mode, latencyMs?: number): void;
  /** Requests received per provider. */
  received: Map<string, number>;
  close(): Promise<void>;
}

const MODEL = 'acme-1';
const MAX_TOKENS_LIMIT = 4096;

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const piece of request) text += String(piece);
  return JSON.parse(text) as Record<string, unknown>;
}

async function startUpstream(): Promise<Upstream> {
  let mode: Mode = 'ok';
  let latencyMs = 0;
  const received = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    void (async () => {
      const provider = (request.url ?? '').split('/')[1] ?? '';
      received.set(provider, (received.get(provider) ?? 0) + 1);
      const body = await readBody(request);
      const send = (status: number, payload: unknown): void => {
        if (response.destroyed) return;
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      };
      const acme = provider === 'acme';
      if (acme && latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      if (acme && mode === 'unauthorized') {
        send(401, {
          error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' },
        });
        return;
      }
      if (acme && mode === 'model_not_found') {
        send(404, {
          error: {
            message: `The model \`${MODEL}\` does not exist`,
            type: 'invalid_request_error',
            code: 'model_not_found',
          },
        });
        return;
      }
      if (acme && mode === 'server_error') {
        send(500, { error: { message: 'The server had an error', type: 'server_error' } });
        return;
      }
      if (typeof body['max_tokens'] === 'number' && body['max_tokens'] > MAX_TOKENS_LIMIT) {
        send(400, {
          error: {
            message: `max_tokens is too large: ${body['max_tokens']}. This model supports at most ${MAX_TOKENS_LIMIT}.`,
            type: 'invalid_request_error',
            param: 'max_tokens',
            code: 'invalid_value',
          },
        });
        return;
      }
      send(200, {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        model: MODEL,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      });
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    set: (next, latency = 0) => {
      mode = next;
      latencyMs = latency;
    },
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Setup {
  url: string;
  gateway: Gateway;
  otel: RunningTelemetry;
  upstream: Upstream;
  close(): Promise<void>;
}

/** The gateway with `acme` first and `backup` second, both serving MODEL from the loopback upstream. */
async function start(env: Record<string, string>): Promise<Setup> {
  const upstream = await startUpstream();
  const running = await startGatewayFor(
    [
      { name: 'acme', baseUrl: `${upstream.url}/acme/v1`, apiKey: 'acme-key', models: [MODEL] },
      { name: 'backup', baseUrl: `${upstream.url}/backup/v1`, apiKey: 'backup-key', models: [MODEL] },
    ],
    { ATTEMPT_TIMEOUT_MS: '5000', ...env },
  );
  return {
    ...running,
    upstream,
    close: async () => {
      await running.close();
      await upstream.close();
    },
  };
}

describe('what counts against a provider', () => {
  let setup: Setup | undefined;
  afterEach(async () => {
    await setup?.close();
    setup = undefined;
  });

  const post = (body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> =>
    fetch(`${setup!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(signal !== undefined ? { signal } : {}),
    });
  const scrape = async (): Promise<string> => (await fetch(`${setup!.url}/metrics`)).text();
  const waitFor = async (predicate: () => boolean | Promise<boolean>, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const attempts = async (errorType: string): Promise<number> =>
    sampleSum(await scrape(), 'gen_ai_client_operation_duration_count', {
      gen_ai_provider_name: 'acme',
      error_type: errorType,
    });
  /** Send a request acme answers slowly, and leave once acme has received it. */
  const cancelMidCall = async (): Promise<void> => {
    const before = setup!.upstream.received.get('acme') ?? 0;
    const controller = new AbortController();
    const request = post(chatBody(MODEL), controller.signal).catch((error: unknown) => error);
    await waitFor(() => (setup!.upstream.received.get('acme') ?? 0) > before, 'acme to receive the request');
    controller.abort();
    expect(await request).toBeInstanceOf(Error);
  };
  const acmeHealth = async (): Promise<{
    calls: number;
    successes: number;
    availability: number | undefined;
    errorRate: number | undefined;
    score: number | undefined;
  }> => {
    await setup!.gateway.recorder.flush();
    const snapshot = await setup!.gateway.tracker.tick();
    const acme = snapshot.find((provider) => provider.provider === 'acme');
    const record = await setup!.gateway.store.getModelHealth('acme', MODEL);
    return {
      calls: record?.callCount ?? 0,
      successes: record?.successCount ?? 0,
      availability: acme?.availability,
      errorRate: acme?.errorRate,
      score: setup!.gateway.tracker.healthScore('acme'),
    };
  };

  it("leaves a client's bad requests and abandoned requests out of the provider's health; its own faults count", async () => {
    // A breaker that never opens here, so every request reaches acme (the breaker is tested below).
    setup = await start({ BREAKER_VOLUME_THRESHOLD: '100000' });
    for (let i = 0; i < 4; i++) expect((await post(chatBody(MODEL))).status).toBe(200);

    // 25 requests the upstream rejects as the client's fault (a fifth of them streamed): passed back
    // as they are, no failover.
    for (let i = 0; i < 25; i++) {
      const response = await post(chatBody(MODEL, { max_tokens: 100_000, stream: i % 5 === 0 }));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_value');
    }
    expect(setup.upstream.received.get('backup') ?? 0).toBe(0);
    // 3 requests whose client leaves while acme works on them.
    setup.upstream.set('ok', 2000);
    for (let i = 0; i < 3; i++) await cancelMidCall();
    await waitFor(async () => (await attempts('cancelled')) === 3, 'the cancelled attempts to be recorded');
    setup.upstream.set('ok');

    // The attempts themselves are on record as what they were...
    expect(await attempts('400')).toBe(25);
    // ...but the provider is as healthy as its 4 answers.
    expect(await acmeHealth()).toEqual({ calls: 4, successes: 4, availability: 1, errorRate: 0, score: 1 });
    let text = await scrape();
    expect(sampleSum(text, 'model_inference_requests_total', { provider: 'acme', status: 'success' })).toBe(4);
    expect(sampleSum(text, 'model_inference_requests_total', { provider: 'acme', status: 'error' })).toBe(0);
    expect(sampleSum(text, 'model_inference_duration_seconds_count', { provider: 'acme' })).toBe(4);
    expect(sampleSum(text, 'provider_response_time_seconds_count', { provider: 'acme' })).toBe(4);
    expect(sampleSum(text, 'gatewayz_requests_by_api_key_total', { status: 'error' })).toBe(0);
    expect(sampleSum(text, 'gatewayz_detected_anomalies_total', { type: 'error_surge' })).toBe(0);
    expect(setup.gateway.router.breakerStates()['acme']).toBe('closed');

    // The provider's own faults: the gateway's key rejected (401), a configured model it lacks
    // (404), an outage (500). Each fails over to backup (the client gets its answer) and counts.
    for (const mode of ['unauthorized', 'model_not_found', 'server_error'] as const) {
      setup.upstream.set(mode);
      for (let i = 0; i < 8; i++) expect((await post(chatBody(MODEL))).status).toBe(200);
    }
    expect(await acmeHealth()).toEqual({ calls: 28, successes: 4, availability: 0, errorRate: 1, score: 0.3 });
    text = await scrape();
    expect(sampleSum(text, 'model_inference_requests_total', { provider: 'acme', status: 'error' })).toBe(24);
    expect(sampleSum(text, 'gatewayz_requests_by_api_key_total', { status: 'error' })).toBe(24);
    expect(sampleSum(text, 'gatewayz_detected_anomalies_total', { type: 'error_surge' })).toBe(1);
    for (const errorType of ['401', '404', '500']) expect(await attempts(errorType), errorType).toBe(8);
    expect(
      sampleSum(text, 'gatewayz_failovers_total', { provider: 'acme', next_provider: 'backup', reason: 'error' }),
    ).toBe(24);
  }, 60_000);

  it("opens the breaker on the provider's faults (404 included), never on a client's bad or abandoned requests", async () => {
    // Opens at half the calls failing once 5 calls are in the window (the defaults).
    setup = await start({ BREAKER_VOLUME_THRESHOLD: '5', BREAKER_RESET_TIMEOUT_MS: '600000' });
    for (let i = 0; i < 20; i++) expect((await post(chatBody(MODEL, { max_tokens: 100_000 }))).status).toBe(400);
    setup.upstream.set('ok', 2000);
    for (let i = 0; i < 3; i++) await cancelMidCall();
    await waitFor(async () => (await attempts('cancelled')) === 3, 'the cancelled attempts to be recorded');
    expect(setup.gateway.router.breakerStates()['acme']).toBe('closed');

    // A model acme lacks: a configuration problem. Fails over, and opens the breaker like an outage.
    setup.upstream.set('model_not_found');
    for (let sent = 0; setup.gateway.router.breakerStates()['acme'] !== 'open'; sent++) {
      if (sent > 50) throw new Error('the breaker did not open on 404s');
      expect((await post(chatBody(MODEL))).status).toBe(200);
    }
    const text = await scrape();
    expect(
      sampleSum(text, 'gatewayz_circuit_breaker_transitions_total', {
        provider: 'acme',
        from_state: 'closed',
        to_state: 'open',
      }),
    ).toBe(1);
  }, 60_000);
});
