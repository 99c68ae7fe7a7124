/**
 * The primary side of cluster mode. It runs no gateway code: when a worker is scraped it asks every
 * live worker for its metrics, merges them with what exited workers left, and answers the scraped
 * worker; and it hosts the one model-health store the workers share when that store lives in
 * memory.
 */
import cluster, { type Worker } from 'node:cluster';
import { diag } from '@opentelemetry/api';
import { METRIC_CATALOG, instrumentName, type MetricDefinition } from '@gatewayz/telemetry/metrics';
import type { ModelHealthStore } from '@gatewayz/telemetry/model-health';
import { STORE_METHODS, isClusterMessage, message, toWireError, type ClusterMessage } from './cluster-messages.js';
import { decodeDates, encodeDates } from './wire-dates.js';
import {
  mergeWorkerMetrics,
  retireWorker,
  type GaugeMergeRule,
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
  /** How long to wait for a worker's metrics before using its previous ones. Default 5000 ms. */
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
 * A worker that exits leaves its counters and histograms as of its last collection (the last
 * scrape): the aggregate never goes backwards, and what it recorded after that is lost with it.
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
  const timeoutMs = options.timeoutMs ?? 5000;
  const rules = gaugeRules(options.prefix ?? 'gatewayz_');
  const ruleOf = (name: string): GaugeMergeRule => rules.get(name) ?? 'max';
  const store = options.modelHealthStore;
  const lastSnapshots = new Map<number, WorkerCollection>();
  let retired: WorkerCollection | undefined;
  let round: Round | undefined;
  let nextRoundId = 1;

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

  const finishRound = (current: Round): void => {
    if (round !== current) return;
    round = undefined;
    clearTimeout(current.timer);
    const parts: MergePart[] = [];
    for (const worker of liveWorkers()) {
      // A worker that did not answer in time counts with its previous metrics, so no counter dips.
      const collection = current.parts.get(worker.id) ?? lastSnapshots.get(worker.id);
      if (collection !== undefined) parts.push({ workerId: String(worker.id), collection });
    }
    if (retired !== undefined) parts.push({ workerId: undefined, collection: retired });
    let merged: WorkerCollection | undefined;
    let error: string | undefined;
    try {
      merged = mergeWorkerMetrics(parts, ruleOf);
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    for (const requester of current.requesters)
      send(
        requester.worker,
        message({
          type: 'collect-result',
          id: requester.id,
          ...(merged !== undefined ? { collection: merged } : { error: error ?? 'merge failed' }),
        }),
      );
  };

  const startOrJoinRound = (requester: Worker, requestId: number): void => {
    // Scrapes that arrive while a collection is under way share its result.
    if (round !== undefined) {
      round.requesters.push({ worker: requester, id: requestId });
      return;
    }
    const workers = liveWorkers();
    const current: Round = {
      id: nextRoundId++,
      waiting: new Set(workers.map((worker) => worker.id)),
      parts: new Map(),
      requesters: [{ worker: requester, id: requestId }],
      timer: setTimeout(() => finishRound(current), timeoutMs).unref(),
    };
    round = current;
    for (const worker of workers) send(worker, message({ type: 'snapshot-request', id: current.id }));
    if (current.waiting.size === 0) finishRound(current);
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
    switch (received.type) {
      case 'hello':
        send(worker, message({ type: 'hello-ack' }));
        return;
      case 'collect':
        startOrJoinRound(worker, received.id);
        return;
      case 'snapshot': {
        if (received.collection !== undefined) lastSnapshots.set(worker.id, received.collection);
        const current = round;
        if (current === undefined || current.id !== received.id) return;
        if (received.collection !== undefined) current.parts.set(worker.id, received.collection);
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
