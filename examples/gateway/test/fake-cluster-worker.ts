import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { ApiKeyAccount, ApiKeyRegistry, BudgetHold } from '../src/api-keys/api-key-registry.js';
import { shareApiKeyUsage } from '../src/api-keys/cluster-usage.js';

/**
 * A node:cluster worker in this process for the primary's API-key usage exchange: `registry`
 * shares its usage over a channel whose messages are delivered as IPC would deliver them
 * (asynchronously, copied), and the worker is listed in `cluster.workers` under `id`. `stop()`
 * stops sharing, unlists the worker and closes the registry.
 */
export function startFakeClusterWorker(
  id: number,
  registry: ApiKeyRegistry,
): { worker: Worker; channel: EventEmitter & { connected: boolean }; stop(): void } {
  const events = new EventEmitter();
  const worker = {
    id,
    isConnected: () => channel.connected,
    send: (message: unknown, callback?: (error: Error | null) => void) => {
      queueMicrotask(() => events.emit('message', structuredClone(message)));
      callback?.(null);
      return true;
    },
  } as unknown as Worker;
  const channel = Object.assign(events, {
    connected: true,
    send: (message: unknown, callback?: (error: Error | null) => void) => {
      queueMicrotask(() => cluster.emit('message', worker, structuredClone(message)));
      callback?.(null);
      return true;
    },
  });
  const workers = cluster.workers as NonNullable<typeof cluster.workers>;
  workers[id] = worker;
  const stopSharing = shareApiKeyUsage(registry, channel as unknown as NodeJS.Process);
  return {
    worker,
    channel,
    stop: () => {
      stopSharing();
      delete workers[id];
      registry.close();
    },
  };
}

/** Admit a request of `usd` as `holdBudget` does: held by the worker's account, then by the primary. */
export async function admitThroughPrimary(
  at: { registry: ApiKeyRegistry; account: ApiKeyAccount },
  usd: number,
): Promise<BudgetHold | undefined> {
  const hold = at.account.hold(usd);
  if (hold === undefined) return undefined;
  const answer = await at.registry.admission!.admit(at.account, usd);
  if (!answer.admitted) {
    hold.release();
    return undefined;
  }
  hold.onRelease = answer.release;
  return hold;
}
