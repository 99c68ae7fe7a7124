/**
 * The worker side of cluster mode: the metrics endpoints of a worker answer the aggregate of every
 * worker (asked of the primary, see `startClusterPrimary`), and a worker answers the primary's
 * requests for its own metrics. Nothing here runs on the record path.
 */
import { diag } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { resourceKeepingEveryKey } from '../sdk/resource-keeping-every-key.js';
import type { MetricsSource } from '../http/metrics-handler.js';
import { isClusterMessage, message, type ClusterMessage } from './cluster-messages.js';
import { PACKAGE_NAME } from '@gatewayz/telemetry';
import { CollectionReceiver, partsOfCollection, type ReceivedCollection } from './collection-parts.js';
import { WireEncoder } from './wire-encoder.js';
import { timerDelayOption } from '../env/timer-delay-option.js';

/**
 * The IPC side of a worker process: `process` in a node:cluster worker (the default); tests may
 * pass another channel.
 *
 * @example
 * ```ts
 * const channel: ClusterChannel = process;
 * const store = new ClusterModelHealthStore({ channel });
 * ```
 */
export interface ClusterChannel {
  /** Send a message to the primary; the callback reports a delivery error. */
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  /** Listen for the primary's messages. */
  on(event: 'message', listener: (message: unknown) => void): unknown;
  /** Stop listening. */
  off(event: 'message', listener: (message: unknown) => void): unknown;
  /** `false` once the channel is closed (`process.connected` after `process.disconnect()`). */
  readonly connected?: boolean;
}

// Request ids must be unique in the process, not in this module: a process can load this package
// twice (its ESM build for the application's `import`, its CommonJS build for a dependency's
// `require()`), and every request channel of both listens on the same IPC. With a counter per build
// both would send id 1, and a reply would be taken by whichever pending request has its id. So the
// counter lives in a process-wide slot, as the shared telemetry instance does; its shape (one
// number) must stay the same in every version, which all share it.
const REQUEST_IDS_KEY = Symbol.for('@gatewayz/telemetry-node.cluster-request-ids');

/** The next request id of the process, from the slot every loaded copy of this package shares. */
function nextRequestId(): number {
  const holder = globalThis as { [REQUEST_IDS_KEY]?: { next: number } };
  let counter = holder[REQUEST_IDS_KEY];
  if (counter === undefined) {
    counter = { next: 1 };
    Object.defineProperty(holder, REQUEST_IDS_KEY, {
      value: counter,
      enumerable: false,
      configurable: true,
      writable: false,
    });
  }
  return counter.next++;
}

/** Throw unless `channel` can send: outside a node:cluster worker `process` has no `send()`. */
function requireIpcChannel(channel: ClusterChannel): void {
  if (typeof channel.send !== 'function')
    throw new Error('cluster mode needs an IPC channel: start this process as a node:cluster worker');
}

/** A pending request to the primary, keyed by id. */
interface Pending<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Requests to the primary over the IPC channel, each answered by the reply with its id, or
 * rejected after `timeoutMs`. Shared by the metrics source and the model-health store proxy.
 */
export class ClusterRequests {
  private readonly pending = new Map<number, Pending<ClusterMessage>>();
  private readonly listener = (received: unknown): void => {
    if (!isClusterMessage(received) || !('id' in received)) return;
    // Several channels share the process's IPC: take only this one's replies.
    if (received.type !== this.replyType) return;
    // A reply in parts answers with its last one.
    if ((received as { more?: boolean }).more === true) return;
    const waiting = this.pending.get(received.id);
    if (waiting === undefined) return;
    this.pending.delete(received.id);
    clearTimeout(waiting.timer);
    waiting.resolve(received);
  };

  constructor(
    private readonly channel: ClusterChannel,
    private readonly timeoutMs: number,
    private readonly replyType: 'collect-result' | 'store-result' | 'retire-result',
  ) {
    requireIpcChannel(channel);
    channel.on('message', this.listener);
  }

  /** Send `body` (with a fresh id) and resolve with the primary's reply. */
  request(body: (id: number) => ClusterMessage, what: string): Promise<ClusterMessage> {
    // Ids are unique in the process (every build of this package included), not per channel, so no
    // reply can be taken for another's.
    const id = nextRequestId();
    return new Promise<ClusterMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            `the cluster primary did not answer ${what} within ${this.timeoutMs} ms; is startClusterPrimary() running in the primary?`,
          ),
        );
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      this.channel.send!(body(id), (error) => {
        if (error === null) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Stop listening; pending requests are rejected. */
  close(): void {
    this.channel.off('message', this.listener);
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error('cluster channel closed'));
      this.pending.delete(id);
    }
  }
}

/**
 * Options of {@link createClusterMetricsSource}.
 *
 * @example
 * ```ts
 * const options: ClusterMetricsSourceOptions = { timeoutMs: 10_000 };
 * ```
 */
export interface ClusterMetricsSourceOptions {
  /** How long a scrape waits for the primary's aggregate, from 1 to 2147483647 ms. Default 10 000 ms. */
  timeoutMs?: number;
  /** The IPC channel; default `process`. */
  channel?: ClusterChannel;
}

/** Yield to the event loop: timers, I/O and other requests run before the next step. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A `MetricsSource` that answers with the aggregate of every worker of the cluster, and answers the
 * primary's requests for this worker's own metrics from `local`. Throws, adding no listener, when
 * the channel cannot send (a process that is not a node:cluster worker).
 *
 * `stop()` (a graceful shutdown: call it once the worker drained its requests, before `local`'s
 * reader shuts down) hands the primary this worker's final snapshot, which the primary keeps
 * counting until the worker exits and then retires, so nothing recorded since the last scrape is
 * lost; it waits for the primary to take it at most `timeoutMs`, then removes the listeners. With
 * the channel closed, or when no primary ever answered this worker, it stops at once.
 *
 * Both ways a collection travels in parts (see `series-wire.ts`): this worker sends its own in
 * messages of a few thousand points, yielding to the event loop between them, and reads the
 * aggregate part by part as it arrives, so no single step of a large collection holds the loop.
 *
 * @example
 * ```ts
 * const source = createClusterMetricsSource(prometheusExporter);
 * const handler = createMetricsHandler({ source });
 * ```
 */
export function createClusterMetricsSource(
  local: MetricsSource,
  options: ClusterMetricsSourceOptions = {},
): MetricsSource & { stop(): Promise<void> } {
  const channel: ClusterChannel = options.channel ?? process;
  // Before any listener is added: a throw must leave the channel (often `process`) as it was.
  const timeoutMs = timerDelayOption(options.timeoutMs, 10_000, 'timeoutMs');
  requireIpcChannel(channel);
  const send = (body: ClusterMessage): void => {
    channel.send!(body, (error) => {
      if (error !== null) diag.debug('@gatewayz/telemetry-node: cluster message not delivered', error.message);
    });
  };
  const encoder = new WireEncoder();
  const receiver = new CollectionReceiver();
  const received = new Map<number, ReceivedCollection | Error>();
  let fresh = true;
  // One snapshot at a time: parts of two would interleave on the channel.
  let snapshots: Promise<void> = Promise.resolve();

  const sendSnapshot = async (id: number, session: string): Promise<void> => {
    try {
      const { resourceMetrics, errors } = await local.collect();
      for (const error of errors) diag.warn('@gatewayz/telemetry-node: metric collection error', error);
      encoder.useSession(session);
      const parts = partsOfCollection(encoder, resourceMetrics, PACKAGE_NAME);
      let next = parts.next();
      while (next.done !== true) {
        const part = next.value;
        next = parts.next();
        send(message({ type: 'snapshot', id, session, part, more: next.done !== true }));
        if (next.done !== true) await nextTurn();
      }
    } catch (error) {
      // What was sent of it may be lost to the primary: it starts a new session for this worker.
      send(message({ type: 'snapshot', id, session, error: String(error) }));
    }
  };

  const onPrimaryMessage = (incoming: unknown): void => {
    if (!isClusterMessage(incoming)) return;
    if (incoming.type === 'hello-ack') {
      acknowledged = true;
      return;
    }
    if (incoming.type === 'collect-result') {
      try {
        // A new session: the primary starts its numbering of the series over.
        if (incoming.session !== undefined) receiver.decoder.useSession(incoming.session);
        if (incoming.part === undefined) receiver.abandon(incoming.id);
        else {
          const done = receiver.receive(incoming.id, incoming.part, incoming.more === true);
          if (done !== undefined) keep(incoming.id, done);
        }
      } catch (error) {
        // The series this worker was told are out of step with the primary's: ask for all of them again.
        fresh = true;
        receiver.abandon(incoming.id);
        keep(incoming.id, error instanceof Error ? error : new Error(String(error)));
      }
      return;
    }
    if (incoming.type !== 'snapshot-request') return;
    const { id, session } = incoming;
    snapshots = snapshots.then(() => sendSnapshot(id, session));
  };
  // Collections a request has not taken yet; a few at most (a request that timed out never takes its own).
  const keep = (id: number, value: ReceivedCollection | Error): void => {
    received.set(id, value);
    for (const older of received.keys()) if (received.size > 8) received.delete(older);
  };
  let acknowledged = false;
  // Before the request channel's listener: a reply's last part is put together before its request resolves.
  channel.on('message', onPrimaryMessage);
  const requests = new ClusterRequests(channel, timeoutMs, 'collect-result');
  // With a callback: a send to a primary that is gone would otherwise throw EPIPE, uncaught.
  channel.send!(message({ type: 'hello' }), (error) => {
    if (error) diag.debug('@gatewayz/telemetry-node: cluster hello not delivered', error.message);
  });
  // Say it once, early, when no primary aggregates: every scrape would fail otherwise.
  const helloTimer = setTimeout(() => {
    if (!acknowledged)
      diag.warn(
        '@gatewayz/telemetry-node: cluster mode is on but the primary did not answer; call startClusterPrimary() in the node:cluster primary',
      );
  }, 2000).unref();
  let stopping: Promise<void> | undefined;
  // What it recorded since the last scrape (the requests it drained) would otherwise be lost: the
  // primary retires a worker's counters as of the last snapshot it has.
  const sendFinalSnapshot = async (): Promise<void> => {
    if (!acknowledged || channel.connected === false) return;
    const retiring = new ClusterRequests(channel, timeoutMs, 'retire-result');
    try {
      const reply = await retiring.request((id) => message({ type: 'retire', id }), 'the final metrics snapshot');
      const error = (reply as { error?: string }).error;
      if (error !== undefined) throw new Error(error);
    } catch (error) {
      diag.warn(
        "@gatewayz/telemetry-node: the cluster primary did not take this worker's final metrics snapshot; what it recorded since the last scrape is left out of the aggregate",
        error,
      );
    } finally {
      retiring.close();
    }
  };
  return {
    async collect() {
      const asFresh = fresh;
      fresh = false;
      const reply = await requests.request(
        (id) => message({ type: 'collect', id, ...(asFresh ? { fresh: true } : {}) }),
        'a metrics collection',
      );
      const replyId = (reply as { id: number }).id;
      const collection = received.get(replyId);
      received.delete(replyId);
      if (collection instanceof Error) throw collection;
      if (reply.type !== 'collect-result' || collection === undefined)
        throw new Error(
          `the cluster primary could not aggregate metrics: ${(reply as { error?: string }).error ?? 'no data'}`,
        );
      return {
        resourceMetrics: {
          resource: resourceKeepingEveryKey(resourceFromAttributes(collection.head.resource)),
          scopeMetrics: receiver.toScopeMetrics(collection),
        },
        errors: [],
      };
    },
    stop() {
      clearTimeout(helloTimer);
      stopping ??= sendFinalSnapshot().finally(() => {
        channel.off('message', onPrimaryMessage);
        requests.close();
      });
      return stopping;
    },
  };
}
