import { afterEach, describe, expect, it, vi } from 'vitest';
import { openAiStreamEncoder } from '../src/protocol/stream-encoder.js';
import type { UpstreamBody, UpstreamResponse } from '../src/providers/upstream.js';
import type { AttemptCompletion } from '../src/request/attempt.js';
import { relaySse, type RelayOptions } from '../src/request/stream-attempt.js';

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
    response: { status: 200, body },
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
