import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSum, startGatewayFor } from './harness.js';

/*
 * A stream provider that sends its headers, then only keep-alive bytes (`: PROCESSING` comments
 * every second, as OpenRouter does while a request is queued, or events without data) and never a
 * first event. Each read restarts the idle timeout, so before, the client waited for ever: no status
 * line, no failover. Now the first sound event is due ATTEMPT_TIMEOUT_MS after the attempt's start;
 * past it the attempt fails as `timeout` and the next provider answers.
 */

const ATTEMPT_TIMEOUT_MS = 2000;
/** Shorter than the attempt's deadline, longer than the keep-alive period: silence would fail it sooner. */
const STREAM_IDLE_TIMEOUT_MS = 1000;
const KEEPALIVE_MS = 50;

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface Upstream {
  url: string;
  handler: Handler;
  /** Responses not closed yet. */
  open: Set<ServerResponse>;
  server: Server;
}

async function startUpstream(handler: Handler): Promise<Upstream> {
  const upstream = { url: '', handler, open: new Set<ServerResponse>(), server: undefined as unknown as Server };
  upstream.server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      upstream.open.add(response);
      response.once('close', () => upstream.open.delete(response));
      upstream.handler(request, response);
    });
  });
  await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}/v1`;
  return upstream;
}

const chunk = (id: string, delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** A stream saying `text`, whole. */
const stream = (id: string, text: string): string =>
  `${chunk(id, { role: 'assistant', content: text })}${chunk(id, {}, 'stop')}data: [DONE]\n\n`;

/** Headers after `headersAfterMs`, then `keepAlive` every `KEEPALIVE_MS`; the stream `then` after `thenAfterMs`. */
function keepingAlive(keepAlive: string, headersAfterMs = 0, then?: { afterMs: number; text: string }): Handler {
  return (_request, response) => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    response.once('close', () => timers.forEach(clearTimeout));
    timers.push(
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.flushHeaders();
        timers.push(setInterval(() => response.writableEnded || response.write(keepAlive), KEEPALIVE_MS));
        if (then !== undefined) timers.push(setTimeout(() => response.end(stream('q-1', then.text)), then.afterMs));
      }, headersAfterMs),
    );
  };
}

let queued: Upstream;
let healthy: Upstream;
let gw: Awaited<ReturnType<typeof startGatewayFor>>;

beforeAll(async () => {
  queued = await startUpstream(() => {});
  healthy = await startUpstream((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(stream('h-1', 'from healthy'));
  });
  // With no health data yet, the chain keeps the configured order: `queued` first.
  gw = await startGatewayFor(
    [
      { name: 'queued', baseUrl: queued.url, models: ['m'] },
      { name: 'healthy', baseUrl: healthy.url, models: ['m'] },
    ],
    {
      ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
      STREAM_IDLE_TIMEOUT_MS: String(STREAM_IDLE_TIMEOUT_MS),
      BREAKER_VOLUME_THRESHOLD: '1000',
    },
  );
});

afterAll(async () => {
  for (const upstream of [queued, healthy]) {
    for (const response of upstream.open) response.destroy();
    upstream.server.closeAllConnections();
    await new Promise((resolve) => upstream.server.close(resolve));
  }
  await gw.close();
});

/** Stream a chat; resolves with the text answered and how long the answer took. */
async function streamChat(): Promise<{ status: number; text: string; elapsedMs: number }> {
  const startedAt = performance.now();
  const response = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    signal: AbortSignal.timeout(6000),
  });
  const text = await response.text();
  return { status: response.status, text, elapsedMs: performance.now() - startedAt };
}

const outcomes = async (): Promise<{ queuedTimeout: number; healthySuccess: number }> => {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const count = (provider: string, status: string): number =>
    sampleSum(text, 'model_inference_requests_total', { provider, status });
  return { queuedTimeout: count('queued', 'timeout'), healthySuccess: count('healthy', 'success') };
};

describe('a stream provider sending keep-alive bytes and no first event', () => {
  it.each([
    { what: 'SSE comments', keepAlive: ': PROCESSING\n\n' },
    { what: 'events without data', keepAlive: 'event: ping\n\n' },
  ])(
    'fails as a timeout ATTEMPT_TIMEOUT_MS after the start, and the next provider answers ($what)',
    async ({ keepAlive }) => {
      queued.handler = keepingAlive(keepAlive);
      const before = await outcomes();
      const answer = await streamChat();
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('from healthy');
      expect(answer.elapsedMs).toBeGreaterThanOrEqual(ATTEMPT_TIMEOUT_MS - 20);
      // Margins wide enough for a loaded machine; before, the client's own 5 s timeout ended it.
      expect(answer.elapsedMs).toBeLessThan(ATTEMPT_TIMEOUT_MS + 2000);
      const after = await outcomes();
      expect(after.queuedTimeout - before.queuedTimeout).toBe(1);
      expect(after.healthySuccess - before.healthySuccess).toBe(1);
      // The queued stream was let go.
      await expect.poll(() => queued.open.size, { timeout: 2000 }).toBe(0);
    },
  );

  it("counts the deadline from the attempt's start, not from the headers", async () => {
    // Headers half-way through the deadline: from them, the attempt would last 1.5 deadlines.
    queued.handler = keepingAlive(': PROCESSING\n\n', ATTEMPT_TIMEOUT_MS / 2);
    const answer = await streamChat();
    expect(answer.text).toContain('from healthy');
    expect(answer.elapsedMs).toBeLessThan(ATTEMPT_TIMEOUT_MS + ATTEMPT_TIMEOUT_MS / 2 - 400);
  });

  it('relays a stream whose first event comes after keep-alive bytes, within the deadline', async () => {
    queued.handler = keepingAlive(': PROCESSING\n\n', 0, { afterMs: ATTEMPT_TIMEOUT_MS / 2, text: 'from queued' });
    const before = await outcomes();
    const answer = await streamChat();
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('from queued');
    expect((await outcomes()).queuedTimeout).toBe(before.queuedTimeout);
  });
});
