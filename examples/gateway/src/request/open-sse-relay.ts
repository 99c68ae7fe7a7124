import type { ServerResponse } from 'node:http';
import type { AbortLike, UpstreamResponse } from '../providers/upstream.js';
import { relayToResponse, relayToStream, startRelay, type RelayEnd, type RelayReading } from './sse-relay.js';

/** An upstream stream whose first event was read and was sound: nothing has been sent to the client yet. */
export interface OpenedSseRelay {
  /** Relay it into Node's response, as `relaySseToResponse` does; `onEnd` as in `RelayOptions`. */
  toResponse(outgoing: ServerResponse, onEnd: RelayEnd, clientGone: AbortLike): void;
  /** Relay it as a `ReadableStream`, as `relaySse` does. */
  toStream(onEnd: RelayEnd): ReadableStream<Uint8Array>;
}

/**
 * Start relaying `upstream` (as `relaySse` does, timings included) but hold what it produces until
 * its first event has been parsed: resolves then, when that event is neither malformed nor an
 * error, with the relay to hand to the client. Rejects with an `UpstreamFailure` that fails over
 * when the stream fails before: silent for `idleTimeoutMs` (`timeout`), cut (`network_error`),
 * ended without an event, or a first event that does not parse or is too long (`invalid_response`),
 * an error as the first event (see `reportedFailure`); with a `cancelled` one when `clientGone`
 * aborts first. A failure carries `reading.usage` (an answer already received, see
 * json-answer-stream.ts), so the attempt records and charges it. Until then the client's answer has
 * not begun, so its status can still be another provider's, or the request's error.
 */
export function openSseRelay(
  upstream: UpstreamResponse,
  reading: RelayReading,
  clientGone: AbortLike,
): Promise<OpenedSseRelay> {
  return new Promise((resolve, reject) => {
    const leave = (): void => relay.cancel();
    const relay = startRelay(upstream, reading, {
      opened: () => {
        clientGone.removeEventListener('abort', leave);
        resolve({
          toResponse: (outgoing, onEnd, gone) => relayToResponse(outgoing, relay, onEnd, gone),
          toStream: (onEnd) => relayToStream(relay, onEnd),
        });
      },
      failed: (failure) => {
        clientGone.removeEventListener('abort', leave);
        reject(failure);
      },
    });
    if (clientGone.aborted) relay.cancel();
    else clientGone.addEventListener('abort', leave, { once: true });
  });
}
