import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openAiStreamEncoder } from '../src/protocol/stream-encoder.js';
import type { UpstreamBody, UpstreamResponse } from '../src/providers/upstream.js';
import type { AttemptCompletion } from '../src/request/attempt.js';
import { ClientGone } from '../src/request/request-context.js';
import { relaySse, relaySseToResponse, type RelayOptions } from '../src/request/sse-relay.js';

/** An upstream stream the test feeds by hand. */
function upstream(): { response: UpstreamResponse; send(text: string): void; end(): void; cancelled: () => boolean } {
  const queue: Array<IteratorResult<Uint8Array, undefined>> = [];
  let waiting: ((result: IteratorResult<Uint8Array, undefined>) => void) | undefined;
  let cancelled = false;
  const push = (result: IteratorResult<Uint8Array, undefined>): void => {
    if (waiting !== undefined) {
      const resolve = waiting;
      waiting = undefined;
      resolve(result);
    } else queue.push(result);
  };
  const body: UpstreamBody = {
    read: () => {
      const next = queue.shift();
      return next !== undefined ? Promise.resolve(next) : new Promise((resolve) => (waiting = resolve));
    },
    cancel: () => void (cancelled = true),
    discardRest: () => {},
  };
  return {
    response: { status: 200, headers: {}, body, bodyIdleTimeoutMs: 30_000 },
    send: (text) => push({ done: false, value: new TextEncoder().encode(text) }),
    end: () => push({ done: true, value: undefined }),
    cancelled: () => cancelled,
  };
}

const chunk = (fields: Record<string, unknown>): string => `data: ${JSON.stringify(fields)}\n\n`;

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

/** `relaySse` over a hand-fed upstream (OpenAI encoder, 10 s idle timeout unless `options` says otherwise), its ends collected. */
function relay(options: Partial<Omit<RelayOptions, 'onEnd'>> = {}): {
  source: ReturnType<typeof upstream>;
  ends: AttemptCompletion[];
  stream: ReadableStream<Uint8Array>;
} {
  const source = upstream();
  const ends: AttemptCompletion[] = [];
  const stream = relaySse(source.response, {
    encoder: openAiStreamEncoder(false),
    idleTimeoutMs: 10_000,
    attemptStartedAt: performance.now(),
    ...options,
    onEnd: (completion) => ends.push(completion),
  });
  return { source, ends, stream };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('relaySse: one streamed attempt', () => {
  it('relays chunks, measures time to first token from the attempt start and ends once with usage', async () => {
    const attemptStartedAt = performance.now() - 250;
    const { source, ends, stream } = relay({ attemptStartedAt });
    source.send(chunk({ id: 'c1', model: 'gpt-4o', choices: [{ delta: { content: '' } }] }));
    source.send(chunk({ id: 'c1', model: 'gpt-4o', choices: [{ delta: { content: 'Hi' } }] }));
    source.send(chunk({ id: 'c1', choices: [{ delta: {}, finish_reason: 'stop' }] }));
    source.send(chunk({ id: 'c1', choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } }));
    source.send('data: [DONE]\n\n');
    const text = await readAll(stream);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).toContain('"content":"Hi"');
    expect(text).not.toContain('"usage"'); // the client did not ask for the usage chunk
    expect(ends).toHaveLength(1);
    const [end] = ends;
    expect(end).toMatchObject({
      status: 'success',
      usage: { inputTokens: 3, outputTokens: 1 },
      responseModel: 'gpt-4o',
      finishReasons: ['stop'],
    });
    // The empty first delta is not a token: the clock stops at "Hi", at least 250 ms after the start.
    expect(end?.timeToFirstTokenSeconds).toBeGreaterThanOrEqual(0.25);
    expect(end?.timeToFirstTokenSeconds).toBeLessThan(5);
  });

  it('ends as a timeout after the idle deadline, with an error event to the client', async () => {
    vi.useFakeTimers();
    const { source, ends, stream } = relay({ idleTimeoutMs: 1_000 });
    const text = readAll(stream);
    await vi.advanceTimersByTimeAsync(999);
    expect(ends).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ends).toEqual([
      {
        status: 'timeout',
        errorType: 'timeout',
        errorMessage: 'Upstream stream idle for 1000 ms',
      },
    ]);
    expect(source.cancelled()).toBe(true);
    expect(await text).toContain('"code":"timeout"');
  });

  it('ends as a network error when the upstream closes before finishing, as a success when it closes after', async () => {
    const { source: cut, ends: cutEnds, stream: cutStream } = relay();
    cut.send(chunk({ choices: [{ delta: { content: 'Hi' } }] }));
    cut.end();
    await readAll(cutStream);
    expect(cutEnds).toMatchObject([{ status: 'network_error', errorType: 'network_error' }]);

    const { source: finished, ends: finishedEnds, stream: finishedStream } = relay();
    finished.send(chunk({ choices: [{ delta: { content: 'Hi' }, finish_reason: 'stop' }] }));
    finished.end();
    expect(await readAll(finishedStream)).toContain('data: [DONE]');
    expect(finishedEnds).toMatchObject([{ status: 'success', finishReasons: ['stop'] }]);
  });

  it('records a client that hangs up as a cancelled success, once', async () => {
    const { source, ends, stream } = relay();
    await stream.cancel();
    source.send('data: [DONE]\n\n');
    expect(ends).toEqual([{ status: 'success', cancelled: true }]);
    expect(source.cancelled()).toBe(true);
  });

  it.each([
    { countOutputBytes: true, expected: 6 + 2 + 8 + 7 + 4 },
    { countOutputBytes: false, expected: undefined },
  ])(
    'counts the UTF-8 bytes of the output received only when asked (countOutputBytes: $countOutputBytes), for a client that leaves before the usage',
    async ({ countOutputBytes, expected }) => {
      const { source, ends, stream } = relay({ countOutputBytes });
      const reader = stream.getReader();
      // A role-only chunk carries no output; "héllo" is 6 bytes, the tool call's strings 4 + 8 + 2 + 7.
      source.send(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }));
      source.send(chunk({ choices: [{ index: 0, delta: { content: 'héllo' } }] }));
      source.send(
        chunk({
          choices: [
            {
              index: 0,
              delta: {
                tool_calls: [
                  { index: 0, id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"a"' } },
                ],
              },
            },
          ],
        }),
      );
      await reader.read();
      await reader.read();
      await reader.read();
      await reader.cancel();
      expect(ends).toMatchObject([{ status: 'success', cancelled: true }]);
      expect(ends[0]?.streamedOutputBytes).toBe(expected);
    },
  );

  it('sends what one upstream read carried as one chunk, and holds nothing back for the next read', async () => {
    const { source, ends, stream } = relay();
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    // Three events in one read (a provider that wrote them together, or a socket that gathered them).
    source.send(
      chunk({ id: 'c1', choices: [{ delta: { content: 'one' } }] }) +
        chunk({ id: 'c1', choices: [{ delta: { content: 'two' } }] }) +
        chunk({ id: 'c1', choices: [{ delta: { content: 'three' } }] }),
    );
    const first = await reader.read();
    const firstText = decoder.decode(first.value);
    expect(firstText.match(/^data: /gm)).toHaveLength(3);
    expect(firstText.indexOf('"one"')).toBeLessThan(firstText.indexOf('"two"'));
    expect(firstText.indexOf('"two"')).toBeLessThan(firstText.indexOf('"three"'));
    // An event split across reads goes out with the read that completes it, not later.
    source.send('data: {"id":"c1","choices":[{"delta":{"content":"fo');
    source.send('ur"}}]}\n\n');
    const second = await reader.read();
    expect(decoder.decode(second.value)).toMatch(/^data: .*"four".*\n\n$/);
    source.send(chunk({ id: 'c1', choices: [{ delta: {}, finish_reason: 'stop' }] }) + 'data: [DONE]\n\n');
    const last = await reader.read();
    expect(decoder.decode(last.value).match(/^data: /gm)).toHaveLength(2);
    expect(decoder.decode(last.value).endsWith('data: [DONE]\n\n')).toBe(true);
    expect((await reader.read()).done).toBe(true);
    expect(ends).toMatchObject([{ status: 'success', finishReasons: ['stop'] }]);
  });

  it('relays the events of a read before a malformed one, then the error, and ends once', async () => {
    const { source, ends, stream } = relay();
    source.send(chunk({ choices: [{ delta: { content: 'kept' } }] }) + 'data: {not json\n\n' + chunk({ choices: [] }));
    const text = await readAll(stream);
    expect(text.indexOf('"kept"')).toBeGreaterThan(-1);
    expect(text.indexOf('"kept"')).toBeLessThan(text.indexOf('malformed stream chunk'));
    expect(text).not.toContain('[DONE]');
    expect(ends).toMatchObject([{ status: 'error', errorType: 'invalid_response' }]);
    expect(source.cancelled()).toBe(true);
  });

  it("relays the upstream's own error event after the output before it in the same read, then closes", async () => {
    const { source, ends, stream } = relay();
    source.send(
      chunk({ choices: [{ delta: { content: 'partial' } }] }) +
        chunk({ error: { message: 'overloaded', type: 'server_error' } }) +
        chunk({ choices: [{ delta: { content: 'never' } }] }),
    );
    const text = await readAll(stream);
    expect(text.indexOf('"partial"')).toBeGreaterThan(-1);
    expect(text.indexOf('"partial"')).toBeLessThan(text.indexOf('overloaded'));
    expect(text).not.toContain('never');
    expect(ends).toMatchObject([{ status: 'error', errorType: 'upstream_stream_error', errorMessage: 'overloaded' }]);
  });
});

/**
 * One request to a loopback server whose handler gives its response to `relaySseToResponse` over a
 * hand-fed upstream: the client's view (status, headers, body as it arrives) and the relay's ends.
 */
async function relayToClient(
  options: Partial<Omit<RelayOptions, 'onEnd'>> = {},
  { destroyFirst = false, connectionClose = false } = {},
): Promise<{
  source: ReturnType<typeof upstream>;
  ends: AttemptCompletion[];
  message?: IncomingMessage;
  response: ServerResponse;
  /** 'close' listeners the relay added to the response beyond the request's `ClientGone`. */
  closeListenersAdded: number;
  received: () => string;
  close: () => Promise<void>;
}> {
  const source = upstream();
  const ends: AttemptCompletion[] = [];
  let served: ServerResponse | undefined;
  let closing: Promise<void> | undefined;
  const closeServer = async (): Promise<void> => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  let closeListenersAdded = -1;
  let relayed!: () => void;
  const began = new Promise<void>((resolve) => (relayed = resolve));
  const server = createServer((_request, response) => {
    served = response;
    // The connection gone before the relay began (the client left while the upstream connected).
    if (destroyFirst) response.destroy();
    // As a shutdown drain marks an answer not yet started (http-server.ts).
    if (connectionClose) response.setHeader('connection', 'close');
    const gone = new ClientGone(response);
    const listening = response.listenerCount('close');
    relaySseToResponse(
      response,
      source.response,
      {
        encoder: openAiStreamEncoder(false),
        idleTimeoutMs: 10_000,
        attemptStartedAt: performance.now(),
        ...options,
        onEnd: (completion) => ends.push(completion),
      },
      gone,
    );
    closeListenersAdded = response.listenerCount('close') - listening;
    relayed();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const outgoing = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, method: 'POST' });
  outgoing.on('error', () => {});
  outgoing.end();
  let text = '';
  let message: IncomingMessage | undefined;
  if (destroyFirst) await began;
  else {
    [message] = (await once(outgoing, 'response')) as [IncomingMessage];
    message.setEncoding('utf8');
    message.on('data', (piece: string) => (text += piece));
    message.on('error', () => {});
  }
  return {
    source,
    ends,
    message,
    response: served!,
    closeListenersAdded,
    received: () => text,
    close: () => (closing ??= closeServer()),
  };
}

describe("relaySseToResponse: the relay written straight into Node's response", () => {
  it('keeps a `connection: close` set before it answers (a shutdown drain), and says keep-alive otherwise', async () => {
    for (const [connectionClose, expected] of [
      [true, 'close'],
      [false, 'keep-alive'],
    ] as const) {
      const client = await relayToClient({}, { connectionClose });
      try {
        expect(client.message!.headers['connection']).toBe(expected);
        expect(client.message!.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        client.source.send('data: [DONE]\n\n');
        await once(client.message!, 'end');
      } finally {
        await client.close();
      }
    }
  });

  it('answers 200 with the SSE headers at once and sends the same bytes as relaySse, ending once', async () => {
    const events = [
      chunk({ id: 'c1', model: 'gpt-4o', choices: [{ delta: { content: 'Hé' } }] }) +
        chunk({ id: 'c1', choices: [{ delta: { content: 'llo' } }] }),
      chunk({ id: 'c1', choices: [{ delta: {}, finish_reason: 'stop' }] }),
      'data: [DONE]\n\n',
    ];
    const client = await relayToClient();
    try {
      // The headers came before any upstream event.
      expect(client.message!.statusCode).toBe(200);
      expect(client.message!.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(client.message!.headers['cache-control']).toBe('no-cache');
      for (const event of events) client.source.send(event);
      await once(client.message!, 'end');
      const { source, ends, stream } = relay();
      for (const event of events) source.send(event);
      expect(client.received()).toBe(await readAll(stream));
      expect(client.received().endsWith('data: [DONE]\n\n')).toBe(true);
      // The same completion but for the clock readings, which differ between the two runs.
      const untimed = ({
        timeToFirstChunkSeconds: _chunk,
        timeToFirstTokenSeconds: _token,
        timesPerOutputChunkSeconds: _perChunk,
        ...rest
      }: AttemptCompletion): Partial<AttemptCompletion> => rest;
      expect(client.ends.map(untimed)).toEqual(ends.map(untimed));
      expect(client.ends[0]?.timesPerOutputChunkSeconds).toHaveLength(2);
      expect(client.ends).toMatchObject([{ status: 'success', finishReasons: ['stop'], responseModel: 'gpt-4o' }]);
    } finally {
      await client.close();
    }
  });

  it('records a client that hangs up midway as a cancelled success, once, and writes nothing after', async () => {
    const client = await relayToClient({ countOutputBytes: true });
    try {
      client.source.send(chunk({ choices: [{ delta: { content: 'héllo' } }] }));
      while (!client.received().includes('héllo')) await new Promise((resolve) => setTimeout(resolve, 5));
      client.message!.destroy();
      await once(client.response, 'close');
      expect(client.ends).toMatchObject([{ status: 'success', cancelled: true, streamedOutputBytes: 6 }]);
      expect(client.source.cancelled()).toBe(true);
      // What the upstream still sends goes nowhere and ends nothing twice.
      client.source.send(chunk({ choices: [{ delta: { content: 'more' }, finish_reason: 'stop' }] }));
      client.source.send('data: [DONE]\n\n');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(client.ends).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("hears the client leave through the request's ClientGone, adding no 'close' listener of its own", async () => {
    const client = await relayToClient();
    try {
      expect(client.closeListenersAdded).toBe(0);
      client.message!.destroy();
      await once(client.response, 'close');
      expect(client.ends).toMatchObject([{ status: 'success', cancelled: true }]);
      expect(client.source.cancelled()).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('is not cancelled by the connection closing after the stream ended', async () => {
    const client = await relayToClient();
    try {
      client.source.send(
        chunk({ choices: [{ delta: { content: 'done' }, finish_reason: 'stop' }] }) + 'data: [DONE]\n\n',
      );
      await once(client.message!, 'end');
      await client.close();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(client.ends).toMatchObject([{ status: 'success', finishReasons: ['stop'] }]);
      expect(client.ends[0]?.cancelled).toBeUndefined();
      expect(client.source.cancelled()).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('ends as cancelled at once when the client was gone before the relay began', async () => {
    const client = await relayToClient({}, { destroyFirst: true });
    try {
      expect(client.ends).toEqual([{ status: 'success', cancelled: true }]);
      expect(client.source.cancelled()).toBe(true);
    } finally {
      await client.close();
    }
  });
});
