/**
 * The primary side of cluster mode. It runs no gateway code: when a worker is scraped it asks every
 * live worker for its metrics, merges them with what exited workers left, and answers the scraped
 * worker; and it hosts the one model-health store the workers share when that store lives in
 * memory.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { diag } from '@opentelemetry/api';
import { METRIC_CATALOG, instrumentName, type MetricDefinition } from '@gatewayz/telemetry/metrics';
import type { ModelHealthStore } from '@gatewayz/telemetry/model-health';
import { STORE_METHODS, isClusterMessage, message, toWireError, type ClusterMessage } from './cluster-messages.js';
import { decodeDates, encodeDates } from './wire-dates.js';
import { CollectionReceiver, partsOfMerged } from './collection-parts.js';
import { WireEncoder } from './wire-encoder.js';
import { timerDelayOption } from '../env/timer-delay-option.js';
import {
  mergeWorkerMetrics,
  retireWorker,
  type GaugeMergeRule,
  SeriesTable,
  type MergePart,
  type WorkerCollection,
} from './merge-worker-metrics.js';

/**
 * Options of {@link startClusterPrimary}.
 *
 * @example
 * ```ts
 * const options: ClusterPrimaryOptions = { modelHealthStore: new MemoryModelHealthStore(), timeoutMs: 3000 };
 * ```
 */
export interface ClusterPrimaryOptions {
  /** The store the workers' `ClusterModelHealthStore` proxies read and write; omit when workers use a shared database. */
  modelHealthStore?: ModelHealthStore;
  /** How long to wait for a worker's metrics before using its previous ones, from 1 to 2147483647 ms. Default 5000 ms. */
  timeoutMs?: number;
  /** Prefix of prefixed catalog metrics, as given to `startTelemetry` in the workers. Default `gatewayz_`. */
  prefix?: string;
}

/**
 * The running primary of {@link startClusterPrimary}.
 *
 * @example
 * ```ts
 * const primary: ClusterPrimary = startClusterPrimary();
 * process.once('SIGTERM', () => primary.stop());
 * ```
 */
export interface ClusterPrimary {
  /** Workers whose metrics the primary currently merges. */
  readonly workers: number;
  /** Stop answering workers; the listeners are removed. */
  stop(): void;
}

interface Round {
  readonly id: number;
  readonly waiting: Set<number>;
  readonly parts: Map<number, WorkerCollection>;
  readonly requesters: Array<{ worker: Worker; id: number }>;
  readonly timer: NodeJS.Timeout;
}

/** What the primary reads from one worker: its snapshots, under a session the worker encodes for. */
interface Inbound {
  readonly session: string;
  readonly receiver: CollectionReceiver;
}

/** What the primary sends one worker: the aggregate, one reply after the other. */
interface Outbound {
  readonly session: string;
  readonly encoder: WireEncoder;
  chain: Promise<void>;
}

/** Yield to the event loop between the parts of a reply. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function gaugeRules(prefix: string): Map<string, GaugeMergeRule> {
  const rules = new Map<string, GaugeMergeRule>();
  for (const definition of Object.values(METRIC_CATALOG) as MetricDefinition[]) {
    if (definition.kind === 'gauge') rules.set(instrumentName(definition, prefix), definition.clusterMerge ?? 'max');
  }
  return rules;
}

/**
 * Make this node:cluster primary aggregate its workers' metrics for every scrape of the shared port,
 * and (with `modelHealthStore`) serve the workers' model-health reads and writes from one store.
 * Call it before forking; workers start telemetry with `startTelemetry({ cluster: true })`.
 *
 * A worker that exits leaves its counters and histograms in the aggregate, which never goes
 * backwards: as of its final snapshot when its telemetry shut down gracefully (`shutdown()` of
 * `startTelemetry({ cluster: true })` sends one), otherwise as of its last collection (the last
 * scrape), and what a worker that died recorded after that is lost with it.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * if (cluster.isPrimary) {
 *   startClusterPrimary({ modelHealthStore: new MemoryModelHealthStore() });
 *   for (let index = 0; index < 4; index++) cluster.fork();
 * } else {
 *   startTelemetry({ cluster: true });
 * }
 * ```
 */
export function startClusterPrimary(options: ClusterPrimaryOptions = {}): ClusterPrimary {
  if (!cluster.isPrimary) throw new Error('startClusterPrimary() must run in the node:cluster primary');
  const timeoutMs = timerDelayOption(options.timeoutMs, 5000, 'timeoutMs');
  const rules = gaugeRules(options.prefix ?? 'gatewayz_');
  const ruleOf = (name: string): GaugeMergeRule => rules.get(name) ?? 'max';
  const store = options.modelHealthStore;
  const lastSnapshots = new Map<number, WorkerCollection>();
  // Workers whose metrics source runs (it says hello when it starts): only they are asked. A worker
  // still loading its code, or one that runs no telemetry, would hold every scrape for `timeoutMs`.
  const greeted = new Set<number>();
  // Workers stopping gracefully: the snapshot request that takes their final counts, and the
  // request of theirs to answer once it arrived.
  const retiring = new Map<number, { snapshotId: number; requestId: number }>();
  // Workers whose final snapshot arrived: their metrics source has stopped, so they are asked no
  // more (a scrape would wait for them in vain); that snapshot counts until they exit.
  const finished = new Set<number>();
  let retired: WorkerCollection | undefined;
  let round: Round | undefined;
  let nextRoundId = 1;
  // Each worker's dictionaries (series sent once, then only their numbers) belong to a session:
  // a new primary, or one that lost track of what a worker sent, starts a new one.
  const primarySession = randomUUID();
  // One numbering of every metric's label sets across workers, kept from scrape to scrape.
  const tables = new Map<string, SeriesTable>();
  const tableOf = (name: string): SeriesTable => {
    let table = tables.get(name);
    if (table === undefined) tables.set(name, (table = new SeriesTable()));
    return table;
  };
  let nextSession = 1;
  const inbound = new Map<number, Inbound>();
  const outbound = new Map<number, Outbound>();
  const newSession = (): string => `${primarySession}.${nextSession++}`;
  const inboundOf = (worker: Worker): Inbound => {
    let state = inbound.get(worker.id);
    if (state === undefined)
      inbound.set(worker.id, (state = { session: newSession(), receiver: new CollectionReceiver() }));
    return state;
  };
  const outboundOf = (worker: Worker, fresh = false): Outbound => {
    let state = outbound.get(worker.id);
    if (state === undefined || fresh) {
      state = { session: newSession(), encoder: new WireEncoder(), chain: state?.chain ?? Promise.resolve() };
      outbound.set(worker.id, state);
    }
    return state;
  };

  const liveWorkers = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter(
      (worker): worker is Worker => worker !== undefined && worker.isConnected() && !worker.isDead(),
    );

  const send = (worker: Worker, body: ClusterMessage): void => {
    if (!worker.isConnected()) return;
    worker.send(body, (error: Error | null) => {
      if (error) diag.debug('@gatewayz/telemetry-node: cluster message not delivered', error.message);
    });
  };

  /** Send `merged` (or `error`) to a worker that asked, in parts, after any reply still going to it. */
  const reply = (worker: Worker, id: number, merged: WorkerCollection | undefined, error: string | undefined): void => {
    // A requester that died while its round waited (its exit ends the round): no state kept for it.
    if (worker.isDead() || !worker.isConnected()) return;
    const state = outboundOf(worker);
    state.chain = state.chain
      .then(async () => {
        if (merged === undefined) {
          send(worker, message({ type: 'collect-result', id, error: error ?? 'merge failed' }));
          return;
        }
        const parts = partsOfMerged(state.encoder, merged);
        let next = parts.next();
        while (next.done !== true) {
          const part = next.value;
          next = parts.next();
          send(worker, message({ type: 'collect-result', id, session: state.session, part, more: next.done !== true }));
          if (next.done !== true) await nextTurn();
        }
      })
      .catch((caught: unknown) => {
        // The worker may have been told part of it: it asks for everything again when its reply fails.
        diag.error('@gatewayz/telemetry-node: sending the cluster aggregate failed', caught);
        outbound.delete(worker.id);
        send(worker, message({ type: 'collect-result', id, error: String(caught) }));
      });
  };

  const finishRound = (current: Round): void => {
    if (round !== current) return;
    round = undefined;
    clearTimeout(current.timer);
    const parts: MergePart[] = [];
    // A worker that did not answer in time counts with its previous metrics, so no counter dips.
    // So does one that left the channel but has not exited (a graceful shutdown draining its
    // connections), and one that sent its final snapshot: it cannot be asked any more, and its
    // counts are retired only when it exits.
    const workerIds = new Set([...liveWorkers().map((worker) => worker.id), ...lastSnapshots.keys()]);
    for (const workerId of workerIds) {
      const collection = current.parts.get(workerId) ?? lastSnapshots.get(workerId);
      if (collection !== undefined) parts.push({ workerId: String(workerId), collection });
    }
    if (retired !== undefined) parts.push({ workerId: undefined, collection: retired });
    let merged: WorkerCollection | undefined;
    let error: string | undefined;
    try {
      merged = mergeWorkerMetrics(parts, ruleOf);
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    for (const requester of current.requesters) reply(requester.worker, requester.id, merged, error);
  };

  const startOrJoinRound = (requester: Worker, requestId: number): void => {
    // Scrapes that arrive while a collection is under way share its result.
    if (round !== undefined) {
      round.requesters.push({ worker: requester, id: requestId });
      return;
    }
    const workers = liveWorkers().filter((worker) => greeted.has(worker.id) && !finished.has(worker.id));
    const current: Round = {
      id: nextRoundId++,
      waiting: new Set(workers.map((worker) => worker.id)),
      parts: new Map(),
      requesters: [{ worker: requester, id: requestId }],
      timer: setTimeout(() => finishRound(current), timeoutMs).unref(),
    };
    round = current;
    for (const worker of workers)
      send(worker, message({ type: 'snapshot-request', id: current.id, session: inboundOf(worker).session }));
    if (current.waiting.size === 0) finishRound(current);
  };

  /** One part of a worker's snapshot; the whole snapshot when it was the last part. */
  const receiveSnapshot = (
    worker: Worker,
    received: Extract<ClusterMessage, { type: 'snapshot' }>,
  ): { done: boolean; collection?: WorkerCollection } => {
    const state = inboundOf(worker);
    // Parts of a session given up (the worker is told the new one with the next request): its
    // previous snapshot counts for this round.
    if (received.session !== state.session) return { done: received.more !== true };
    try {
      if (received.part === undefined) {
        state.receiver.abandon(received.id);
        throw new Error(received.error ?? 'no data');
      }
      const done = state.receiver.receive(received.id, received.part, received.more === true);
      if (done === undefined) return { done: received.more !== true };
      return { done: true, collection: state.receiver.toWorkerCollection(done, tableOf) };
    } catch (caught) {
      diag.debug('@gatewayz/telemetry-node: a worker snapshot could not be read; its previous one counts', caught);
      // What it sent may be lost: it sends every series again, under a new session.
      inbound.delete(worker.id);
      return { done: true };
    }
  };

  const serveStore = async (worker: Worker, id: number, method: string, args: readonly unknown[]): Promise<void> => {
    try {
      if (store === undefined)
        throw new Error('the cluster primary has no model-health store (startClusterPrimary({ modelHealthStore }))');
      if (!(STORE_METHODS as readonly string[]).includes(method)) throw new Error(`unknown store method "${method}"`);
      const target = store as unknown as Record<string, (...values: unknown[]) => Promise<unknown>>;
      if (typeof target[method] !== 'function') throw new Error(`the primary's store has no ${method}() method`);
      const value = await target[method].apply(store, decodeDates(args) as unknown[]);
      send(worker, message({ type: 'store-result', id, value: encodeDates(value) }));
    } catch (error) {
      send(worker, message({ type: 'store-result', id, error: toWireError(error) }));
    }
  };

  const onMessage = (worker: Worker, received: unknown): void => {
    if (!isClusterMessage(received)) return;
    // A model-health store proxy alone is no metrics source.
    if (received.type !== 'store-call') greeted.add(worker.id);
    switch (received.type) {
      case 'hello':
        // A metrics source started again in the same process.
        finished.delete(worker.id);
        send(worker, message({ type: 'hello-ack' }));
        return;
      case 'retire': {
        // Its snapshot then comes after every one a round asked for before, on the same channel.
        const snapshotId = nextRoundId++;
        retiring.set(worker.id, { snapshotId, requestId: received.id });
        send(worker, message({ type: 'snapshot-request', id: snapshotId, session: inboundOf(worker).session }));
        return;
      }
      case 'collect':
        if (received.fresh === true) outboundOf(worker, true);
        startOrJoinRound(worker, received.id);
        return;
      case 'snapshot': {
        const { done, collection } = receiveSnapshot(worker, received);
        if (!done) return;
        if (collection !== undefined) lastSnapshots.set(worker.id, collection);
        const leaving = retiring.get(worker.id);
        if (leaving?.snapshotId === received.id) {
          retiring.delete(worker.id);
          finished.add(worker.id);
          const error = collection === undefined ? { error: 'its final snapshot could not be read' } : {};
          send(worker, message({ type: 'retire-result', id: leaving.requestId, ...error }));
        }
        const current = round;
        if (current === undefined || current.id !== received.id) return;
        if (collection !== undefined) current.parts.set(worker.id, collection);
        current.waiting.delete(worker.id);
        if (current.waiting.size === 0) finishRound(current);
        return;
      }
      case 'store-call':
        void serveStore(worker, received.id, received.method, received.args);
        return;
      default:
        return;
    }
  };

  const onExit = (worker: Worker): void => {
    const last = lastSnapshots.get(worker.id);
    lastSnapshots.delete(worker.id);
    greeted.delete(worker.id);
    retiring.delete(worker.id);
    finished.delete(worker.id);
    inbound.delete(worker.id);
    outbound.delete(worker.id);
    if (last !== undefined) retired = retireWorker(retired, last);
    const current = round;
    if (current !== undefined && current.waiting.delete(worker.id) && current.waiting.size === 0) finishRound(current);
  };

  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  return {
    get workers() {
      return liveWorkers().length;
    },
    stop: () => {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      if (round !== undefined) finishRound(round);
    },
  };
}
