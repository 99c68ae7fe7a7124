import type { ServerResponse } from 'node:http';
import { UpstreamFailure, type AbortLike, type UpstreamResponse } from '../providers/upstream.js';
import { relayToResponse, relayToStream, startRelay, type RelayEnd, type RelayReading } from './sse-relay.js';

/** An upstream stream whose first event was read and was sound: nothing has been sent to the client yet. */
export interface OpenedSseRelay {
  /** Relay it into Node's response, as `relaySseToResponse` does; `onEnd` as in `RelayOptions`. */
  toResponse(outgoing: ServerResponse, onEnd: RelayEnd, clientGone: AbortLike): void;
  /** Relay it as a `ReadableStream`, as `relaySse` does. */
  toStream(onEnd: RelayEnd): ReadableStream<Uint8Array>;
}

/** How a stream is read until it opens: as `RelayReading` says, within `openTimeoutMs`. */
export interface OpeningReading extends RelayReading {
  /**
   * Deadline of the first sound event, in ms from `attemptStartedAt` (`ATTEMPT_TIMEOUT_MS`, the
   * attempt's deadline until its answer can start); none by default. The idle timeout alone does
   * not bound that wait: keep-alive bytes that complete no event (SSE comments, which OpenRouter
   * sends every second while a request is queued) restart it, and would hold the client for ever.
   */
  openTimeoutMs?: number;
}

/**
 * Start relaying `upstream` (as `relaySse` does, timings included) but hold what it produces until
 * its first event has been parsed: resolves then, when that event is neither malformed nor an
 * error, with the relay to hand to the client. Rejects with an `UpstreamFailure` that fails over
 * when the stream fails before: silent for `idleTimeoutMs` or no sound event within `openTimeoutMs`
 * of the attempt's start (`timeout`), cut (`network_error`), ended without an event, or a first
 * event that does not parse or is too long (`invalid_response`), an error as the first event (see
 * `reportedFailure`); with a `cancelled` one when `clientGone` aborts first. A failure carries
 * `reading.usage` (an answer already received, see json-answer-stream.ts), so the attempt records
 * and charges it. Until then the client's answer has not begun, so its status can still be another
 * provider's, or the request's error.
 */
export function openSseRelay(
  upstream: UpstreamResponse,
  reading: OpeningReading,
  clientGone: AbortLike,
): Promise<OpenedSseRelay> {
  return new Promise((resolve, reject) => {
    let late = false;
    // Measured from the attempt's start, as the headers' deadline is: one bound for all the client
    // waits on this provider before its answer starts, however the provider splits it.
    const openTimeoutMs = reading.openTimeoutMs;
    const deadline =
      openTimeoutMs === undefined
        ? undefined
        : setTimeout(
            () => {
              late = true;
              relay.cancel();
            },
            Math.max(0, openTimeoutMs - (performance.now() - reading.attemptStartedAt)),
          );
    const leave = (): void => relay.cancel();
    const settled = (): void => {
      clearTimeout(deadline);
      clientGone.removeEventListener('abort', leave);
    };
    const relay = startRelay(upstream, reading, {
      opened: () => {
        settled();
        resolve({
          toResponse: (outgoing, onEnd, gone) => relayToResponse(outgoing, relay, onEnd, gone),
          toStream: (onEnd) => relayToStream(relay, onEnd),
        });
      },
      failed: (failure) => {
        settled();
        if (!late) reject(failure);
        else {
          const message = `No stream event within ${openTimeoutMs} ms of the attempt's start`;
          reject(new UpstreamFailure('timeout', 'timeout', message, true).withUsage(failure.usage));
        }
      },
    });
    if (clientGone.aborted) relay.cancel();
    else clientGone.addEventListener('abort', leave, { once: true });
  });
}
