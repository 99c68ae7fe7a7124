import cluster, { type Worker } from 'node:cluster';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { ApiKeyRegistry, type ApiKeyAccount, type BudgetHold } from '../src/api-keys/api-key-registry.js';
import { SHARE_INTERVAL_MS, startApiKeyUsageExchange } from '../src/api-keys/cluster-usage.js';
import { admitThroughPrimary, startFakeClusterWorker } from './fake-cluster-worker.js';

/*
 * The primary's ledger of API-key spend and holds when a worker exits with requests in progress.
 * Those requests were sent to the provider, which bills them; the worker never reports their cost.
 * When the primary dropped their holds, a key with 0.4 USD was admitted 0.16 USD more than its
 * budget after a worker holding four 0.04 USD images was SIGKILLed. The workers here are registries
 * wired to the primary's handlers in this process, their messages delivered as the IPC channel
 * would (asynchronously, copied).
 */

const BUDGET_USD = 0.4;
const IMAGE_USD = 0.04;

interface TestWorker {
  readonly worker: Worker;
  readonly registry: ApiKeyRegistry;
  readonly telemetry: GatewayTelemetry;
  readonly account: ApiKeyAccount;
  /** The process ends as `code` and `signal` say, its channel closed (what node:cluster reports). */
  exit(code: number | null, signal: string | null): void;
}

const stops: Array<() => void> = [];
const warnings: Array<{ message: string; attributes: Record<string, unknown> | undefined }> = [];

beforeEach(() => {
  vi.useFakeTimers();
  stops.push(
    startApiKeyUsageExchange({ log: { warn: (message, attributes) => void warnings.push({ message, attributes }) } }),
  );
});

afterEach(() => {
  for (const stop of stops.splice(0).reverse()) stop();
  warnings.splice(0);
  vi.useRealTimers();
});

/** A worker with the key `images` (budget 0.4 USD), sharing its usage with the primary. */
function startWorker(id: number): TestWorker {
  const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
  const registry = new ApiKeyRegistry({
    config: {
      keys: [{ name: 'images', key: `gwz-worker-exit-${id}`, plan: 'paid', budgetUsd: BUDGET_USD }],
      required: true,
    },
    telemetry,
  });
  const { worker, channel, stop } = startFakeClusterWorker(id, registry);
  stops.push(stop);
  return {
    worker,
    registry,
    telemetry,
    account: registry.account('images') as ApiKeyAccount,
    exit: (code, signal) => {
      channel.connected = false;
      delete (cluster.workers as NonNullable<typeof cluster.workers>)[id];
      cluster.emit('exit', worker, code, signal);
    },
  };
}

/** Admit an image request as `holdBudget` does: held by the worker, then by the primary. */
const admit = (at: TestWorker): Promise<BudgetHold | undefined> => admitThroughPrimary(at, IMAGE_USD);

async function admitMany(at: TestWorker, count: number): Promise<Array<BudgetHold | undefined>> {
  const holds: Array<BudgetHold | undefined> = [];
  for (let index = 0; index < count; index++) holds.push(await admit(at));
  return holds;
}

/** The request completes: its image is charged and its hold released. */
function complete(hold: BudgetHold | undefined): void {
  hold?.charge(IMAGE_USD);
  hold?.release();
}

/** Let the usage batches of workers and primary go out and arrive. */
async function share(): Promise<void> {
  await vi.advanceTimersByTimeAsync(2 * SHARE_INTERVAL_MS);
}

const remainingUsd = (at: TestWorker): number | undefined =>
  at.telemetry.currentValue('apiKeyBudgetRemaining', { api_key_name: 'images' });

describe('the primary charges the holds of a worker that exits with requests in progress', () => {
  it.each([
    ['killed by a signal (SIGKILL, out of memory)', null, 'SIGKILL'],
    ['crashed (exit code 1)', 1, null],
  ])('%s: its holds count as spent, the key is refused past its budget', async (_case, code, signal) => {
    const killed = startWorker(11);
    const survivor = startWorker(12);
    await share();
    const inFlight = await admitMany(killed, 4);
    const served = await admitMany(survivor, 6);
    expect([...inFlight, ...served].every((hold) => hold !== undefined)).toBe(true);
    // The whole budget is held: nothing more fits.
    expect(await admit(survivor)).toBeUndefined();

    killed.exit(code, signal);
    for (const hold of served) complete(hold);
    await share();

    // Before: the four holds went uncharged and four more images were admitted (0.56 USD on 0.40).
    expect(await admitMany(survivor, 4)).toEqual([undefined, undefined, undefined, undefined]);
    // The survivor's spend (six images) and the charged holds (four) make the budget.
    expect(survivor.account.ownSpentUsd).toBeCloseTo(6 * IMAGE_USD, 15);
    expect(survivor.account.spentUsd).toBeCloseTo(BUDGET_USD, 15);
    expect(remainingUsd(survivor)).toBeCloseTo(0, 15);
    // A replacement worker is told the same.
    const replacement = startWorker(13);
    await share();
    expect(replacement.account.spentUsd).toBeCloseTo(BUDGET_USD, 15);
    expect(await admit(replacement)).toBeUndefined();
    expect(warnings).toEqual([
      {
        message: 'worker exited with requests in progress; their budget holds are charged as spent',
        attributes: {
          worker: '11',
          code: String(code),
          signal: signal ?? '',
          holds: 4,
          charged_usd: expect.closeTo(4 * IMAGE_USD, 15) as unknown,
          api_keys: 'images',
        },
      },
    ]);
  });

  it('a worker that exits cleanly after its requests ended leaves nothing held and nothing charged', async () => {
    const leaving = startWorker(21);
    const staying = startWorker(22);
    await share();
    const holds = await admitMany(leaving, 3);
    for (const hold of holds) complete(hold);
    await vi.advanceTimersByTimeAsync(0);
    leaving.exit(0, null);
    await share();
    expect(warnings).toEqual([]);
    // Its three images are spent; the rest of the budget is free for the others: seven more.
    expect(staying.account.spentUsd).toBeCloseTo(3 * IMAGE_USD, 15);
    const admitted = await admitMany(staying, 8);
    expect(admitted.filter((hold) => hold !== undefined)).toHaveLength(7);
  });

  it('a release still on its way when the worker exited replaces the charged hold with the spend it tells', async () => {
    const killed = startWorker(31);
    const other = startWorker(32);
    await share();
    await admitMany(killed, 2);
    killed.exit(null, 'SIGKILL');
    // The first request had completed and told its release (its image spent) before the kill,
    // the message still in the channel when the primary saw the exit.
    cluster.emit('message', killed.worker, {
      tag: 'gatewayz-example-api-key-holds',
      kind: 'release',
      id: 1,
      name: 'images',
      spentUsd: IMAGE_USD,
    });
    // A question still in the channel is not admitted: that worker sends no request any more.
    cluster.emit('message', killed.worker, {
      tag: 'gatewayz-example-api-key-holds',
      kind: 'hold',
      id: 3,
      name: 'images',
      budgetUsd: BUDGET_USD,
      usd: IMAGE_USD,
      spentUsd: IMAGE_USD,
    });
    await share();
    // One image spent, one charged by its hold: 0.08 USD, not 0.12.
    expect(other.account.spentUsd).toBeCloseTo(2 * IMAGE_USD, 15);
    expect((await admitMany(other, 9)).filter((hold) => hold !== undefined)).toHaveLength(8);
  });
});
