import type { ServerResponse } from 'node:http';
import { generatedOutputBytes } from '../protocol/output-bytes.js';
import { parseCompletionChunk, type StreamEncoder, type StreamParser } from '../protocol/stream-encoder.js';
import { reportedFailure } from '../providers/stream-answer.js';
import {
  MAX_SUCCESS_BODY_BYTES,
  UpstreamFailure,
  type AbortLike,
  type UpstreamResponse,
} from '../providers/upstream.js';
import type { AttemptCompletion, Usage } from './attempt.js';
import { ChunkTiming } from './chunk-timing.js';
import { lineFeeds, sseEvent } from './sse-events.js';
import type { StreamedOutput } from './streamed-chat-output.js';

/*
 * The relay of one streamed attempt (stream-attempt.ts opens it): the upstream's SSE events parsed,
 * re-encoded for the client and sent as they arrive, into Node's response or a `ReadableStream`.
 * `openSseRelay` (open-sse-relay.ts) reads the first event before anything is sent, so a stream
 * that fails before it fails its attempt, and another provider is tried.
 */

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

const { connection: _keepAlive, ...SSE_HEADERS_KEEPING_CONNECTION } = SSE_HEADERS;

/** How a relay reads its upstream and what it sends the client. */
export interface RelayReading {
  encoder: StreamEncoder;
  /** How upstream events are parsed; default OpenAI chat chunks (`parseCompletionChunk`). */
  parse?: StreamParser;
  /** Longest silence allowed between upstream chunks. */
  idleTimeoutMs: number;
  /**
   * Longest upstream event, in characters (UTF-16 code units, never more than its UTF-8 bytes),
   * held until its blank line; a longer one fails the attempt as `invalid_response`. Default
   * `MAX_SUCCESS_BODY_BYTES`, what a JSON answer may be: an event can carry a whole answer (a
   * Responses `response.completed`). Without it, an upstream sending bytes and never a blank line
   * is never idle, and the gateway holds all it sends.
   */
  maxEventLength?: number;
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
  /** The usage, when known up front (json-answer-stream.ts): however the stream ends, its attempt ends with it. */
  usage?: Usage;
  /** A JSON answer served as a stream (json-answer-stream.ts): no time between its chunks (see `ChunkTiming`). */
  jsonAnswer?: boolean;
}

/** Called exactly once when a relayed stream ends, however it ends. */
export type RelayEnd = (completion: AttemptCompletion, served: ServedOutput) => void;

export interface RelayOptions extends RelayReading {
  onEnd: RelayEnd;
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
  /** `RelayReading.jsonAnswer`: the output arrived whole, its first token with its last. */
  jsonAnswer: boolean;
}

/**
 * Relay an upstream OpenAI-style SSE stream to the client through `encoder`, measuring time to
 * first token and end of stream, enforcing an idle timeout, and reporting how the stream ended
 * (success, timeout, upstream failure, client cancel) exactly once through `onEnd`. The stream's
 * cancellation is the client's. The stream is the client's from the first byte: a failure before
 * the first event reaches it as an error event too (`openSseRelay` reads that event first).
 */
export function relaySse(upstream: UpstreamResponse, options: RelayOptions): ReadableStream<Uint8Array> {
  return relayToStream(startRelay(upstream, options), options.onEnd);
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
  relayToResponse(outgoing, startRelay(upstream, options), options.onEnd, clientGone);
}

/** Answer Node's response with `relay`: status 200 and the SSE headers, then the events. */
export function relayToResponse(outgoing: ServerResponse, relay: Relay, onEnd: RelayEnd, clientGone: AbortLike): void {
  // A `connection: close` set by a shutdown drain begun while the stream awaited its first event stays.
  outgoing.writeHead(200, outgoing.hasHeader('connection') ? SSE_HEADERS_KEEPING_CONNECTION : SSE_HEADERS);
  const sent = relay.commit(
    {
      // Nothing is written once the response ended (Node would emit an error) or was destroyed.
      write: (text) => {
        if (!outgoing.writableEnded && !outgoing.destroyed) outgoing.write(text);
      },
      close: () => {
        if (!outgoing.writableEnded) outgoing.end();
      },
    },
    onEnd,
  );
  // An opened relay's first events went out with the headers; one with nothing yet sends them now.
  if (!sent) outgoing.flushHeaders();
  // Destroyed but not yet closed: `clientGone` aborts only at 'close', a tick later.
  if (clientGone.aborted || outgoing.destroyed) relay.cancel();
  else
    clientGone.addEventListener('abort', () =>
      // Aborted with the connection still open: shutdown's drain deadline cut the stream
      // (server/shutdown-cut.ts), and the client gets the protocol's last error event.
      relay.cancel(outgoing.destroyed ? undefined : STREAM_CUT_BY_SHUTDOWN),
    );
}

/** The error event of a stream cut by the shutdown drain deadline (its `type`: `code` in OpenAI's shapes). */
const STREAM_CUT_BY_SHUTDOWN = { message: 'The gateway shut down before the stream ended', type: 'server_shutdown' };

/** `relay` as a `ReadableStream`, whose cancellation is the client's. */
export function relayToStream(relay: Relay, onEnd: RelayEnd): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string): void => controller.enqueue(encoder.encode(text));
      relay.commit({ write, close: () => controller.close() }, onEnd);
    },
    cancel() {
      relay.cancel();
    },
  });
}

/** Where a relay's output goes: a `ReadableStream`'s controller, or Node's response itself. */
interface RelaySink {
  /** Sends what one upstream read produced for the client. */
  write(text: string): void;
  /** Ends the answer; nothing is written after it. */
  close(): void;
}

/**
 * A running relay: `cancel` is the client leaving, or the server cutting the stream (`error`: the
 * last event the client then gets); the upstream is let go, the attempt ends cancelled.
 */
export interface Relay {
  cancel(error?: { message: string; type: string }): void;
  /**
   * From now on, send the output to `sink` and report the end to `onEnd`; what came before goes
   * first. Returns whether that sent anything (output held so far, or the end).
   */
  commit(sink: RelaySink, onEnd: RelayEnd): boolean;
}

/** Told how the first event of a relay started with `startRelay(..., opening)` went, once. */
export interface RelayOpening {
  /** The first event was sound: the relay goes on, its output held until `commit`. */
  opened(): void;
  /** The stream failed before it: nothing was sent, nothing is reported to `onEnd`. */
  failed(failure: UpstreamFailure): void;
}

/**
 * The relay itself: reads the upstream from now on, holding its output and its end until `commit`
 * says where they go. With `opening`, a failure before the first event is reported there instead.
 */
export function startRelay(upstream: UpstreamResponse, options: RelayReading, opening?: RelayOpening): Relay {
  const decoder = new TextDecoder();
  const reader = upstream.body;
  const parse = options.parse ?? ((data: string) => parseCompletionChunk(data));
  const maxEventLength = options.maxEventLength ?? MAX_SUCCESS_BODY_BYTES;
  // The text of the event under way (no blank line yet), in the pieces it arrived in: joined once
  // the event ends, so a long event is copied once, not once per read.
  const held: string[] = [];
  let heldLength = 0;
  const lines = lineFeeds();
  let usage = options.usage;
  let finishReason: string | undefined;
  // One finish reason per choice (`n` > 1), reported in choice order.
  const finishReasons = new Map<number, string>();
  const served: ServedOutput = { reasoningRelayed: false, jsonAnswer: options.jsonAnswer === true };
  let timeToFirstTokenSeconds: number | undefined;
  // The answer's id (the first chunk's), model, service tier and system fingerprint (the last ones').
  const answered: Pick<AttemptCompletion, 'responseId' | 'responseModel' | 'serviceTier' | 'systemFingerprint'> = {};
  const chunkTiming = new ChunkTiming(options.attemptStartedAt, served.jsonAnswer);
  // Bounds the output tokens received when the stream ends without usage (a client that left).
  const countOutputBytes = options.countOutputBytes === true;
  let streamedOutputBytes = 0;
  let ended = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  // Until `commit`: where the output goes, whether it was closed, and how the stream ended.
  let sink: RelaySink | undefined;
  let onEnd: RelayEnd | undefined;
  let closed = false;
  let endedWith: AttemptCompletion | undefined;
  // Set until the first event has been parsed, for a relay opened with `openSseRelay`.
  let unopened = opening;

  const failUnopened = (failure: UpstreamFailure): void => {
    const told = unopened as RelayOpening;
    unopened = undefined;
    ended = true;
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    reader.cancel();
    told.failed(usage !== undefined && failure.usage === undefined ? failure.withUsage(usage) : failure);
  };
  const finish = (completion: AttemptCompletion): void => {
    if (ended) return;
    ended = true;
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    // Copied and filled in, not spread: see withFields.
    const ending: AttemptCompletion = Object.assign({}, completion, answered);
    if (usage !== undefined) ending.usage = usage;
    if (finishReasons.size > 0) {
      ending.finishReasons = [...finishReasons].sort(([a], [b]) => a - b).map(([, reason]) => reason);
    }
    if (timeToFirstTokenSeconds !== undefined) ending.timeToFirstTokenSeconds = timeToFirstTokenSeconds;
    chunkTiming.addTo(ending);
    if (countOutputBytes) ending.streamedOutputBytes = streamedOutputBytes;
    if (options.output !== undefined) ending.outputMessages = options.output.messages();
    if (onEnd !== undefined) onEnd(ending, served);
    else endedWith = ending;
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
    if (pending === '' || sink === undefined) return;
    const text = pending;
    pending = '';
    sink.write(text);
  };
  const close = (): void => {
    flush();
    if (sink !== undefined) sink.close();
    else closed = true;
  };
  const fail = (status: AttemptCompletion['status'], errorType: string, message: string): void => {
    if (ended) return;
    if (unopened !== undefined) {
      failUnopened(new UpstreamFailure(status, errorType, message, true));
      return;
    }
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
    if (unopened !== undefined && chunk !== undefined) {
      // An error before any output (an overloaded provider): another provider can still answer.
      if (chunk !== 'done' && chunk.failure !== undefined) {
        failUnopened(reportedFailure(chunk.json['error'], chunk.failure, chunk.usage));
        return false;
      }
      const told = unopened;
      unopened = undefined;
      told.opened();
    }
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
    chunkTiming.received(receivedAt);
    if (chunk.id !== undefined) answered.responseId ??= chunk.id;
    if (chunk.usage !== undefined) usage = chunk.usage;
    if (chunk.model !== undefined) answered.responseModel = chunk.model;
    if (chunk.serviceTier !== undefined) answered.serviceTier = chunk.serviceTier;
    if (chunk.systemFingerprint !== undefined) answered.systemFingerprint = chunk.systemFingerprint;
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
        if (!handleText(lines.flush())) return;
        if (unopened !== undefined) fail('error', 'invalid_response', 'Upstream stream ended before its first event');
        else if (finishReason !== undefined) endStream();
        else fail('network_error', 'network_error', 'Upstream stream ended before completion');
        return;
      }
      armIdleTimer();
      if (!handleText(lines.normalize(decoder.decode(result.value, { stream: true })))) return;
    }
  };
  const tooLong = (): false => {
    held.length = 0;
    fail('error', 'invalid_response', `Upstream sent a stream event longer than ${maxEventLength} characters`);
    return false;
  };
  /**
   * Handle every event `text` (the next piece of the stream) completes, then send what they
   * produced; false once the stream has ended. Only `text` is searched for an event's end: the held
   * text has none, but its last line feed may begin the blank line that `text` completes.
   */
  const handleText = (text: string): boolean => {
    let boundary = held[held.length - 1]?.endsWith('\n') === true && text.startsWith('\n') ? heldLength - 1 : -1;
    if (boundary === -1) {
      const inText = text.indexOf('\n\n');
      if (inText !== -1) boundary = heldLength + inText;
    }
    let rest = text;
    if (boundary !== -1) {
      let buffer = held.length === 0 ? text : held.join('') + text;
      held.length = 0;
      heldLength = 0;
      do {
        if (boundary > maxEventLength) return tooLong();
        const event = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const { name, data } = sseEvent(event);
        if (data !== undefined && !handleEvent(data, name)) return false;
      } while ((boundary = buffer.indexOf('\n\n')) !== -1);
      rest = buffer;
    }
    if (rest !== '') {
      held.push(rest);
      heldLength += rest.length;
      if (heldLength > maxEventLength) return tooLong();
    }
    flush();
    return true;
  };
  void pump();
  return {
    cancel(error) {
      if (ended) return;
      if (unopened !== undefined) {
        // Nothing was sent: the client (or shutdown, see route-upstream.ts) gets the request's error.
        failUnopened(new UpstreamFailure('error', 'cancelled', 'Client closed the request', false));
        return;
      }
      if (error !== undefined) {
        send(options.encoder.error(error.message, error.type));
        close();
      }
      reader.cancel();
      // The client hanging up says nothing about the provider, which was streaming fine.
      finish({ status: 'success', cancelled: true });
    },
    commit(to, reportTo) {
      sink = to;
      onEnd = reportTo;
      const sends = pending !== '' || closed;
      flush();
      if (closed) to.close();
      if (endedWith !== undefined) reportTo(endedWith, served);
      return sends;
    },
  };
}
