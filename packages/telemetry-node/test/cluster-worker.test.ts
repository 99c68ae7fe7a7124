import { EventEmitter } from 'node:events';
import { GatewayTelemetry, TelemetryConfigurationError } from '@gatewayz/telemetry';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MESSAGE_TAG, type ClusterMessage } from '../src/cluster/cluster-messages.js';
import { partsOfMerged } from '../src/cluster/collection-parts.js';
import { createClusterMetricsSource, type ClusterChannel } from '../src/cluster/cluster-worker.js';
import { ClusterModelHealthStore } from '../src/cluster/cluster-model-health-store.js';
import { startClusterPrimary } from '../src/cluster/cluster-primary.js';
import { mergeWorkerMetrics } from '../src/cluster/merge-worker-metrics.js';
import { DEFAULT_POINTS_PER_PART } from '../src/cluster/series-wire.js';
import { WireEncoder } from '../src/cluster/wire-encoder.js';
import { createTelemetryMetricProducer } from '../src/sdk/index.js';
import { resourceKeepingEveryKey } from '../src/sdk/resource-keeping-every-key.js';
import { WirePrimary, overJson } from './fixtures/cluster-wire.js';
import { CollectingReader } from './fixtures/collecting-reader.js';

type Sent = ClusterMessage & {
  id?: number;
  more?: boolean;
  fresh?: boolean;
  part?: { metrics: Array<{ points: number }> };
};

/** A worker's IPC channel: what the worker sends is logged, the test plays the primary. */
function fakeChannel(log: string[]): ClusterChannel & { sent: Sent[]; receive(message: unknown): void } {
  const emitter = new EventEmitter();
  const sent: Sent[] = [];
  return {
    sent,
    send(message, callback) {
      sent.push(message as Sent);
      if ((message as Sent).type === 'snapshot') log.push('part');
      callback?.(null);
      return true;
    },
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
    receive: (message) => emitter.emit('message', message),
  };
}

/** A worker's local metrics: `series` label sets of three metrics. */
function localSource(series: number): { collect(): Promise<{ resourceMetrics: ResourceMetrics; errors: unknown[] }> } {
  const telemetry = new GatewayTelemetry({ exportVia: 'producer', maxSeriesPerMetric: series });
  for (let index = 0; index < series; index++) {
    telemetry.recordModelInference('openai', `model-${index}`, 'success', 0.5);
    telemetry.recordTokensUsed('openai', `model-${index}`, 'input', index + 1);
  }
  const reader = new CollectingReader({ metricProducers: [createTelemetryMetricProducer(telemetry)] });
  new MeterProvider({ readers: [reader] });
  return { collect: () => reader.collect() };
}

let stop: (() => void) | undefined;
afterEach(() => stop?.());

describe('a cluster worker', () => {
  it('sends a large collection in parts and yields to the event loop between every two parts', async () => {
    const log: string[] = [];
    const channel = fakeChannel(log);
    const source = createClusterMetricsSource(localSource(4000), { channel });
    stop = source.stop;
    // An event-loop turn counter: every turn the worker lets run leaves a tick between its parts.
    let ticking = true;
    const tick = (): void => {
      log.push('tick');
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    channel.receive({ gatewayz: MESSAGE_TAG, type: 'snapshot-request', id: 7, session: 's' });
    await new Promise<void>((resolve) => {
      const wait = (): void => {
        if (channel.sent.some((message) => message.type === 'snapshot' && message.more === false)) resolve();
        else setTimeout(wait, 5);
      };
      wait();
    });
    ticking = false;
    const parts = channel.sent.filter((message) => message.type === 'snapshot');
    const points = parts.map((part) => part.part?.metrics.reduce((total, slice) => total + slice.points, 0) ?? 0);
    expect(points.reduce((total, count) => total + count, 0)).toBe(12_000);
    expect(parts.length).toBe(Math.ceil(12_000 / DEFAULT_POINTS_PER_PART));
    expect(points.every((count) => count <= DEFAULT_POINTS_PER_PART)).toBe(true);
    expect(parts.map((part) => part.more)).toEqual([...parts.slice(1).map(() => true), false]);
    // No two parts in one synchronous step: an event-loop turn ran between each pair.
    const order = log.slice(log.indexOf('part'), log.lastIndexOf('part') + 1);
    for (let index = 1; index < order.length; index++)
      if (order[index] === 'part') expect(order[index - 1]).toBe('tick');
  });

  it('reads the aggregate part by part; asks for every series again after a reply it could not read', async () => {
    const channel = fakeChannel([]);
    const source = createClusterMetricsSource(localSource(1), { channel });
    stop = source.stop;
    // The primary's side: a merged collection of 3000 series, sent in parts with its session.
    const primary = new WirePrimary();
    const merged = mergeWorkerMetrics(
      [{ workerId: '1', collection: primary.receive('1', (await localSource(3000).collect()).resourceMetrics) }],
      () => 'max',
    );
    const encoder = new WireEncoder();
    const answer = (id: number, session: string): void => {
      const parts = overJson(partsOfMerged(encoder, merged));
      parts.forEach((part, index) =>
        channel.receive({
          gatewayz: MESSAGE_TAG,
          type: 'collect-result',
          id,
          session,
          part,
          more: index < parts.length - 1,
        }),
      );
    };
    const lastCollect = (): Sent => channel.sent.filter((message) => message.type === 'collect').at(-1) as Sent;

    const first = source.collect();
    expect(lastCollect()).toMatchObject({ fresh: true });
    answer(lastCollect().id as number, 'a');
    const { resourceMetrics } = await first;
    const tokens = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((metric) => metric.descriptor.name === 'tokens_used');
    expect(tokens?.dataPoints).toHaveLength(3000);
    expect(tokens?.dataPoints[2999]).toMatchObject({ attributes: { model: 'model-2999' }, value: 3000 });

    // Same session: only numbers come; the series keep their attributes objects.
    const second = source.collect();
    expect(lastCollect().fresh).toBeUndefined();
    answer(lastCollect().id as number, 'a');
    const again = (await second).resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    expect(again.find((metric) => metric.descriptor.name === 'tokens_used')?.dataPoints[5]?.attributes).toBe(
      tokens?.dataPoints[5]?.attributes,
    );

    // A reply naming series this worker was never told (the primary lost track): the scrape fails
    // clearly, and the next request asks for everything again.
    const lost = new WireEncoder();
    overJson(partsOfMerged(lost, merged));
    const third = source.collect();
    const id = lastCollect().id as number;
    const parts = overJson(partsOfMerged(lost, merged));
    parts.forEach((part, index) =>
      channel.receive({
        gatewayz: MESSAGE_TAG,
        type: 'collect-result',
        id,
        session: 'b',
        part,
        more: index < parts.length - 1,
      }),
    );
    await expect(third).rejects.toThrow(/unknown to the receiver/);
    void source.collect().catch(() => undefined);
    expect(lastCollect()).toMatchObject({ fresh: true });
  });

  it('serves the aggregate under a resource that keeps keys naming members of Object.prototype', async () => {
    const channel = fakeChannel([]);
    const source = createClusterMetricsSource(localSource(1), { channel });
    stop = source.stop;
    // A worker started with OTEL_RESOURCE_ATTRIBUTES=__proto__=x,constructor=y (startTelemetry's resource).
    const reader = new CollectingReader();
    const provider = new MeterProvider({
      readers: [reader],
      resource: resourceKeepingEveryKey(
        resourceFromAttributes(JSON.parse('{"__proto__":"x","constructor":"y","team":"routing"}') as Attributes),
      ),
    });
    provider.getMeter('scope').createCounter('requests').add(1);
    const primary = new WirePrimary();
    const merged = mergeWorkerMetrics(
      [{ workerId: '1', collection: primary.receive('1', (await reader.collect()).resourceMetrics) }],
      () => 'max',
    );
    const collecting = source.collect();
    const { id } = channel.sent.filter((message) => message.type === 'collect').at(-1) as Sent;
    const parts = overJson(partsOfMerged(new WireEncoder(), merged));
    parts.forEach((part, index) =>
      channel.receive({
        gatewayz: MESSAGE_TAG,
        type: 'collect-result',
        id,
        session: 'a',
        part,
        more: index < parts.length - 1,
      }),
    );
    const { resourceMetrics } = await collecting;
    expect(Object.entries(resourceMetrics.resource.attributes)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['team', 'routing'],
    ]);
  });

  // Outside a node:cluster worker `process` has no send(): the throw must not leave a listener on it.
  it.each([
    [
      'createClusterMetricsSource()',
      (channel: ClusterChannel) => createClusterMetricsSource(localSource(1), { channel }),
    ],
    ['new ClusterModelHealthStore()', (channel: ClusterChannel) => new ClusterModelHealthStore({ channel })],
  ])('%s without an IPC channel throws before adding a listener', (_name, create) => {
    const emitter = new EventEmitter();
    const channel: ClusterChannel = {
      on: (event, listener) => emitter.on(event, listener),
      off: (event, listener) => emitter.off(event, listener),
    };
    const before = emitter.listenerCount('message');
    expect(() => create(channel)).toThrow(/cluster mode needs an IPC channel/);
    expect(emitter.listenerCount('message')).toBe(before);
  });
});

describe('a cluster worker stopping gracefully', () => {
  /** A fake channel that counts its listeners. */
  function countingChannel(): ReturnType<typeof fakeChannel> & { listenerCount(): number } {
    const channel = fakeChannel([]);
    let count = 0;
    return {
      ...channel,
      on: (event, listener) => (count++, channel.on(event, listener)),
      off: (event, listener) => (count--, channel.off(event, listener)),
      listenerCount: () => count,
    };
  }

  it('hands the primary its final snapshot and waits until the primary took it', async () => {
    const channel = countingChannel();
    const source = createClusterMetricsSource(localSource(3), { channel });
    channel.receive({ gatewayz: MESSAGE_TAG, type: 'hello-ack' });
    let stopped = false;
    const stopping = source.stop().then(() => (stopped = true));
    const retire = channel.sent.find((message) => message.type === 'retire');
    expect(retire).toBeDefined();
    // The primary asks for the final snapshot; the worker answers it in full.
    channel.receive({ gatewayz: MESSAGE_TAG, type: 'snapshot-request', id: 41, session: 's' });
    await vi.waitFor(() => expect(channel.sent.some((message) => message.type === 'snapshot')).toBe(true));
    const snapshot = channel.sent.filter((message) => message.type === 'snapshot');
    expect(snapshot.map((part) => part.id)).toEqual([41]);
    expect(snapshot[0]?.part?.metrics.reduce((total, slice) => total + slice.points, 0)).toBe(9);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    expect(channel.listenerCount()).toBeGreaterThan(0);
    channel.receive({ gatewayz: MESSAGE_TAG, type: 'retire-result', id: retire?.id });
    await stopping;
    expect(channel.listenerCount()).toBe(0);
    // Stopping again sends nothing more.
    await source.stop();
    expect(channel.sent.filter((message) => message.type === 'retire')).toHaveLength(1);
  });

  it('waits at most timeoutMs for a primary that does not take it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const channel = countingChannel();
      const source = createClusterMetricsSource(localSource(1), { channel, timeoutMs: 500 });
      channel.receive({ gatewayz: MESSAGE_TAG, type: 'hello-ack' });
      let stopped = false;
      const stopping = source.stop().then(() => (stopped = true));
      await vi.advanceTimersByTimeAsync(499);
      expect(stopped).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await stopping;
      expect(channel.listenerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sends nothing when no primary answered its hello, or its channel is closed', async () => {
    const unanswered = fakeChannel([]);
    await createClusterMetricsSource(localSource(1), { channel: unanswered }).stop();
    const closed = { ...fakeChannel([]), connected: false };
    const source = createClusterMetricsSource(localSource(1), { channel: closed });
    closed.receive({ gatewayz: MESSAGE_TAG, type: 'hello-ack' });
    await source.stop();
    for (const channel of [unanswered, closed]) expect(channel.sent.map((message) => message.type)).toEqual(['hello']);
  });
});

describe('timeoutMs of the cluster objects', () => {
  // A timer given NaN, a string or a negative delay fires after 1 ms: every scrape or store call
  // would have timed out at once, and a delay above 2^31 - 1 ms fires at once as well.
  const creators: Array<[string, (timeoutMs: unknown) => unknown]> = [
    [
      'createClusterMetricsSource()',
      (timeoutMs) => createClusterMetricsSource(localSource(1), { channel: fakeChannel([]), timeoutMs } as never),
    ],
    [
      'new ClusterModelHealthStore()',
      (timeoutMs) => new ClusterModelHealthStore({ channel: fakeChannel([]), timeoutMs } as never),
    ],
    ['startClusterPrimary()', (timeoutMs) => startClusterPrimary({ timeoutMs } as never)],
  ];
  const wrong: unknown[] = [null, Number.NaN, -5, 0, '5000', Infinity, 2 ** 31, 5000n];

  it.each(creators)('%s refuses a timeoutMs that no timer keeps, naming the option', (_name, create) => {
    for (const timeoutMs of wrong) {
      let thrown: unknown;
      try {
        create(timeoutMs);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, String(timeoutMs)).toBeInstanceOf(TelemetryConfigurationError);
      expect((thrown as Error).message).toContain('timeoutMs');
    }
  });

  it('createClusterMetricsSource() refuses it before adding a listener', () => {
    const emitter = new EventEmitter();
    const channel: ClusterChannel = {
      on: (event, listener) => emitter.on(event, listener),
      off: (event, listener) => emitter.off(event, listener),
      send: () => true,
    };
    expect(() => createClusterMetricsSource(localSource(1), { channel, timeoutMs: -1 })).toThrow(
      TelemetryConfigurationError,
    );
    expect(emitter.listenerCount('message')).toBe(0);
  });
});
