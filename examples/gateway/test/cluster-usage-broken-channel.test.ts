import { spawn, type ChildProcess } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { ApiKeyRegistry } from '../src/api-keys/api-key-registry.js';
import { shareApiKeyUsage, startApiKeyUsageExchange } from '../src/api-keys/cluster-usage.js';

/*
 * A message to a process whose IPC channel broke after the `connected` check (it died in between)
 * fails with EPIPE, and Node throws that as an uncaught error when the send has no callback: a
 * cluster primary answering a dying worker's hold went down with the whole gateway. Real processes:
 * a child is killed, and the sender is blocked (no event processed) until it is dead, so its
 * channel still looks connected.
 */

const children: ChildProcess[] = [];
const stops: Array<() => void> = [];

afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A live child with an IPC channel. */
async function child(): Promise<ChildProcess> {
  const started = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  children.push(started);
  await once(started, 'spawn');
  return started;
}

/** Kill `target` and wait, without letting this process see it go, until it is dead. */
function killUnseen(target: ChildProcess): void {
  target.kill('SIGKILL');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
  expect(target.connected).toBe(true);
}

/** Uncaught errors while `run` and the events after it are processed. */
async function uncaughtDuring(run: () => void): Promise<Error[]> {
  const uncaught: Error[] = [];
  const onError = (error: Error): void => void uncaught.push(error);
  // Vitest's own listener would fail the run; this test reports what it caught instead.
  const previous = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', onError);
  try {
    run();
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    process.off('uncaughtException', onError);
    for (const listener of previous) process.on('uncaughtException', listener);
  }
  return uncaught;
}

describe('API-key usage exchange over a channel that broke', () => {
  it('the primary answers a hold of a worker that just died without throwing EPIPE', async () => {
    const dying = await child();
    stops.push(startApiKeyUsageExchange());
    const worker = { id: 901, isConnected: () => dying.connected, send: dying.send.bind(dying) } as unknown as Worker;
    killUnseen(dying);
    const uncaught = await uncaughtDuring(() =>
      cluster.emit('message', worker, {
        tag: 'gatewayz-example-api-key-holds',
        kind: 'hold',
        id: 1,
        name: 'team',
        budgetUsd: 10,
        usd: 1,
        spentUsd: 0,
      }),
    );
    // Before: [EPIPE], which stops a real primary.
    expect(uncaught.map((error) => (error as { code?: string }).code)).toEqual([]);
  });

  it('a worker whose primary just died admits the hold alone instead of throwing EPIPE', async () => {
    const dying = await child();
    const registry = new ApiKeyRegistry({
      config: { keys: [{ name: 'team', key: 'gwz-broken-channel', plan: 'paid', budgetUsd: 10 }], required: true },
      telemetry: new GatewayTelemetry({ exportVia: 'producer' }),
    });
    stops.push(() => registry.close());
    // The child stands for the primary: this process talks to it as a worker to its primary.
    const channel = Object.assign(Object.create(process) as NodeJS.Process, {
      connected: true,
      send: dying.send.bind(dying),
      on: () => channel,
      off: () => channel,
    });
    stops.push(shareApiKeyUsage(registry, channel));
    const account = registry.account('team')!;
    killUnseen(dying);
    let answer: Promise<{ admitted: boolean }> | undefined;
    const uncaught = await uncaughtDuring(() => {
      answer = registry.admission!.admit(account, 1);
    });
    expect(uncaught.map((error) => (error as { code?: string }).code)).toEqual([]);
    // Not delivered: admitted alone (its local check stands), as when cut off from the primary.
    expect(await answer).toMatchObject({ admitted: true });
  });
});
