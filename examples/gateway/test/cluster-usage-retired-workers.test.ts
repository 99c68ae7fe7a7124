import cluster, { type Worker } from 'node:cluster';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import {
  ApiKeyRegistry,
  CompensatedSum,
  type ApiKeyAccount,
  type BudgetHold,
} from '../src/api-keys/api-key-registry.js';
import { SHARE_INTERVAL_MS, startApiKeyUsageExchange } from '../src/api-keys/cluster-usage.js';
import { admitThroughPrimary, startFakeClusterWorker } from './fake-cluster-worker.js';

/*
 * The primary's ledger after many workers came and went (each respawn is a new worker id). It kept
 * every worker that ever lived and walked them all for each hold and each tick: a hold decision
 * took 135 µs after 10,000 respawns. The spend of a worker gone for good now joins one total per
 * key. The work is counted as the additions the primary makes, the same at 20 as at 200 exits.
 * Workers are registries wired to the primary's handlers in this process, as in
 * cluster-usage-worker-exit.test.ts.
 */

const BUDGET_USD = 20;
const IMAGE_USD = 0.04;

interface TestWorker {
  readonly worker: Worker;
  readonly registry: ApiKeyRegistry;
  readonly account: ApiKeyAccount;
  /** Killed: its channel closed first ('disconnect' before 'exit'), or after ('exit', then 'disconnect'). */
  exit(order: 'disconnect first' | 'exit first'): void;
}

const stops: Array<() => void> = [];

beforeEach(() => {
  vi.useFakeTimers();
  stops.push(startApiKeyUsageExchange());
});

afterEach(() => {
  for (const stop of stops.splice(0).reverse()) stop();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

function startWorker(id: number): TestWorker {
  const registry = new ApiKeyRegistry({
    config: {
      keys: [{ name: 'images', key: `gwz-retired-${id}`, plan: 'paid', budgetUsd: BUDGET_USD }],
      required: true,
    },
    telemetry: new GatewayTelemetry({ exportVia: 'producer' }),
  });
  const { worker, channel, stop } = startFakeClusterWorker(id, registry);
  stops.push(stop);
  return {
    worker,
    registry,
    account: registry.account('images') as ApiKeyAccount,
    exit: (order) => {
      stops.splice(stops.indexOf(stop), 1);
      stop();
      channel.connected = order === 'exit first';
      cluster.emit('exit', worker, null, 'SIGKILL');
      channel.connected = false;
      if (order === 'exit first') cluster.emit('disconnect', worker);
    },
  };
}

const admit = (at: TestWorker): Promise<BudgetHold | undefined> => admitThroughPrimary(at, IMAGE_USD);

async function share(): Promise<void> {
  await vi.advanceTimersByTimeAsync(2 * SHARE_INTERVAL_MS);
}

/** Additions of USD the primary makes while it decides one hold of `at` (a question it refuses). */
function additionsForOneDecision(at: TestWorker): number {
  const add = vi.spyOn(CompensatedSum.prototype, 'add');
  cluster.emit('message', at.worker, {
    tag: 'gatewayz-example-api-key-holds',
    kind: 'hold',
    id: 1_000_000,
    name: 'images',
    budgetUsd: 0,
    usd: IMAGE_USD,
    spentUsd: at.account.ownSpentUsd,
  });
  const count = add.mock.calls.length;
  add.mockRestore();
  return count;
}

describe('workers that exited are folded into one total per key', () => {
  it('the work of a decision stays the same however many workers exited, and the totals stay exact', async () => {
    const live = startWorker(1);
    await share();
    let nextId = 2;
    let spent = 0;
    const additions: number[] = [];
    for (const exits of [20, 200]) {
      while (nextId - 2 < exits) {
        const leaving = startWorker(nextId);
        await share();
        // Two images served, and every fourth worker killed with a third in progress (charged).
        for (const hold of [await admit(leaving), await admit(leaving)]) {
          hold?.charge(IMAGE_USD);
          hold?.release();
        }
        spent += 2;
        if (nextId % 4 === 0) {
          expect(await admit(leaving)).toBeDefined();
          spent += 1;
        }
        await vi.advanceTimersByTimeAsync(0);
        leaving.exit(nextId % 2 === 0 ? 'exit first' : 'disconnect first');
        nextId += 1;
      }
      await share();
      additions.push(additionsForOneDecision(live));
      const expected = new CompensatedSum();
      for (let index = 0; index < spent; index++) expected.add(IMAGE_USD);
      expect(live.account.spentUsd).toBe(expected.value);
    }
    // Before: 27 additions after 20 exits, 252 after 200 (per worker that ever lived, and its holds).
    expect(additions[1]).toBe(additions[0]);

    // 200 exits: 400 images served and 50 charged, 18 USD; exactly 50 more images fit in 20 USD.
    const admitted = [];
    for (let index = 0; index < 51; index++) admitted.push(await admit(live));
    expect(admitted.filter((hold) => hold !== undefined)).toHaveLength(50);
    // A worker that starts now is told the same spend.
    const replacement = startWorker(nextId);
    await share();
    expect(replacement.account.spentUsd).toBe(live.account.spentUsd);
  });
});
