import type { ServerResponse } from 'node:http';
import { ROOT_CONTEXT, type Context as OtelContext } from '@opentelemetry/api';
import type { Context } from 'hono';
import type { AbortLike } from '../providers/upstream.js';
import type { GatewayEnv } from '../server/gateway-env.js';

/**
 * The request's OpenTelemetry context (its server span). It travels with the Hono context, not
 * with the active context: that works with either context manager, including 'synchronous'.
 */
export function requestContext(c: Context<GatewayEnv>): OtelContext {
  return c.get('otelContext') ?? ROOT_CONTEXT;
}

/**
 * Aborted when the response's connection closed before the response was complete: what
 * `AbortSignal` does for an attempt (`aborted`, 'abort' listeners called once), without one.
 * Node 20 makes each `AbortSignal` by changing an `EventTarget`'s prototype, which costs about
 * 3 µs and leaves about 200 bytes in old space; a gateway making one per request grows old space
 * by that much at every request (docs/benchmarks.md). Node 22 makes them cheaply.
 */
export class ClientGone implements AbortLike {
  #aborted = false;
  #cut = false;
  #listeners: (() => void)[] = [];

  /**
   * @param onListenerError Given what a listener threw, after the other listeners ran; by default
   * thrown on the next tick, as an `EventTarget` reports a listener's error.
   * @param whenCut Also abort when this calls back (shutdown's drain deadline, see
   * `InFlightWork.whenCut`), while the connection is still open, and say so (`cut`); it returns how
   * to unregister, done when the connection closes.
   */
  constructor(
    outgoing: ServerResponse,
    private readonly onListenerError: (error: unknown) => void = rethrowLater,
    whenCut?: (cut: () => void) => () => void,
  ) {
    if (outgoing.destroyed && !outgoing.writableFinished) {
      this.#aborted = true;
      return;
    }
    const unregister = whenCut?.(() => {
      if (this.#aborted) return;
      this.#cut = true;
      this.#abort();
    });
    outgoing.once('close', () => {
      unregister?.();
      if (!outgoing.writableFinished) this.#abort();
    });
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /**
   * Whether it was the server that aborted, cutting the request at shutdown's drain deadline while
   * its client was still there, not the client leaving (see `AbortLike.cut`).
   */
  get cut(): boolean {
    return this.#cut;
  }

  /**
   * As `AbortSignal`: a listener added after the abort is not called. Every listener is called
   * once, so `{ once: true }` changes nothing.
   */
  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (!this.#aborted) this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.#listeners.indexOf(listener);
    if (at !== -1) this.#listeners.splice(at, 1);
  }

  #abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}

function rethrowLater(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}

/**
 * Aborts when the client goes away before the answer is complete. From Node's response when
 * served by @hono/node-server (`ClientGone`); `c.req.raw.signal` otherwise, which would build a
 * WHATWG Request here (see `readJsonObject`).
 */
export function clientGone(c: Context<GatewayEnv>): AbortLike {
  const made = c.get('clientGone');
  if (made !== undefined) return made;
  const outgoing = c.env?.outgoing;
  if (outgoing === undefined) return c.req.raw.signal;
  const gone = new ClientGone(outgoing);
  c.set('clientGone', gone);
  return gone;
}
