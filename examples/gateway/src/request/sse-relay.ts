import type { ServerResponse } from 'node:http';
import { generatedOutputBytes } from '../protocol/output-bytes.js';
import { parseCompletionChunk, type StreamEncoder, type StreamParser } from '../protocol/stream-encoder.js';
import type { AbortLike, UpstreamResponse } from '../providers/upstream.js';
import type { AttemptCompletion, Usage } from './attempt.js';
import type { StreamedOutput } from './streamed-chat-output.js';

/*
 * The relay of one streamed attempt (stream-attempt.ts opens it): the upstream's SSE events parsed,
 * re-encoded for the client and sent as they arrive, into Node's response or a `ReadableStream`.
 */

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

export interface RelayOptions {
  encoder: StreamEncoder;
  /** How upstream events are parsed; default OpenAI chat chunks (`parseCompletionChunk`). */
  parse?: StreamParser;
  /** Longest silence allowed between upstream chunks. */
  idleTimeoutMs: number;
  /** `performance.now()` when the attempt started, for time to first token. */
  attemptStartedAt: number;
  /**
   * Count the UTF-8 bytes of the generated output received (`AttemptCompletion.streamedOutputBytes`);
   * default false, and then the completion has no `streamedOutputBytes`. Only a budget at a provider
   * with `cancelStopsBilling` uses the count, so other streams do not pay for it on every chunk.
   */
  countOutputBytes?: boolean;
  /** Puts the answer's content together from the chunks (content capture on); its messages go in the completion. */
  output?: StreamedOutput;
  /** Called exactly once when the stream ends, however it ends. */
  onEnd: (completion: AttemptCompletion, served: ServedOutput) => void;
}

/** What the client of a relayed stream got of the generated output. */
export interface ServedOutput {
  /**
   * `performance.now()` when the first generated output was handled for the client (text, reasoning,
   * tool call, refusal); it goes out at the end of the upstream read that carried it, in the same tick.
   */
  firstOutputAt?: number;
  /** Whether reasoning output reached the client (false when the provider kept it hidden or the encoder dropped it). */
  reasoningRelayed: boolean;
}

/**
 * Relay an upstream OpenAI-style SSE stream to the client through `encoder`, measuring time to
 * first token and end of stream, enforcing an idle timeout, and reporting how the stream ended
 * (success, timeout, upstream failure, client cancel) exactly once through `onEnd`. The stream's
 * cancellation is the client's.
 */
export function relaySse(upstream: UpstreamResponse, options: RelayOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let relay: Relay;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      relay = startRelay(upstream, options, {
        write: (text) => controller.enqueue(encoder.encode(text)),
        close: () => controller.close(),
      });
    },
    cancel() {
      relay.cancel();
    },
  });
}

/**
 * `relaySse` straight into Node's response, which it answers (status 200, SSE headers): what the
 * gateway does when served by @hono/node-server, whose handler then returns
 * `RESPONSE_ALREADY_SENT`. `clientGone` is the request's (`clientGone(c)`: the response closed
 * before it was complete), so the rule for "the client left" and its one 'close' listener are
 * shared with the upstream attempt. On Node 20 a `ReadableStream` costs about 11 µs to make and
 * leaves about 470 bytes in old space (Node 22: 1.5 µs, none); a streamed request does not need one.
 */
export function relaySseToResponse(
  outgoing: ServerResponse,
  upstream: UpstreamResponse,
  options: RelayOptions,
  clientGone: AbortLike,
): void {
  outgoing.writeHead(200, SSE_HEADERS);
  outgoing.flushHeaders();
  const relay = startRelay(upstream, options, {
    // Nothing is written once the response ended (Node would emit an error) or was destroyed.
    write: (text) => {
      if (!outgoing.writableEnded && !outgoing.destroyed) outgoing.write(text);
    },
    close: () => {
      if (!outgoing.writableEnded) outgoing.end();
    },
  });
  // Destroyed but not yet closed: `clientGone` aborts only at 'close', a tick later.
  if (clientGone.aborted || outgoing.destroyed) relay.cancel();
  else clientGone.addEventListener('abort', () => relay.cancel());
}

/** Where a relay's output goes: a `ReadableStream`'s controller, or Node's response itself. */
interface RelaySink {
  /** Sends what one upstream read produced for the client. */
  write(text: string): void;
  /** Ends the answer; nothing is written after it. */
  close(): void;
}

/** A running relay: `cancel` is the client leaving (the upstream is let go, the attempt ends cancelled). */
interface Relay {
  cancel(): void;
}

/** The relay itself: reads the upstream from now on, writes to `sink`, reports through `options.onEnd`. */
function startRelay(upstream: UpstreamResponse, options: RelayOptions, sink: RelaySink): Relay {
  const decoder = new TextDecoder();
  const reader = upstream.body;
  const parse = options.parse ?? ((data: string) => parseCompletionChunk(data));
  let buffer = '';
  const lines = lineFeeds();
  let usage: Usage | undefined;
  let finishReason: string | undefined;
  // One finish reason per choice (`n` > 1), reported in choice order.
  const finishReasons = new Map<number, string>();
  const served: ServedOutput = { reasoningRelayed: false };
  let responseModel: string | undefined;
  let timeToFirstTokenSeconds: number | undefined;
  let responseId: string | undefined;
  // Chunk timing for gen_ai.client.operation.time_to_first_chunk / time_per_output_chunk.
  let timeToFirstChunkSeconds: number | undefined;
  let lastChunkAt: number | undefined;
  const timesPerOutputChunkSeconds: number[] = [];
  // Bounds the output tokens received when the stream ends without usage (a client that left).
  const countOutputBytes = options.countOutputBytes === true;
  let streamedOutputBytes = 0;
  let ended = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  const finish = (completion: AttemptCompletion): void => {
    if (ended) return;
    ended = true;
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    // Copied and filled in, not spread: see withFields.
    const ending: AttemptCompletion = Object.assign({}, completion);
    if (usage !== undefined) ending.usage = usage;
    if (responseModel !== undefined) ending.responseModel = responseModel;
    if (finishReasons.size > 0) {
      ending.finishReasons = [...finishReasons].sort(([a], [b]) => a - b).map(([, reason]) => reason);
    }
    if (timeToFirstTokenSeconds !== undefined) ending.timeToFirstTokenSeconds = timeToFirstTokenSeconds;
    if (timeToFirstChunkSeconds !== undefined) {
      ending.timeToFirstChunkSeconds = timeToFirstChunkSeconds;
      ending.timesPerOutputChunkSeconds = timesPerOutputChunkSeconds;
    }
    if (responseId !== undefined) ending.responseId = responseId;
    if (countOutputBytes) ending.streamedOutputBytes = streamedOutputBytes;
    if (options.output !== undefined) ending.outputMessages = options.output.messages();
    options.onEnd(ending, served);
  };

  // What one upstream read produced for the client, sent as one chunk once the read is handled
  // (or when the stream closes): the events of a read arrived together, so holding them to the
  // end of the read delays nothing, and the response gets one stream chunk, one HTTP chunk and
  // one buffer in the socket's gathered write instead of one of each per event. Under load a
  // read carries a dozen events; relaying them one by one cost tens of µs per streamed request.
  let pending = '';
  const send = (text: string): void => {
    pending += text;
  };
  const flush = (): void => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    sink.write(text);
  };
  const close = (): void => {
    flush();
    sink.close();
  };
  const fail = (status: AttemptCompletion['status'], errorType: string, message: string): void => {
    if (ended) return;
    try {
      send(options.encoder.error(message, errorType));
      close();
    } catch {
      // The client is gone already.
    }
    reader.cancel();
    finish({ status, errorType, errorMessage: message });
  };
  const armIdleTimer = (): void => {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = setTimeout(
      () => fail('timeout', 'timeout', `Upstream stream idle for ${options.idleTimeoutMs} ms`),
      options.idleTimeoutMs,
    );
  };
  const endStream = (): void => {
    const untranslatable = options.encoder.untranslatable?.();
    if (untranslatable !== undefined) {
      // The provider answered (and bills it, usage included), but not in a form the client can use.
      fail('error', 'invalid_response', untranslatable);
      return;
    }
    const end: { usage?: Usage; finishReason?: string } = {};
    if (usage) end.usage = usage;
    if (finishReason) end.finishReason = finishReason;
    send(options.encoder.end(end));
    close();
    finish({ status: 'success' });
  };
  const handleEvent = (data: string, eventName: string | undefined): boolean => {
    const chunk = parse(data, eventName);
    if (chunk === 'done') {
      endStream();
      reader.discardRest();
      return false;
    }
    if (chunk === undefined) {
      fail('error', 'invalid_response', 'Upstream sent a malformed stream chunk');
      return false;
    }
    const receivedAt = performance.now();
    if (countOutputBytes) streamedOutputBytes += generatedOutputBytes(chunk);
    options.output?.add(chunk.json);
    if (lastChunkAt === undefined) timeToFirstChunkSeconds = (receivedAt - options.attemptStartedAt) / 1000;
    else timesPerOutputChunkSeconds.push((receivedAt - lastChunkAt) / 1000);
    lastChunkAt = receivedAt;
    if (chunk.id !== undefined) responseId ??= chunk.id;
    if (chunk.usage !== undefined) usage = chunk.usage;
    if (chunk.model !== undefined) responseModel = chunk.model;
    if (chunk.finishReason !== undefined) finishReason = chunk.finishReason;
    for (const [index, reason] of chunk.finishReasons ?? []) finishReasons.set(index, reason);
    // The first token is the first generated output of any kind (text, reasoning, tool call,
    // refusal); role-only, empty, usage and finish chunks are not tokens.
    if (timeToFirstTokenSeconds === undefined && chunk.output !== undefined) {
      timeToFirstTokenSeconds = (receivedAt - options.attemptStartedAt) / 1000;
    }
    const text = options.encoder.chunk(chunk);
    if (text !== '') send(text);
    if (chunk.output !== undefined && chunk.failure === undefined && (options.encoder.relaysOutput?.(chunk) ?? true)) {
      served.firstOutputAt ??= performance.now();
      if (chunk.output === 'reasoning') served.reasoningRelayed = true;
    }
    if (chunk.failure !== undefined) {
      // The upstream's own error event, relayed above, ends the stream.
      close();
      reader.cancel();
      finish({ status: 'error', errorType: 'upstream_stream_error', errorMessage: chunk.failure });
      return false;
    }
    if (chunk.final) {
      endStream();
      reader.discardRest();
      return false;
    }
    return true;
  };
  const pump = async (): Promise<void> => {
    armIdleTimer();
    for (;;) {
      let result: IteratorResult<Uint8Array, undefined>;
      try {
        result = await reader.read();
      } catch {
        fail('network_error', 'network_error', 'Upstream connection failed during the stream');
        return;
      }
      if (ended) return;
      if (result.done) {
        // A CR held back at the very end was a line end: the last event may be complete.
        buffer += lines.flush();
        if (!handleEvents()) return;
        if (finishReason !== undefined) endStream();
        else {
          fail('network_error', 'network_error', 'Upstream stream ended before completion');
        }
        return;
      }
      armIdleTimer();
      buffer += lines.normalize(decoder.decode(result.value, { stream: true }));
      if (!handleEvents()) return;
    }
  };
  /** Handle every complete event in the buffer, then send what they produced; false once the stream has ended. */
  const handleEvents = (): boolean => {
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) !== -1) {
      const event = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const { name, data } = sseEvent(event);
      if (data !== undefined && !handleEvent(data, name)) return false;
    }
    flush();
    return true;
  };
  void pump();
  return {
    cancel() {
      if (ended) return;
      reader.cancel();
      // The client hanging up says nothing about the provider, which was streaming fine.
      finish({ status: 'success', cancelled: true });
    },
  };
}

/**
 * SSE ends lines with CRLF, LF or CR (servers built on sse-starlette send CRLF): turn each into a
 * line feed, so events split on a blank line. A CR at the end of a piece waits for the next one,
 * in case it is the first half of a CRLF.
 */
function lineFeeds(): { normalize(text: string): string; flush(): string } {
  let pendingCarriageReturn = false;
  return {
    flush() {
      const rest = pendingCarriageReturn ? '\n' : '';
      pendingCarriageReturn = false;
      return rest;
    },
    normalize(text) {
      let piece = pendingCarriageReturn ? `\r${text}` : text;
      pendingCarriageReturn = piece.endsWith('\r');
      if (pendingCarriageReturn) piece = piece.slice(0, -1);
      return piece.replace(/\r\n?/g, '\n');
    },
  };
}

/** The `event:` name and the `data:` lines (joined by line feeds) of one SSE event; no data for a comment or keep-alive. */
function sseEvent(block: string): { name?: string; data?: string } {
  let name: string | undefined;
  let data: string | undefined;
  for (const line of block.split('\n')) {
    if (line.startsWith('data:')) {
      const value = line.slice(line.startsWith('data: ') ? 6 : 5).replace(/\r$/, '');
      data = data === undefined ? value : `${data}\n${value}`;
    } else if (line.startsWith('event:')) name = line.slice(6).trim();
  }
  const event: { name?: string; data?: string } = {};
  if (name !== undefined) event.name = name;
  if (data !== undefined) event.data = data.trim();
  return event;
}
