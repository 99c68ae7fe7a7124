/**
 * Test helpers shared by the telemetry unit tests: a real OpenTelemetry SDK `MeterProvider` with a
 * reader the tests collect from, lookups over the collected data points, a `diag` logger that keeps
 * warnings, and a hand-driven clock for the provider health tracker.
 */
import { diag, DiagLogLevel, type Attributes, type DiagLogger } from '@opentelemetry/api';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { EventEmitter } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach } from 'vitest';
import {
  GatewayTelemetry,
  type CircuitBreakerLike,
  type GatewayTelemetryOptions,
  type TrackerClock,
} from '../src/index.js';
import type { ModelCall } from '../src/model-health/index.js';

/** A successful call of openai/gpt-4o in 100 ms, with `overrides`. */
export const modelCall = (overrides: Partial<ModelCall> = {}): ModelCall => ({
  provider: 'openai',
  model: 'gpt-4o',
  responseTimeMs: 100,
  status: 'success',
  ...overrides,
});

/** A pull reader: `collect()` gathers everything the provider's meters hold at that moment. */
export class TestMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The metrics of one collection, with lookups by instrument name and attributes. */
export class CollectedMetrics {
  constructor(readonly metrics: readonly MetricData[]) {}

  get names(): string[] {
    return this.metrics.map((metric) => metric.descriptor.name);
  }

  metric(name: string): MetricData | undefined {
    return this.metrics.find((metric) => metric.descriptor.name === name);
  }

  /** The metric, failing the test when it was not exported. */
  require(name: string): MetricData {
    const metric = this.metric(name);
    if (metric === undefined) {
      throw new Error(`metric "${name}" was not exported; exported: ${this.names.join(', ')}`);
    }
    return metric;
  }

  points(name: string): Array<DataPoint<unknown>> {
    return [...(this.metric(name)?.dataPoints ?? [])] as Array<DataPoint<unknown>>;
  }

  /** The data point whose attributes are exactly `attributes`, or undefined. */
  point(name: string, attributes: Attributes): DataPoint<unknown> | undefined {
    return this.points(name).find((point) => sameAttributes(point.attributes, attributes));
  }

  /** The numeric value (sum or gauge) of the series with exactly these attributes. */
  value(name: string, attributes: Attributes = {}): number | undefined {
    const point = this.point(name, attributes);
    if (point === undefined) return undefined;
    if (typeof point.value !== 'number') throw new Error(`metric "${name}" is not a sum or gauge`);
    return point.value;
  }

  /** The histogram value of the series with exactly these attributes, or undefined. */
  histogram(name: string, attributes: Attributes = {}): Histogram | undefined {
    const point = this.point(name, attributes);
    if (point === undefined) return undefined;
    const metric = this.require(name);
    if (metric.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`metric "${name}" is not a histogram`);
    return point.value as Histogram;
  }

  /** Sum of the values of every series of a counter or gauge. */
  total(name: string): number {
    return this.points(name).reduce((sum, point) => sum + (point.value as number), 0);
  }
}

export function sameAttributes(actual: Attributes, expected: Attributes): boolean {
  const actualKeys = Object.keys(actual).sort();
  const expectedKeys = Object.keys(expected).sort();
  if (actualKeys.length !== expectedKeys.length) return false;
  return actualKeys.every((key, index) => key === expectedKeys[index] && actual[key] === expected[key]);
}

/** A real SDK meter provider with a collectable reader. */
export interface MetricsHarness {
  readonly provider: MeterProvider;
  readonly reader: TestMetricReader;
  collect(): Promise<CollectedMetrics>;
  shutdown(): Promise<void>;
}

export function createMetricsHarness(): MetricsHarness {
  const reader = new TestMetricReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    reader,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new Error(`collection errors: ${errors.map(String).join('; ')}`);
      return new CollectedMetrics(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics));
    },
    shutdown: () => provider.shutdown(),
  };
}

/** A fresh telemetry instance bound to a fresh SDK meter provider. */
export function createTelemetry(options: Omit<GatewayTelemetryOptions, 'meterProvider'> = {}): {
  telemetry: GatewayTelemetry;
  harness: MetricsHarness;
  collect: () => Promise<CollectedMetrics>;
} {
  const harness = createMetricsHarness();
  const telemetry = new GatewayTelemetry({ ...options, meterProvider: harness.provider });
  return { telemetry, harness, collect: () => harness.collect() };
}

/**
 * `createTelemetry()` for the tests of one file: registers an `afterEach` that shuts down every
 * harness made since the last test, and returns the function that makes them.
 */
export function telemetryPerTest(): (
  options?: Omit<GatewayTelemetryOptions, 'meterProvider'>,
) => ReturnType<typeof createTelemetry> {
  const harnesses: MetricsHarness[] = [];
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((harness) => harness.shutdown()));
  });
  return (options = {}) => {
    const created = createTelemetry(options);
    harnesses.push(created.harness);
    return created;
  };
}

/** A minimal breaker satisfying `CircuitBreakerLike`: flags plus opossum-style events. */
export class FakeBreaker extends EventEmitter implements CircuitBreakerLike {
  opened = false;
  halfOpen = false;

  trip(): void {
    this.opened = true;
    this.halfOpen = false;
    this.emit('open');
  }
  probe(): void {
    this.opened = false;
    this.halfOpen = true;
    this.emit('halfOpen', 50);
  }
  reset(): void {
    this.opened = false;
    this.halfOpen = false;
    this.emit('close');
  }
}

/** Histogram bucket count of the bucket whose upper bound is `upperBound` (`Infinity` for the last). */
export function bucketCount(histogram: Histogram, upperBound: number): number {
  const { boundaries, counts } = histogram.buckets;
  const index = upperBound === Infinity ? boundaries.length : boundaries.indexOf(upperBound);
  if (index < 0) throw new Error(`no bucket with upper bound ${upperBound}; boundaries: ${boundaries.join(', ')}`);
  return counts[index] as number;
}

/** A diag logger that keeps what it is given. Call `uninstall()` (diag.disable) afterwards. */
export class CollectingDiagLogger implements DiagLogger {
  readonly warnings: string[] = [];
  readonly errors: Array<{ message: string; args: unknown[] }> = [];

  error(message: string, ...args: unknown[]): void {
    this.errors.push({ message, args });
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
  info(): void {}
  debug(): void {}
  verbose(): void {}

  install(level: DiagLogLevel = DiagLogLevel.WARN): this {
    diag.setLogger(this, level);
    return this;
  }

  /** Warnings this package emitted (the SDK may warn too). */
  get ownWarnings(): string[] {
    return this.warnings.filter((message) => message.startsWith('@gatewayz/telemetry:'));
  }

  static uninstall(): void {
    diag.disable();
  }
}

/**
 * A clock driven by the test: timers fire only inside `advance()`, which also lets the promises the
 * fired callbacks start settle before it returns.
 */
export class ManualClock implements TrackerClock {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing due timers in order and settling what they start. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      let dueId: number | undefined;
      let dueAt = Infinity;
      for (const [id, timer] of this.timers) {
        if (timer.at <= target && timer.at < dueAt) {
          dueAt = timer.at;
          dueId = id;
        }
      }
      if (dueId === undefined) break;
      const timer = this.timers.get(dueId) as { at: number; callback: () => void };
      this.timers.delete(dueId);
      this.time = Math.max(this.time, timer.at);
      timer.callback();
      await settle();
    }
    this.time = target;
    await settle();
  }
}

/** Let every pending promise chain run (macrotask boundary; not a timed wait). */
export async function settle(): Promise<void> {
  for (let round = 0; round < 3; round++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise with its resolvers exposed. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Heap bytes still reachable after `action`, measured between two full garbage collections (`gc`
 * is exposed for this test process on first use). Keep what the action filled (the telemetry
 * instance) referenced after the call, or it is collected with its garbage.
 */
export async function retainedHeapBytes(action: () => void | Promise<void>): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  await action();
  gc();
  return process.memoryUsage().heapUsed - before;
}
