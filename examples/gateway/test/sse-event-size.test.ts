import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openAiStreamEncoder } from '../src/protocol/stream-encoder.js';
import { MAX_SUCCESS_BODY_BYTES, postUpstream, type UpstreamBody } from '../src/providers/upstream.js';
import type { AttemptCompletion } from '../src/request/attempt.js';
import { relaySse, type RelayOptions } from '../src/request/sse-relay.js';
import { sampleSum, startGatewayFor } from './harness.js';

/*
 * One SSE event is held until its blank line. An upstream that keeps sending bytes and never a
 * blank line is never idle, so before the limit the gateway held all it sent (1.4 GB in a minute
 * and a half) and searched it all again on every chunk. An event longer than the limit now fails
 * the attempt as `invalid_response` (the provider's fault), delivered to the client as the
 * protocol's stream error event, and the upstream connection is closed.
 */

const CHUNK = Buffer.alloc(64 * 1024, 'x');

/**
 * A loopback upstream streaming one event that never ends: its opening, then `CHUNK`s (with
 * backpressure) until `limitBytes` or until the gateway closes the connection.
 */
interface EndlessUpstream {
  url: string;
  /** Bytes written before the stream ended, and whether the other side closed it first. */
  finished: Promise<{ written: number; cut: boolean }>;
  close(): Promise<void>;
}

async function startEndlessUpstream(limitBytes: number): Promise<EndlessUpstream> {
  let done!: (result: { written: number; cut: boolean }) => void;
  const finished = new Promise<{ written: number; cut: boolean }>((resolve) => (done = resolve));
  const server: Server = createServer((request, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      let written = 0;
      let ended = false;
      response.once('close', () => done({ written, cut: !ended }));
      response.write('data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"');
      const pump = (): void => {
        while (!response.destroyed && written < limitBytes) {
          written += CHUNK.length;
          if (!response.write(CHUNK)) {
            response.once('drain', pump);
            return;
          }
        }
        if (!response.destroyed) {
          ended = true;
          response.end();
        }
      };
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    finished,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const upstreams: EndlessUpstream[] = [];
afterEach(async () => {
  for (const upstream of upstreams.splice(0)) await upstream.close();
});

describe('relaySse: the longest upstream event', () => {
  it('fails the attempt as invalid_response once an unending event passes the limit, and lets the upstream go', async () => {
    const upstream = await startEndlessUpstream(32 * 1024 * 1024);
    upstreams.push(upstream);
    const response = await postUpstream({
      url: `${upstream.url}/v1/chat/completions`,
      body: {},
      headers: {},
      timeoutMs: 5_000,
    });
    const ends: AttemptCompletion[] = [];
    const text = await new Response(
      relaySse(response, {
        encoder: openAiStreamEncoder(false),
        idleTimeoutMs: 10_000,
        attemptStartedAt: performance.now(),
        maxEventLength: 256 * 1024,
        onEnd: (completion) => ends.push(completion),
      }),
    ).text();
    expect(ends).toEqual([
      {
        status: 'error',
        errorType: 'invalid_response',
        errorMessage: 'Upstream sent a stream event longer than 262144 characters',
      },
    ]);
    expect(text).toContain('"code":"invalid_response"');
    // The relay closed the connection soon after the limit: it did not read what the upstream had to send.
    const { written, cut } = await upstream.finished;
    expect(cut).toBe(true);
    expect(written).toBeLessThan(16 * 1024 * 1024);
  });

  /** `relaySse` over a body fed `pieces`, one read each; what the client got and how the attempt ended. */
  async function relayPieces(
    pieces: string[],
    options: Partial<RelayOptions> = {},
  ): Promise<{ text: string; ends: AttemptCompletion[] }> {
    const queue = pieces.map((piece) => new TextEncoder().encode(piece));
    const body: UpstreamBody = {
      read: () => {
        const value = queue.shift();
        return Promise.resolve(value === undefined ? { done: true, value: undefined } : { done: false, value });
      },
      cancel: () => {},
      discardRest: () => {},
    };
    const ends: AttemptCompletion[] = [];
    const stream = relaySse(
      { status: 200, headers: {}, body, bodyIdleTimeoutMs: 10_000 },
      {
        encoder: openAiStreamEncoder(false),
        idleTimeoutMs: 10_000,
        attemptStartedAt: performance.now(),
        ...options,
        onEnd: (completion) => ends.push(completion),
      },
    );
    return { text: await new Response(stream).text(), ends };
  }

  /** An SSE event whose text (before its blank line) is exactly `length` characters. */
  function eventOfLength(length: number): string {
    const start = 'data: {"choices":[{"index":0,"delta":{"content":"';
    const end = '"},"finish_reason":"stop"}]}';
    return `${start}${'y'.repeat(length - start.length - end.length)}${end}\n\n`;
  }

  it.each([
    ['in one read', (event: string) => [event]],
    ['in reads of 1,000 characters', (event: string) => event.match(/[\s\S]{1,1000}/g) ?? []],
  ])('takes an event of exactly the limit and refuses one a character longer, %s', async (_how, split) => {
    const limit = 10_000;
    const within = await relayPieces(split(eventOfLength(limit)), { maxEventLength: limit });
    expect(within.ends).toMatchObject([{ status: 'success', finishReasons: ['stop'] }]);
    expect(within.text).toContain('y'.repeat(100));
    const over = await relayPieces(split(eventOfLength(limit + 1)), { maxEventLength: limit });
    expect(over.ends).toMatchObject([{ status: 'error', errorType: 'invalid_response' }]);
    expect(over.text).not.toContain('y'.repeat(100));
  });

  it('relays the same bytes whether a stream arrives whole or in pieces that split its blank lines', async () => {
    const events =
      'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n' +
      ': keep-alive\n\n' +
      'data: {"id":"c","choices":[{"index":0,"delta":{"content":"lo"}}]}\r\n\r\n' +
      'data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\r\r' +
      'data: {"id":"c","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":2}}\n\n' +
      'data: [DONE]\n\n';
    const whole = await relayPieces([events]);
    expect(whole.text).toContain('"content":"Hel"');
    expect(whole.text).toContain('"content":"lo"');
    expect(whole.ends).toMatchObject([{ status: 'success', finishReasons: ['stop'] }]);
    for (const size of [1, 2, 3, 7]) {
      const pieces = events.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? [];
      const split = await relayPieces(pieces);
      expect(split.text).toBe(whole.text);
      expect(split.ends).toMatchObject([{ status: 'success', usage: { inputTokens: 2, outputTokens: 2 } }]);
    }
  });
});

describe('the gateway, streaming from an upstream whose event never ends', () => {
  let upstream: EndlessUpstream;
  let gw: Awaited<ReturnType<typeof startGatewayFor>>;

  beforeAll(async () => {
    upstream = await startEndlessUpstream(4 * MAX_SUCCESS_BODY_BYTES);
    gw = await startGatewayFor([{ name: 'endless', baseUrl: `${upstream.url}/v1`, models: ['m'] }], {
      ATTEMPT_TIMEOUT_MS: '5000',
      STREAM_IDLE_TIMEOUT_MS: '5000',
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it(`fails the attempt as invalid_response past ${MAX_SUCCESS_BODY_BYTES} characters, before the client's 200`, async () => {
    const response = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    // The event was the stream's first: the attempt failed before the client was answered, and with
    // no other provider the client gets the request's error (see stream-not-usable.test.ts).
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { type: 'server_error', code: 'upstream_failed' } });
    const { written, cut } = await upstream.finished;
    expect(cut).toBe(true);
    expect(written).toBeLessThan(2 * MAX_SUCCESS_BODY_BYTES);
    // The provider's failure (an answer the gateway cannot read), as a malformed chunk is.
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(sampleSum(metrics, 'model_inference_requests_total', { provider: 'endless', status: 'error' })).toBe(1);
  });
});
