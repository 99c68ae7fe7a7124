/**
 * API key spend and use across the workers of `GATEWAY_WORKERS=N`: each worker tells the primary
 * what it spent through each key and when it last used it; the primary keeps that per worker (a
 * worker that dies keeps its share) and tells every worker what the others did. A worker then
 * checks budgets against the spend of the whole gateway and counts `active_api_keys` over every
 * worker, so the aggregate scrape shows one gateway, not N.
 *
 * Changes travel in batches every {@link SHARE_INTERVAL_MS} in each direction: a worker learns of
 * another's spend within about twice that, and a budget can be overrun by what the gateway spends
 * in that time. The holds of requests in progress (`ApiKeyAccount.hold`) are not shared: each
 * worker admits against the shared spend and its own holds, so a burst spread over N workers can
 * be admitted up to what is left of the budget on each (at most N × the budget in all).
 */
import cluster, { type Worker } from 'node:cluster';
import { CompensatedSum, type ApiKeyAccount, type ApiKeyRegistry } from './api-key-registry.js';

/** How often a worker sends its changes, and the primary its news. */
export const SHARE_INTERVAL_MS = 50;

/** Marks the messages of this module on the cluster's IPC channel (telemetry-node's carry their own tag). */
const TAG = 'gatewayz-example-api-keys';

/** One key's usage: cumulative USD and last use (ms since the epoch; null when never). */
interface KeyUsage {
  readonly name: string;
  readonly spentUsd: number;
  readonly lastUsedMs: number | null;
}

interface UsageMessage {
  readonly tag: typeof TAG;
  readonly keys: readonly KeyUsage[];
}

function isUsageMessage(value: unknown): value is UsageMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { tag?: unknown }).tag === TAG &&
    Array.isArray((value as { keys?: unknown }).keys)
  );
}

const finiteOrNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

/**
 * In a cluster worker: share this worker's spend and use of `registry`'s keys with the primary and
 * apply what it reports of the other workers. Returns a function that sends what is pending and
 * stops sharing.
 */
export function shareApiKeyUsage(registry: ApiKeyRegistry, channel: NodeJS.Process = process): () => void {
  const changed = new Set<ApiKeyAccount>();
  const send = (): void => {
    if (changed.size === 0 || channel.connected !== true) return;
    const keys = [...changed].map((account) => ({
      name: account.name,
      spentUsd: account.ownSpentUsd,
      lastUsedMs: finiteOrNull(account.ownLastUsedMs),
    }));
    changed.clear();
    channel.send?.({ tag: TAG, keys } satisfies UsageMessage);
  };
  for (const account of registry.accounts()) account.onChange = (changedAccount) => changed.add(changedAccount);
  const timer = setInterval(send, SHARE_INTERVAL_MS);
  timer.unref();
  const onMessage = (received: unknown): void => {
    if (!isUsageMessage(received)) return;
    for (const others of received.keys) {
      const account = registry.account(others.name);
      if (account === undefined) continue;
      account.othersSpentUsd = others.spentUsd;
      account.othersLastUsedMs = others.lastUsedMs ?? Number.NEGATIVE_INFINITY;
      account.updateBudgetGauge();
    }
    registry.refreshActiveKeys();
  };
  channel.on('message', onMessage);
  // Says hello: the primary answers with what the other workers did so far (this one may replace a
  // worker that died, or start after the others served traffic).
  channel.send?.({ tag: TAG, keys: [] } satisfies UsageMessage);
  return () => {
    clearInterval(timer);
    send();
    channel.off('message', onMessage);
    for (const account of registry.accounts()) account.onChange = undefined;
  };
}

/**
 * In the cluster primary: collect each worker's key usage and send every worker the sum of the
 * others' spend and the latest of their uses, per key. A worker that starts (or replaces one that
 * died) says hello and is told everything so far. Returns a function that stops it.
 */
export function startApiKeyUsageExchange(): () => void {
  /** Usage by worker id, then key name. Workers that exited keep theirs: their spend happened. */
  const byWorker = new Map<number, Map<string, KeyUsage>>();
  let dirty = false;

  const othersOf = (workerId: number): KeyUsage[] => {
    const totals = new Map<string, { spentUsd: CompensatedSum; lastUsedMs: number }>();
    for (const [id, keys] of byWorker) {
      if (id === workerId) continue;
      for (const usage of keys.values()) {
        const total = totals.get(usage.name) ?? {
          spentUsd: new CompensatedSum(),
          lastUsedMs: Number.NEGATIVE_INFINITY,
        };
        total.spentUsd.add(usage.spentUsd);
        total.lastUsedMs = Math.max(total.lastUsedMs, usage.lastUsedMs ?? Number.NEGATIVE_INFINITY);
        totals.set(usage.name, total);
      }
    }
    return [...totals].map(([name, total]) => ({
      name,
      spentUsd: total.spentUsd.value,
      lastUsedMs: finiteOrNull(total.lastUsedMs),
    }));
  };
  const tell = (worker: Worker): void => {
    if (!worker.isConnected()) return;
    const keys = othersOf(worker.id);
    if (keys.length > 0) worker.send({ tag: TAG, keys } satisfies UsageMessage);
  };
  const onMessage = (worker: Worker, received: unknown): void => {
    if (!isUsageMessage(received)) return;
    let keys = byWorker.get(worker.id);
    if (keys === undefined) byWorker.set(worker.id, (keys = new Map<string, KeyUsage>()));
    for (const usage of received.keys) {
      if (typeof usage.name !== 'string' || !Number.isFinite(usage.spentUsd)) continue;
      keys.set(usage.name, usage);
    }
    // Every message, a hello included, gets an answer on the next tick.
    dirty = true;
  };
  const timer = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    for (const worker of Object.values(cluster.workers ?? {})) if (worker !== undefined) tell(worker);
  }, SHARE_INTERVAL_MS);
  timer.unref();
  cluster.on('message', onMessage);
  return () => {
    clearInterval(timer);
    cluster.off('message', onMessage);
  };
}
