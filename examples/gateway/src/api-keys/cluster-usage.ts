/**
 * API key spend and use across the workers of `GATEWAY_WORKERS=N`: each worker tells the primary
 * what it spent through each key and when it last used it; the primary keeps that per worker (a
 * worker that dies keeps its share) and tells every worker what the others did. A worker then
 * checks budgets against the spend of the whole gateway and counts `active_api_keys` over every
 * worker, so the aggregate scrape shows one gateway, not N.
 *
 * Changes travel in batches every {@link SHARE_INTERVAL_MS} in each direction: a worker learns of
 * another's spend within about twice that, and a budget can be overrun by what the gateway spends
 * in that time.
 *
 * The holds of requests in progress (`ApiKeyAccount.hold`) are admitted by the primary, which sees
 * them all: a worker that can hold a request's cost locally asks the primary (one IPC round trip
 * per request of a key with a budget), which admits it when every worker's spend, every worker's
 * holds and the new hold fit in the budget. The request's worker tells its own spend with the
 * question and again when the hold ends, so the primary never counts a finished request short.
 * The holds a worker still has when it exits are charged as spent: its requests in progress were
 * sent to providers, which bill them though the worker never reports their cost. A worker cut off
 * from the primary admits alone. Once a worker that exited can send nothing more, its spend and
 * charged holds join one total per key, so the primary's work stays bounded by the live workers.
 */
import cluster, { type Worker } from 'node:cluster';
import type { StructuredLogger } from '@gatewayz/telemetry-node';
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

/** A hold the primary admitted: the key's name and the USD held. */
interface HeldCost {
  readonly name: string;
  readonly usd: number;
}

/** Spend and last use of a key, summed over workers. */
interface KeyTotal {
  readonly spentUsd: CompensatedSum;
  lastUsedMs: number;
}

/** Marks the hold messages (admission questions, answers, releases). */
const HOLD_TAG = 'gatewayz-example-api-key-holds';

type HoldMessage =
  | {
      readonly tag: typeof HOLD_TAG;
      readonly kind: 'hold';
      readonly id: number;
      readonly name: string;
      readonly budgetUsd: number;
      readonly usd: number;
      /** The asking worker's own spend through the key. */
      readonly spentUsd: number;
    }
  | { readonly tag: typeof HOLD_TAG; readonly kind: 'answer'; readonly id: number; readonly admitted: boolean }
  | {
      readonly tag: typeof HOLD_TAG;
      readonly kind: 'release';
      readonly id: number;
      readonly name: string;
      readonly spentUsd: number;
    };

function isHoldMessage(value: unknown): value is HoldMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { tag?: unknown }).tag === HOLD_TAG &&
    typeof (value as { id?: unknown }).id === 'number'
  );
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
 * The callback of every IPC send: a message to a process whose channel broke after the
 * `connected` check (it died in between) fails with EPIPE, which Node throws as an uncaught error
 * when no callback takes it. The process is gone, and its part of the exchange with it.
 */
function undelivered(error: Error | null): void {
  void error;
}

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
    channel.send?.({ tag: TAG, keys } satisfies UsageMessage, undelivered);
  };
  for (const account of registry.accounts()) account.onChange = (changedAccount) => changed.add(changedAccount);
  const timer = setInterval(send, SHARE_INTERVAL_MS);
  timer.unref();
  // Holds: asked of the primary, answered by id.
  let lastHoldId = 0;
  const waiting = new Map<number, (admitted: boolean) => void>();
  const admitAll = (): void => {
    for (const resolve of waiting.values()) resolve(true);
    waiting.clear();
  };
  registry.admission = {
    admit: (account, usd) => {
      if (channel.connected !== true || channel.send === undefined || account.budgetUsd === undefined)
        return Promise.resolve({ admitted: true });
      const id = ++lastHoldId;
      const { name, budgetUsd } = account;
      return new Promise((resolve) => {
        waiting.set(id, (admitted) =>
          resolve({
            admitted,
            release: () => {
              if (channel.connected === true)
                channel.send?.(
                  { tag: HOLD_TAG, kind: 'release', id, name, spentUsd: account.ownSpentUsd },
                  undelivered,
                );
            },
          }),
        );
        const hold: HoldMessage = {
          tag: HOLD_TAG,
          kind: 'hold',
          id,
          name,
          budgetUsd,
          usd,
          spentUsd: account.ownSpentUsd,
        };
        // Not delivered (the primary is gone): the worker admits alone, as when cut off.
        channel.send?.(hold, (error: Error | null) => {
          if (error === null) return;
          waiting.get(id)?.(true);
          waiting.delete(id);
        });
      });
    },
  };
  // Cut off from the primary, the worker admits alone (its local check stands).
  channel.on('disconnect', admitAll);
  const onMessage = (received: unknown): void => {
    if (isHoldMessage(received)) {
      if (received.kind !== 'answer') return;
      waiting.get(received.id)?.(received.admitted);
      waiting.delete(received.id);
      return;
    }
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
  channel.send?.({ tag: TAG, keys: [] } satisfies UsageMessage, undelivered);
  return () => {
    clearInterval(timer);
    send();
    channel.off('message', onMessage);
    channel.off('disconnect', admitAll);
    registry.admission = undefined;
    admitAll();
    for (const account of registry.accounts()) account.onChange = undefined;
  };
}

export interface ApiKeyUsageExchangeOptions {
  /** Where the charge of an exited worker's holds is logged (the primary's log); default nowhere. */
  readonly log?: Pick<StructuredLogger, 'warn'>;
}

/**
 * In the cluster primary: collect each worker's key usage and send every worker the sum of the
 * others' spend and the latest of their uses, per key. A worker that starts (or replaces one that
 * died) says hello and is told everything so far. The holds a worker still has when it exits (it
 * was killed, or crashed) are charged as spent, and one warning says how many and how much.
 * Returns a function that stops it.
 */
export function startApiKeyUsageExchange(options: ApiKeyUsageExchangeOptions = {}): () => void {
  const log = options.log;
  /** Usage by worker id, then key name, until a worker that exited is retired (see `retire`). */
  const byWorker = new Map<number, Map<string, KeyUsage>>();
  /**
   * Holds of requests in progress by worker id, then hold id. Those of a worker that exited stay,
   * as spend: their requests had reached the providers, which bill them.
   */
  const holdsByWorker = new Map<number, Map<number, HeldCost>>();
  /** Workers that exited and are not retired yet: their channel may still deliver messages. */
  const exited = new Set<number>();
  /** Exited workers whose channel closed with holds left, retired on the next tick (see `closed`). */
  const retiring = new Set<number>();
  /** What the retired workers spent (their charged holds included) and last used, by key name. */
  const retired = new Map<string, KeyTotal>();
  let dirty = false;

  const totalIn = (totals: Map<string, KeyTotal>, name: string): KeyTotal => {
    let total = totals.get(name);
    if (total === undefined)
      totals.set(name, (total = { spentUsd: new CompensatedSum(), lastUsedMs: Number.NEGATIVE_INFINITY }));
    return total;
  };
  /** Add a worker's usage of a key to its total: its spend, and its last use if later. */
  const addUsage = (totals: Map<string, KeyTotal>, usage: KeyUsage): void => {
    const total = totalIn(totals, usage.name);
    total.spentUsd.add(usage.spentUsd);
    total.lastUsedMs = Math.max(total.lastUsedMs, usage.lastUsedMs ?? Number.NEGATIVE_INFINITY);
  };
  const othersOf = (workerId: number): KeyUsage[] => {
    const totals = new Map<string, KeyTotal>();
    for (const [id, keys] of byWorker) if (id !== workerId) for (const usage of keys.values()) addUsage(totals, usage);
    for (const [name, gone] of retired) {
      const total = totalIn(totals, name);
      total.spentUsd.addSum(gone.spentUsd);
      total.lastUsedMs = Math.max(total.lastUsedMs, gone.lastUsedMs);
    }
    for (const id of exited)
      for (const hold of holdsByWorker.get(id)?.values() ?? []) totalIn(totals, hold.name).spentUsd.add(hold.usd);
    return [...totals].map(([name, total]) => ({
      name,
      spentUsd: total.spentUsd.value,
      lastUsedMs: finiteOrNull(total.lastUsedMs),
    }));
  };
  const tell = (worker: Worker): void => {
    if (!worker.isConnected()) return;
    const keys = othersOf(worker.id);
    if (keys.length > 0) worker.send({ tag: TAG, keys } satisfies UsageMessage, undelivered);
  };
  /** A worker's own spend through a key, as it just told it with a hold message. */
  const noteSpend = (workerId: number, name: string, spentUsd: number): void => {
    if (!Number.isFinite(spentUsd)) return;
    let keys = byWorker.get(workerId);
    if (keys === undefined) byWorker.set(workerId, (keys = new Map<string, KeyUsage>()));
    const known = keys.get(name);
    if (known !== undefined && known.spentUsd === spentUsd) return;
    keys.set(name, { name, spentUsd, lastUsedMs: known?.lastUsedMs ?? null });
    dirty = true;
  };
  /** Whether every worker's spend and holds through `name`, and `usd` more, fit in `budgetUsd`. */
  const fits = (name: string, usd: number, budgetUsd: number): boolean => {
    const total = new CompensatedSum();
    for (const keys of byWorker.values()) total.add(keys.get(name)?.spentUsd ?? 0);
    const gone = retired.get(name);
    if (gone !== undefined) total.addSum(gone.spentUsd);
    for (const holds of holdsByWorker.values())
      for (const hold of holds.values()) if (hold.name === name) total.add(hold.usd);
    total.add(usd);
    return total.value <= budgetUsd;
  };
  /**
   * Whether `worker` was retired (its channel closed, its spend in `retired`): nothing it sent can
   * still count. Node never reuses a worker id, and a worker starts connected.
   */
  const isRetired = (worker: Worker): boolean =>
    !byWorker.has(worker.id) && !holdsByWorker.has(worker.id) && !worker.isConnected();
  const onHoldMessage = (worker: Worker, received: HoldMessage): void => {
    if (received.kind === 'answer' || typeof received.name !== 'string') return;
    // A question that arrives after its worker exited: no request of that worker is sent any more.
    if ((received.kind === 'hold' && exited.has(worker.id)) || isRetired(worker)) return;
    noteSpend(worker.id, received.name, received.spentUsd);
    let holds = holdsByWorker.get(worker.id);
    if (holds === undefined) holdsByWorker.set(worker.id, (holds = new Map<number, HeldCost>()));
    if (received.kind === 'release') {
      // Also after the worker exited (the message was still on its way): the spend it tells
      // includes what the request cost, which replaces the hold charged at the exit.
      if (holds.delete(received.id) && exited.has(worker.id)) dirty = true;
      return;
    }
    const admitted =
      Number.isFinite(received.usd) && received.usd >= 0 && fits(received.name, received.usd, received.budgetUsd);
    if (admitted) holds.set(received.id, { name: received.name, usd: received.usd });
    if (worker.isConnected())
      worker.send({ tag: HOLD_TAG, kind: 'answer', id: received.id, admitted } satisfies HoldMessage, undelivered);
  };
  /** Fold an exited worker's spend, last uses and charged holds into `retired`, and forget it. */
  const retire = (workerId: number): void => {
    for (const usage of byWorker.get(workerId)?.values() ?? []) addUsage(retired, usage);
    for (const hold of holdsByWorker.get(workerId)?.values() ?? []) totalIn(retired, hold.name).spentUsd.add(hold.usd);
    byWorker.delete(workerId);
    holdsByWorker.delete(workerId);
    exited.delete(workerId);
  };
  // Node delivers what a channel carried before it reports the channel closed ('disconnect', or a
  // worker found disconnected at its 'exit'). Holds left wait one tick more all the same, so that a
  // release handled right after the exit still replaces its charged hold with the spend it tells.
  const closed = (workerId: number): void => {
    if ((holdsByWorker.get(workerId)?.size ?? 0) === 0) retire(workerId);
    else retiring.add(workerId);
  };
  const onDisconnect = (worker: Worker): void => {
    if (exited.has(worker.id)) closed(worker.id);
  };
  // A worker killed (SIGKILL, out of memory) or crashed never reports what its requests in
  // progress cost, but they were sent and the providers bill them: each hold counts as spent, the
  // most its request can cost, as for a client that leaves without usage. A worker that shut down
  // cleanly drained its requests and released their holds first; any it left are charged alike.
  const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
    exited.add(worker.id);
    warnOfHolds(worker, code, signal);
    if (!worker.isConnected()) closed(worker.id);
  };
  function warnOfHolds(worker: Worker, code: number | null, signal: string | null): void {
    const holds = holdsByWorker.get(worker.id);
    if (holds === undefined || holds.size === 0) return;
    const charged = new CompensatedSum();
    const keys = new Set<string>();
    for (const hold of holds.values()) {
      charged.add(hold.usd);
      keys.add(hold.name);
    }
    dirty = true;
    log?.warn('worker exited with requests in progress; their budget holds are charged as spent', {
      worker: String(worker.id),
      code: String(code),
      signal: signal ?? '',
      holds: holds.size,
      charged_usd: charged.value,
      api_keys: [...keys].join(','),
    });
  }
  const onMessage = (worker: Worker, received: unknown): void => {
    if (isHoldMessage(received)) {
      onHoldMessage(worker, received);
      return;
    }
    if (!isUsageMessage(received)) return;
    if (isRetired(worker)) return;
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
    for (const id of retiring) retire(id);
    retiring.clear();
    if (!dirty) return;
    dirty = false;
    for (const worker of Object.values(cluster.workers ?? {})) if (worker !== undefined) tell(worker);
  }, SHARE_INTERVAL_MS);
  timer.unref();
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  cluster.on('disconnect', onDisconnect);
  return () => {
    clearInterval(timer);
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
    cluster.off('disconnect', onDisconnect);
  };
}
