import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postUpstream, readUpstreamJson, UpstreamFailure } from '../src/providers/upstream.js';

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/** A loopback HTTP server whose behaviour each test sets, counting the TCP connections it accepts. */
let server: Server;
let baseUrl: string;
let handler: Handler;
const connections = new Set<Socket>();
let accepted = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (socket: Socket) => {
    accepted++;
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of connections) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const request = (extra: Partial<Parameters<typeof postUpstream>[0]> = {}) =>
  postUpstream({ url: `${baseUrl}/chat/completions`, body: { model: 'm' }, headers: {}, timeoutMs: 2_000, ...extra });

/** The UpstreamFailure a promise rejects with (fails the test when it resolves or throws something else). */
async function failureOf(promise: Promise<unknown>): Promise<UpstreamFailure> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(UpstreamFailure);
  return error as UpstreamFailure;
}

async function readAll(body: { read(): Promise<IteratorResult<Uint8Array, undefined>> }): Promise<string> {
  let text = '';
  for (;;) {
    const { done, value } = await body.read();
    if (done) return text;
    text += Buffer.from(value).toString('utf8');
  }
}

describe('postUpstream (node:http client with keep-alive)', () => {
  it('sends the JSON body with the given headers and reads a JSON answer', async () => {
    let seen: { body: string; headers: IncomingMessage['headers'] } | undefined;
    handler = (incoming, response, body) => {
      seen = { body, headers: incoming.headers };
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ id: 'x', choices: [{ message: { content: 'hi' } }] }));
    };
    const response = await request({
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    expect(response.status).toBe(200);
    expect(await readUpstreamJson(response)).toEqual({ id: 'x', choices: [{ message: { content: 'hi' } }] });
    expect(JSON.parse(seen!.body)).toEqual({ model: 'm' });
    expect(seen!.headers['content-type']).toBe('application/json');
    expect(seen!.headers['traceparent']).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(Number(seen!.headers['content-length'])).toBe(Buffer.byteLength(seen!.body));
  });

  it('reuses one connection for sequential requests, including streams ended early after [DONE]', async () => {
    handler = (incoming, response) => {
      if (incoming.url === '/stream') {
        response.setHeader('content-type', 'text/event-stream');
        response.write('data: {"choices":[]}\n\n');
        response.write('data: [DONE]\n\n');
        // The end of the body arrives after the caller has stopped reading.
        setTimeout(() => response.end(), 20);
        return;
      }
      response.end('{"ok":true}');
    };
    const before = accepted;
    for (let index = 0; index < 5; index++) {
      const json = await request();
      expect(await readUpstreamJson(json)).toEqual({ ok: true });
      const stream = await request({ url: `${baseUrl}/stream` });
      const first = await stream.body.read();
      expect(first.done).toBe(false);
      stream.body.discardRest();
      // Give the discarded end of the body time to arrive, so the socket is back in the pool.
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    // 10 requests; at most one new connection (the pool may still hold one from an earlier test).
    expect(accepted - before).toBeLessThanOrEqual(1);
  });

  it('closes the connection of a body cancelled while it is still arriving', async () => {
    let open: ServerResponse | undefined;
    handler = (_incoming, response) => {
      response.write('data: first\n\n');
      open = response; // never ends
    };
    const response = await request();
    await response.body.read();
    const closed = new Promise((resolve) => open!.once('close', resolve));
    response.body.cancel();
    await closed;
    expect(open!.writableFinished).toBe(false);
  });

  it('times out when no headers come within timeoutMs (failover: yes)', async () => {
    handler = () => {}; // never answers
    const failure = await failureOf(request({ timeoutMs: 100 }));
    expect(failure.status).toBe('timeout');
    expect(failure.failover).toBe(true);
    expect(failure.message).toBe('No response within 100 ms');
  });

  it('gives up without failover when the client closed the request, before or during the wait', async () => {
    handler = () => {};
    const controller = new AbortController();
    const pending = request({ signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const during = await failureOf(pending);
    // The upstream had the whole request: it may be answering (and billing).
    expect([during.errorType, during.failover, during.unsent]).toEqual(['cancelled', false, false]);

    const before = await failureOf(request({ signal: AbortSignal.abort() }));
    // Nothing was sent: there is nothing the upstream can bill.
    expect([before.errorType, before.failover, before.unsent]).toEqual(['cancelled', false, true]);
  });

  it('classifies a refused connection and a reset as network_error, naming the code', async () => {
    const refused = await failureOf(request({ url: 'http://127.0.0.1:1/chat/completions' }));
    expect([refused.status, refused.failover]).toEqual(['network_error', true]);
    expect(refused.message).toBe('Connection failed (ECONNREFUSED)');

    handler = (incoming) => incoming.socket.destroy();
    const reset = await failureOf(request());
    expect(reset.status).toBe('network_error');
    expect(reset.message).toMatch(/^Connection failed \((ECONNRESET|EPIPE)\)$/);
  });

  it('sends a request again on a new connection when the pooled one turns out closed, once', async () => {
    // The upstream closes a kept-alive connection as the next request arrives on it (its idle
    // timeout and our request crossed): that request never reached the upstream's application.
    const served = new WeakSet<Socket>();
    handler = (incoming, response) => {
      if (served.has(incoming.socket)) {
        incoming.socket.destroy();
        return;
      }
      served.add(incoming.socket);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    expect(await readUpstreamJson(await request())).toEqual({ ok: true }); // its connection is back in the pool
    const before = accepted;
    const answer = await request();
    expect(answer.status).toBe(200);
    expect(await readUpstreamJson(answer)).toEqual({ ok: true });
    expect(accepted - before).toBe(1); // the pooled connection failed, one new one answered

    // A new connection that fails is not tried again: one connection, network_error.
    handler = (incoming) => incoming.socket.destroy();
    for (const socket of connections) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const fresh = accepted;
    expect((await failureOf(request())).status).toBe('network_error');
    expect(accepted - fresh).toBe(1);
  });

  it('reports a connection lost in the middle of a JSON body as network_error, a bad body as invalid_response', async () => {
    handler = (_incoming, response) => {
      response.setHeader('content-length', '100');
      response.write('{"partial":');
      setTimeout(() => response.socket?.destroy(), 20);
    };
    const cut = await failureOf(request().then(readUpstreamJson));
    expect([cut.status, cut.errorType]).toEqual(['network_error', 'network_error']);

    handler = (_incoming, response) => response.end('not json');
    const malformed = await failureOf(request().then(readUpstreamJson));
    expect([malformed.status, malformed.errorType]).toEqual(['error', 'invalid_response']);
  });

  it('fails a JSON body silent for bodyIdleTimeoutMs after its headers as timeout (failover), closing its connection', async () => {
    let open: ServerResponse | undefined;
    handler = (_incoming, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"id":"x","choices":[');
      open = response; // stalls: never writes the rest
    };
    const response = await request({ bodyIdleTimeoutMs: 150 });
    expect(response.bodyIdleTimeoutMs).toBe(150);
    const closed = new Promise((resolve) => open!.once('close', resolve));
    const startedAt = performance.now();
    const stalled = await failureOf(readUpstreamJson(response));
    expect([stalled.status, stalled.errorType, stalled.failover]).toEqual(['timeout', 'timeout', true]);
    expect(stalled.message).toBe('Upstream body idle for 150 ms');
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
    await closed;
    expect(open!.writableFinished).toBe(false);
  });

  it('waits for a body that keeps arriving, however long it takes in all (the bound is on silence)', async () => {
    handler = (_incoming, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const pieces = ['{"a":', '1,', '"b":', '2,', '"c":', '3}'];
      // 6 pieces 60 ms apart: 300 ms in all, twice the idle bound, never 150 ms silent.
      const next = (): void => {
        const piece = pieces.shift();
        if (piece === undefined) return void response.end();
        response.write(piece);
        setTimeout(next, 60);
      };
      next();
    };
    const response = await request({ bodyIdleTimeoutMs: 150 });
    expect(await readUpstreamJson(response)).toEqual({ a: 1, b: 2, c: 3 });
  });

  it('bounds the silence of a body by timeoutMs when no bodyIdleTimeoutMs is given', async () => {
    handler = (_incoming, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{');
    };
    const response = await request({ timeoutMs: 120 });
    expect(response.bodyIdleTimeoutMs).toBe(120);
    const stalled = await failureOf(readUpstreamJson(response));
    expect(stalled.message).toBe('Upstream body idle for 120 ms');
  });

  it('classifies an error status whose body stalls by its status, once the body has been silent for the bound', async () => {
    handler = (_incoming, response) => {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.write('{"error":'); // stalls
    };
    const startedAt = performance.now();
    const failure = await failureOf(request({ bodyIdleTimeoutMs: 150 }));
    expect([failure.status, failure.errorType, failure.failover, failure.httpStatus]).toEqual([
      'error',
      '503',
      true,
      503,
    ]);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);

    handler = (_incoming, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.write('{"error":{"message":"bad"'); // a client error whose details never complete
    };
    const rejected = await failureOf(request({ bodyIdleTimeoutMs: 150 }));
    expect([rejected.status, rejected.errorType, rejected.failover, rejected.clientBody]).toEqual([
      'error',
      '400',
      false,
      undefined,
    ]);
  });

  it('maps statuses: 429 rate_limited, 5xx and 401 fail over, other 4xx pass the body back without failover', async () => {
    const answer = (status: number, body: string) => {
      handler = (_incoming, response) => {
        response.statusCode = status;
        response.end(body);
      };
    };
    answer(429, '{}');
    const limited = await failureOf(request());
    expect([limited.status, limited.httpStatus, limited.failover]).toEqual(['rate_limited', 429, true]);
    answer(503, 'upstream down');
    const down = await failureOf(request());
    expect([down.status, down.errorType, down.failover]).toEqual(['error', '503', true]);
    answer(401, '{"error":"bad key"}');
    const credentials = await failureOf(request());
    expect([credentials.failover, credentials.clientBody]).toEqual([true, undefined]);
    answer(400, '{"error":{"message":"bad temperature"}}');
    const bad = await failureOf(request());
    expect([bad.failover, bad.httpStatus]).toEqual([false, 400]);
    expect(bad.clientBody).toEqual({ error: { message: 'bad temperature' } });
  });

  it("fails over on the 4xx that are the provider's or its configuration's fault, and says which say nothing of it", async () => {
    const answer = (status: number): void => {
      handler = (_incoming, response) => {
        response.statusCode = status;
        response.end('{"error":{"message":"no"}}');
      };
    };
    const outcome = async (status: number): Promise<[boolean, boolean]> => {
      answer(status);
      const failure = await failureOf(request());
      return [failure.failover, failure.saysNothingOfProvider];
    };
    // The gateway's key, its account's credit, a model configured for a provider that lacks it, the
    // provider's own timeout, an outage: another provider may answer, and they count against it.
    for (const status of [401, 402, 403, 404, 408, 500, 503])
      expect(await outcome(status), String(status)).toEqual([true, false]);
    // The provider's quota: fails over, counts (as rate_limited).
    expect(await outcome(429)).toEqual([true, false]);
    // The client's request was wrong: passed back as it is, and says nothing of the provider.
    for (const status of [400, 409, 413, 415, 422])
      expect(await outcome(status), String(status)).toEqual([false, true]);
    // A client that left before the answer: nothing to hold against the provider either.
    handler = () => {};
    const controller = new AbortController();
    const pending = failureOf(request({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    const cancelled = await pending;
    expect([cancelled.errorType, cancelled.failover, cancelled.saysNothingOfProvider]).toEqual([
      'cancelled',
      false,
      true,
    ]);
  });

  it('reads at most 16 KiB of an error body and keeps serving afterwards', async () => {
    handler = (_incoming, response) => {
      response.statusCode = 400;
      response.end(`{"error":"${'x'.repeat(100_000)}"}`);
    };
    const failure = await failureOf(request());
    expect(failure.clientBody).toBeUndefined(); // truncated, so not JSON: not passed back
    handler = (_incoming, response) => response.end('{"ok":true}');
    expect(await readUpstreamJson(await request())).toEqual({ ok: true });
  });

  it('refuses protocols other than http and https', async () => {
    const failure = await failureOf(request({ url: 'ftp://127.0.0.1/chat/completions' }));
    expect(failure.status).toBe('network_error');
  });

  it('hands out what arrived before a stream was cut, though unread when the cut came, then fails', async () => {
    handler = (_incoming, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: one\n\n');
      // The connection closes once both events have left, without the body's end.
      response.write('data: two\n\n', () => response.socket?.end());
    };
    const response = await request();
    // Busy elsewhere (relaying to a slow client) while the events and the cut arrive.
    await new Promise((resolve) => setTimeout(resolve, 50));
    let text = '';
    const error: unknown = await (async () => {
      for (;;) {
        const { done, value } = await response.body.read();
        if (done) return undefined;
        text += Buffer.from(value).toString('utf8');
      }
    })().catch((thrown: unknown) => thrown);
    expect(text).toBe('data: one\n\ndata: two\n\n');
    expect((error as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNRESET');
    // And it stays failed.
    await expect(response.body.read()).rejects.toBe(error);
  });

  it('returns the body of a 2xx stream chunk by chunk', async () => {
    handler = (_incoming, response) => {
      response.write('a');
      setTimeout(() => response.end('b'), 10);
    };
    const response = await request();
    expect(await readAll(response.body)).toBe('ab');
  });
});
