import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sampleSum, SpanRecorder, startGatewayFor } from './harness.js';

/*
 * A client that leaves while its provider's body trickles in (a space now and then, never its end).
 * Every read of a whole body must hear the client go: what arrives then no longer extends the read,
 * and the body is let go one STREAM_IDLE_TIMEOUT_MS later. Before, the non-streamed answer, the JSON
 * body answering a stream request of the Responses API and the error body were read with no word of
 * the client: the upstream connection was held for as long as the provider trickled, and the attempt
 * was finally recorded as the provider's `network_error` although its client had left long before.
 */

const IDLE_MS = 300;
/** How often the provider sends a space: well within the idle timeout, so the body is never idle. */
const TRICKLE_MS = 20;

let upstream: Server;
let status = 200;
/** Told, once the next answer's headers and first part went out, of when its connection closes. */
let next: (answer: { closed: Promise<void> }) => void = () => {};
const open = new Set<ServerResponse>();
let gw: Awaited<ReturnType<typeof startGatewayFor>>;
const spans = new SpanRecorder();

beforeAll(async () => {
  upstream = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      open.add(response);
      const closed = new Promise<void>((resolve) => response.once('close', () => resolve()));
      void closed.then(() => open.delete(response));
      response.writeHead(status, { 'content-type': 'application/json' });
      response.write(status === 200 ? '{"id":"chatcmpl-trickle","choices":[' : '{"error":');
      const trickle = setInterval(() => response.write(' '), TRICKLE_MS);
      void closed.then(() => clearInterval(trickle));
      next({ closed });
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  gw = await startGatewayFor(
    [{ name: 'trickling', baseUrl, models: ['m'], responsesApi: true }],
    { ATTEMPT_TIMEOUT_MS: '5000', STREAM_IDLE_TIMEOUT_MS: String(IDLE_MS) },
    { spanProcessors: [spans] },
  );
});

afterAll(async () => {
  for (const response of open) response.destroy();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  await gw.close();
});

/**
 * Send `body` to `path`, leave once the provider's body began to trickle, and resolve with how long
 * the provider's connection stayed open after that (or reject when it is still open after 3 s).
 */
async function leaveDuringTheBody(path: string, body: Record<string, unknown>): Promise<number> {
  const answering = new Promise<{ closed: Promise<void> }>((resolve) => (next = resolve));
  const leaving = new AbortController();
  const answer = fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: leaving.signal,
  });
  answer.catch(() => {});
  const { closed } = await answering;
  leaving.abort();
  const leftAt = performance.now();
  let released: number | undefined;
  void closed.then(() => (released = performance.now() - leftAt));
  await vi.waitFor(() => expect(released).toBeDefined(), { timeout: 3000, interval: 10 });
  return released as number;
}

/** The `error.type` of the one attempt span ended since `spans.clear()`. */
async function attemptError(): Promise<unknown> {
  const attempts = (): ReadableSpan[] => spans.spans.filter((span) => span.kind === SpanKind.CLIENT);
  await vi.waitFor(() => expect(attempts()).toHaveLength(1), { timeout: 2000, interval: 5 });
  return attempts()[0]?.attributes['error.type'];
}

const messages = [{ role: 'user', content: 'hi' }];

describe("a client that leaves while its provider's body trickles in", () => {
  it.each([
    { what: 'a non-streamed chat answer', path: '/v1/chat/completions', body: { model: 'm', messages } },
    {
      what: 'a JSON body answering a Responses stream',
      path: '/v1/responses',
      body: { model: 'm', input: 'hi', stream: true },
    },
  ])('lets $what go one idle timeout later: the attempt is cancelled, not a network error', async ({ path, body }) => {
    status = 200;
    spans.clear();
    const before = await (await fetch(`${gw.url}/metrics`)).text();
    const released = await leaveDuringTheBody(path, body);
    expect(released).toBeGreaterThanOrEqual(IDLE_MS - 20);
    expect(released).toBeLessThan(IDLE_MS + 1500);
    expect(await attemptError()).toBe('cancelled');
    const after = await (await fetch(`${gw.url}/metrics`)).text();
    const networkErrors = (text: string): number =>
      sampleSum(text, 'model_inference_requests_total', { provider: 'trickling', status: 'network_error' });
    expect(networkErrors(after) - networkErrors(before)).toBe(0);
  });

  it("lets an error body go one idle timeout later; the attempt keeps the provider's status", async () => {
    status = 503;
    spans.clear();
    const released = await leaveDuringTheBody('/v1/chat/completions', { model: 'm', messages });
    expect(released).toBeLessThan(IDLE_MS + 1500);
    expect(await attemptError()).toBe('503');
  });
});
