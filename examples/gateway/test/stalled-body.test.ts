import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSum, startGatewayFor } from './harness.js';
import { chatCompletionAnswer } from './scripted-upstream.js';

/*
 * A provider that sends its response headers and then stalls its body: the attempt must end as a
 * `timeout` once the body has been silent for STREAM_IDLE_TIMEOUT_MS, and the request fail over,
 * for a JSON answer as for the error body of a streamed request. Before, the body was read with no
 * deadline: the request waited for ever, never tried the next provider and stayed in flight.
 */

const IDLE_MS = 300;

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface Upstream {
  url: string;
  requests: number;
  /** Responses the upstream left open (its stalled bodies): closed when the test ends. */
  open: Set<ServerResponse>;
  handler: Handler;
  server: Server;
}

async function startUpstream(handler: Handler): Promise<Upstream> {
  const upstream: Upstream = { url: '', requests: 0, open: new Set(), handler, server: undefined as unknown as Server };
  upstream.server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      upstream.requests++;
      upstream.open.add(response);
      response.once('close', () => upstream.open.delete(response));
      upstream.handler(request, response);
    });
  });
  await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`;
  return upstream;
}

let stalling: Upstream;
let healthy: Upstream;
let gw: Awaited<ReturnType<typeof startGatewayFor>>;
let url: string;

beforeAll(async () => {
  stalling = await startUpstream(() => {});
  healthy = await startUpstream((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(chatCompletionAnswer('b-1', 'm', 'from B', { prompt_tokens: 3, completion_tokens: 2 })),
    );
  });
  // The stalling provider first: with no health data yet, the chain keeps the configured order.
  gw = await startGatewayFor(
    [
      { name: 'stalling', baseUrl: `${stalling.url}/v1`, models: ['m'] },
      { name: 'healthy', baseUrl: `${healthy.url}/v1`, models: ['m'] },
    ],
    { ATTEMPT_TIMEOUT_MS: '5000', STREAM_IDLE_TIMEOUT_MS: String(IDLE_MS) },
  );
  url = gw.url;
});

afterAll(async () => {
  for (const upstream of [stalling, healthy]) {
    for (const response of upstream.open) response.destroy();
    upstream.server.closeAllConnections();
    await new Promise((resolve) => upstream.server.close(resolve));
  }
  await gw.close();
});

const chat = (stream: boolean): Promise<Response> =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...(stream ? { stream } : {}) }),
    signal: AbortSignal.timeout(10_000),
  });

const scrape = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();

describe('a provider that stalls its body after the headers', () => {
  it('fails the attempt as a timeout after STREAM_IDLE_TIMEOUT_MS of silence and fails over (JSON answer)', async () => {
    stalling.handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"id":"a-1","choices":[');
    };
    const before = { stalling: stalling.requests, healthy: healthy.requests };
    const startedAt = performance.now();
    const response = await chat(false);
    const elapsed = performance.now() - startedAt;
    expect(response.status).toBe(200);
    expect(
      ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content,
    ).toBe('from B');
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 10);
    expect(stalling.requests - before.stalling).toBe(1);
    expect(healthy.requests - before.healthy).toBe(1);
    // The stalled response was let go: its connection is closed, not left open.
    await expect.poll(() => stalling.open.size, { timeout: 2_000 }).toBe(0);
    const text = await scrape();
    expect(sampleSum(text, 'model_inference_requests_total', { provider: 'stalling', status: 'timeout' })).toBe(1);
    expect(sampleSum(text, 'model_inference_requests_total', { provider: 'healthy', status: 'success' })).toBe(1);
    expect(sampleSum(text, 'fastapi_requests_in_progress', { path: '/v1/chat/completions' })).toBe(0);
  });

  it('fails over when a streamed request is answered with an error whose body stalls', async () => {
    stalling.handler = (_request, response) => {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.write('{"error":');
    };
    healthy.handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
        `data: ${JSON.stringify({ id: 'b-2', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      response.end(
        `${chunk({ role: 'assistant', content: 'streamed from B' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`,
      );
    };
    const errorsBefore = sampleSum(await scrape(), 'model_inference_requests_total', {
      provider: 'stalling',
      status: 'error',
    });
    const response = await chat(true);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('streamed from B');
    await expect.poll(() => stalling.open.size, { timeout: 2_000 }).toBe(0);
    const text = await scrape();
    expect(
      sampleSum(text, 'model_inference_requests_total', { provider: 'stalling', status: 'error' }) - errorsBefore,
    ).toBe(1);
    expect(sampleSum(text, 'fastapi_requests_in_progress', { path: '/v1/chat/completions' })).toBe(0);
  });
});
