/**
 * Cases the rest of the suite let through (found by mutation testing): the cluster primary, its
 * model-health store proxy and the wire they share. The primary runs in this process, its workers are
 * fakes listed in `cluster.workers` whose channels carry messages as node:cluster's default `json`
 * serialisation does (copied through JSON, one event-loop turn later).
 */
import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { GatewayTelemetry, PACKAGE_NAME, TelemetryConfigurationError, TelemetryInputError } from '@gatewayz/telemetry';
import { MemoryModelHealthStore, type ModelHealthStore } from '@gatewayz/telemetry/model-health';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { MESSAGE_TAG } from '../src/cluster/cluster-messages.js';
import { ClusterModelHealthStore } from '../src/cluster/cluster-model-health-store.js';
import { startClusterPrimary } from '../src/cluster/cluster-primary.js';
import { createClusterMetricsSource, type ClusterChannel } from '../src/cluster/cluster-worker.js';
import { partsOfCollection } from '../src/cluster/collection-parts.js';
import { WireEncoder } from '../src/cluster/wire-encoder.js';
import { serializePrometheus } from '../src/exposition/index.js';
import { createTelemetryMetricProducer } from '../src/sdk/index.js';
import { CollectingReader } from './fixtures/collecting-reader.js';

const copyAsJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

interface FakeWorker {
  readonly worker: Worker;
  readonly channel: ClusterChannel;
  /** The types of the messages the primary sent this worker, in order. */
  readonly received: string[];
  /** The types of the messages this worker sent the primary, once the primary read them. */
  readonly delivered: string[];
  /** Send a raw message to the primary, as this worker. */
  sendRaw(body: Record<string, unknown>): void;
  /** The first message of `type` the primary sends this worker from now on. */
  next(type: string): Promise<Record<string, unknown>>;
  /** Close the channel (a stopping source then sends nothing). */
  disconnect(): void;
}

const workers = cluster.workers as NonNullable<typeof cluster.workers>;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A node:cluster worker in this process, listed in `cluster.workers` until the test ends. */
function fakeWorker(id: number): FakeWorker {
  const events = new EventEmitter();
  const received: string[] = [];
  const delivered: string[] = [];
  let connected = true;
  const worker = {
    id,
    isConnected: () => connected,
    isDead: () => false,
    send: (body: unknown, callback?: (error: Error | null) => void) => {
      const copy = copyAsJson(body) as { type: string };
      setImmediate(() => {
        received.push(copy.type);
        events.emit('message', copy);
      });
      callback?.(null);
      return true;
    },
  } as unknown as Worker;
  const channel: ClusterChannel = {
    get connected() {
      return connected;
    },
    send: (body, callback) => {
      const copy = copyAsJson(body) as { type: string };
      setImmediate(() => {
        cluster.emit('message', worker, copy);
        delivered.push(copy.type);
      });
      callback?.(null);
      return true;
    },
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
  };
  workers[id] = worker;
  cleanups.push(() => delete workers[id]);
  return {
    worker,
    channel,
    received,
    delivered,
    sendRaw: (body) => channel.send!({ gatewayz: MESSAGE_TAG, ...body }),
    disconnect: () => (connected = false),
    next: (type) =>
      new Promise((resolve) => {
        const listener = (incoming: { type?: string }): void => {
          if (incoming.type !== type) return;
          events.off('message', listener);
          resolve(incoming as Record<string, unknown>);
        };
        events.on('message', listener);
      }),
  };
}

/** A worker's own metrics, collected as its exporter would; `fail` makes the next collection throw. */
function localMetrics(telemetry: GatewayTelemetry): {
  collect(): Promise<{ resourceMetrics: ResourceMetrics; errors: unknown[] }>;
  fail: boolean;
} {
  const reader = new CollectingReader({ metricProducers: [createTelemetryMetricProducer(telemetry)] });
  new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'gw' }), readers: [reader] });
  const local = {
    fail: false,
    collect: async () => {
      if (local.fail) {
        local.fail = false;
        throw new Error('collection failed');
      }
      return reader.collect();
    },
  };
  return local;
}

/** A worker running cluster telemetry: `telemetry` records, `scrape()` answers as its metrics endpoint. */
function metricsWorker(
  id: number,
  telemetry = new GatewayTelemetry({ exportVia: 'producer' }),
): FakeWorker & {
  telemetry: GatewayTelemetry;
  local: ReturnType<typeof localMetrics>;
  source: ReturnType<typeof createClusterMetricsSource>;
  scrape(): Promise<string>;
} {
  const fake = fakeWorker(id);
  const local = localMetrics(telemetry);
  const source = createClusterMetricsSource(local, { channel: fake.channel, timeoutMs: 3000 });
  cleanups.push(() => source.stop());
  return {
    ...fake,
    telemetry,
    local,
    source,
    scrape: async () => serializePrometheus((await source.collect()).resourceMetrics, { withoutTargetInfo: true }),
  };
}

/** Start a primary for this test only. */
function primary(options: Parameters<typeof startClusterPrimary>[0] = {}): ReturnType<typeof startClusterPrimary> {
  const started = startClusterPrimary({ timeoutMs: 1500, ...options });
  cleanups.push(() => started.stop());
  return started;
}

/** Until the primary acknowledged the hello of every worker's metrics source. */
const greeted = (...all: FakeWorker[]): Promise<unknown> =>
  Promise.all(all.map((fake) => (fake.received.includes('hello-ack') ? undefined : fake.next('hello-ack'))));

/** Until `condition` holds, checked once per event-loop turn. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

const lines = (text: string, prefix: string): string[] => text.split('\n').filter((line) => line.startsWith(prefix));

describe('the cluster primary', () => {
  it('merges the budget left to an API key by its catalog rule (the lowest), under the default prefix', async () => {
    primary();
    const one = metricsWorker(101);
    const two = metricsWorker(102);
    await greeted(one, two);
    one.telemetry.setApiKeyBudget('team', 50, 10);
    two.telemetry.setApiKeyBudget('team', 50, 30);
    const text = await one.scrape();
    expect(lines(text, 'gatewayz_api_key_budget_remaining_usd{')).toEqual([
      'gatewayz_api_key_budget_remaining_usd{api_key_name="team"} 20',
    ]);
    expect(lines(text, 'gatewayz_api_key_budget_usd{')).toEqual([
      'gatewayz_api_key_budget_usd{api_key_name="team"} 50',
    ]);
  });

  it('answers every scrape that arrives while a collection is under way', async () => {
    primary();
    const one = metricsWorker(111);
    const two = metricsWorker(112);
    await greeted(one, two);
    one.telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 3);
    two.telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 4);
    const texts = await Promise.all([one.scrape(), two.scrape()]);
    for (const text of texts)
      expect(lines(text, 'tokens_used_total{')).toEqual([
        'tokens_used_total{provider="openai",model="gpt-4o",token_type="input"} 7',
      ]);
  });

  it("keeps a worker's previous counts when its next snapshot fails", async () => {
    primary();
    const one = metricsWorker(121);
    const two = metricsWorker(122);
    await greeted(one, two);
    one.telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 3);
    two.telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 4);
    const expected = ['tokens_used_total{provider="openai",model="gpt-4o",token_type="input"} 7'];
    expect(lines(await one.scrape(), 'tokens_used_total{')).toEqual(expected);
    two.local.fail = true;
    expect(lines(await one.scrape(), 'tokens_used_total{')).toEqual(expected);
  });

  it('asks no snapshot of a worker that only uses the model-health store', async () => {
    primary({ modelHealthStore: new MemoryModelHealthStore() });
    const storeOnly = fakeWorker(131);
    const store = new ClusterModelHealthStore({ channel: storeOnly.channel });
    cleanups.push(() => store.close());
    expect((await store.getStats()).totalModels).toBe(0);
    const one = metricsWorker(132);
    await greeted(one);
    one.telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 3);
    expect(lines(await one.scrape(), 'tokens_used_total{')).toHaveLength(1);
    expect(storeOnly.received).toEqual(['store-result']);
  });

  it('asks no snapshot of a worker whose telemetry stopped, and counts its final snapshot until it exits', async () => {
    primary();
    const one = metricsWorker(141);
    const two = metricsWorker(142);
    await greeted(one, two);
    one.telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 3);
    two.telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 4);
    await two.source.stop();
    const before = two.received.length;
    expect(lines(await one.scrape(), 'tokens_used_total{')).toEqual([
      'tokens_used_total{provider="openai",model="gpt-4o",token_type="input"} 7',
    ]);
    expect(two.received.slice(before)).toEqual([]);
  });

  it('reads a metrics source started again in the same worker as a new one: it is asked, and answered in full', async () => {
    primary();
    const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
    const first = metricsWorker(151, telemetry);
    await greeted(first);
    telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 3);
    expect(lines(await first.scrape(), 'tokens_used_total{')).toHaveLength(1);
    await first.source.stop();
    // startTelemetry({ cluster: true }) again in the same process: a new source on the same channel.
    const source = createClusterMetricsSource(localMetrics(telemetry), { channel: first.channel, timeoutMs: 3000 });
    cleanups.push(() => source.stop());
    await first.next('hello-ack');
    telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 2);
    const text = serializePrometheus((await source.collect()).resourceMetrics, { withoutTargetInfo: true });
    expect(lines(text, 'tokens_used_total{')).toEqual([
      'tokens_used_total{provider="openai",model="gpt-4o",token_type="input"} 5',
    ]);
  });

  it('answers a scrape still waiting for a worker when it stops', async () => {
    const started = startClusterPrimary({ timeoutMs: 60_000 });
    const silent = fakeWorker(161);
    // A metrics source that said hello but never answers a snapshot request.
    silent.sendRaw({ type: 'hello' });
    await silent.next('hello-ack');
    const one = metricsWorker(162);
    await greeted(one);
    one.telemetry.recordTokensUsed('openai', 'gpt-4o', 'input', 3);
    const scraped = one.scrape();
    await silent.next('snapshot-request');
    await until(() => one.delivered.includes('snapshot'));
    started.stop();
    expect(lines(await scraped, 'tokens_used_total{')).toEqual([
      'tokens_used_total{provider="openai",model="gpt-4o",token_type="input"} 3',
    ]);
    one.disconnect();
  });

  it('refuses a store call naming a method outside the store interface', async () => {
    primary({ modelHealthStore: new MemoryModelHealthStore() });
    const caller = fakeWorker(171);
    const answer = caller.next('store-result');
    caller.sendRaw({ type: 'store-call', id: 1, method: 'toString', args: [] });
    expect(await answer).toMatchObject({
      id: 1,
      error: { name: 'Error', message: 'unknown store method "toString"' },
    });
  });
});

describe('ClusterModelHealthStore through the primary', () => {
  it('carries dates both ways: a batch in, its records out', async () => {
    primary({ modelHealthStore: new MemoryModelHealthStore() });
    const fake = fakeWorker(181);
    const store = new ClusterModelHealthStore({ channel: fake.channel });
    cleanups.push(() => store.close());
    const calledAt = new Date('2025-03-04T05:06:07.089Z');
    const errorAt = new Date('2025-03-04T05:06:00.000Z');
    await store.applyBatch({
      id: 'batch-1',
      entries: [
        {
          provider: 'openai',
          model: 'gpt-4o',
          calls: 2,
          successes: 1,
          errors: 1,
          totalResponseTimeMs: 500,
          lastResponseTimeMs: 200,
          lastStatus: 'success',
          lastErrorMessage: 'boom',
          lastCalledAt: calledAt,
          lastErrorAt: errorAt,
        },
      ],
    });
    const record = await store.getModelHealth('openai', 'gpt-4o');
    expect(record?.lastCalledAt).toEqual(calledAt);
    expect(record?.lastErrorAt).toEqual(errorAt);
    const [listed] = await store.listAllModelHealth();
    expect(listed?.lastCalledAt).toEqual(calledAt);
  });

  it("rebuilds the primary store's input and configuration errors as the same classes and messages", async () => {
    const failing = {
      getStats: () =>
        Promise.reject(new TelemetryInputError('model_health', 'invalid_query', 'limit must be 1 to 500')),
      listProviders: () => Promise.reject(new TelemetryConfigurationError('table', 'expected a table name')),
      getProviderSummary: () => Promise.reject(Object.assign(new Error('gone'), { name: 'AbortError' })),
    } as unknown as ModelHealthStore;
    primary({ modelHealthStore: failing });
    const fake = fakeWorker(191);
    const store = new ClusterModelHealthStore({ channel: fake.channel });
    cleanups.push(() => store.close());
    const input = await store.getStats().catch((error: unknown) => error);
    expect(input).toBeInstanceOf(TelemetryInputError);
    expect(input).toMatchObject({ message: 'limit must be 1 to 500', reason: 'invalid_query', metric: 'model_health' });
    const configuration = await store.listProviders().catch((error: unknown) => error);
    expect(configuration).toBeInstanceOf(TelemetryConfigurationError);
    expect((configuration as Error).message).toBe('Invalid option "table": expected a table name');
    const other = await store.getProviderSummary('openai').catch((error: unknown) => error);
    expect(other).toMatchObject({ name: 'AbortError', message: 'gone' });
  });
});

describe('the cluster wire', () => {
  it('sends a collection without any of the helpers’ series as one part', () => {
    const parts = [
      ...partsOfCollection(new WireEncoder(), { resource: resourceFromAttributes({}), scopeMetrics: [] }, PACKAGE_NAME),
    ];
    expect(parts).toEqual([{ head: { resource: {}, scope: undefined, other: [] }, metrics: [] }]);
  });
});
