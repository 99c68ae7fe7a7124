/**
 * The metrics endpoints serve the resource's asynchronous attributes (a cloud detector's lookup,
 * the host detector's `host.id`) from the first scrape on: with Prometheus alone (nothing else ever
 * waited for them, so `target_info` never had them), beside the OTLP push (whose first export used
 * to add them mid-run, changing `target_info`'s labels), and in a cluster worker's answer to its
 * primary. A detector that never settles holds scrapes for a bounded time only.
 */
import { EventEmitter } from 'node:events';
import { diag } from '@opentelemetry/api';
import { resourceFromAttributes, type ResourceDetector } from '@opentelemetry/resources';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { MESSAGE_TAG, type ClusterMessage } from '../src/cluster/cluster-messages.js';
import type { CollectionPart } from '../src/cluster/collection-parts.js';
import { resourceKeepingEveryKey } from '../src/sdk/resource-keeping-every-key.js';
import { settleAsyncAttributes } from '../src/sdk/resource-settled.js';
import { startTelemetry, type RunningTelemetry, type StartTelemetryOptions } from '../src/index.js';

let running: RunningTelemetry | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  await receiver?.close();
  receiver = undefined;
  vi.restoreAllMocks();
});

/** A detector whose `cloud.region` arrives when the test calls `settle()`, as a metadata lookup's answer does. */
function lateRegion(): { detector: ResourceDetector; settle(): void } {
  let settle: (region: string) => void = () => {};
  const region = new Promise<string>((resolve) => (settle = resolve));
  return {
    detector: { detect: () => ({ attributes: { 'cloud.region': region } }) },
    settle: () => settle('eu-west-1'),
  };
}

function start(
  detector: ResourceDetector,
  options: Partial<StartTelemetryOptions>,
  env: NodeJS.ProcessEnv = {},
): RunningTelemetry {
  running = startTelemetry({
    serviceName: 'resource-test',
    hostMetrics: false,
    runtimeMetrics: false,
    traces: false,
    logs: false,
    logStream: null,
    resourceDetectors: [detector],
    ...options,
    env: { OTEL_NODE_RESOURCE_DETECTORS: 'none', ...env },
  });
  return running;
}

/** The `target_info` line of a scrape of `/metrics` that starts before the detector settles. */
async function targetInfoOfScrapeBefore(otel: RunningTelemetry, settle: () => void): Promise<string | undefined> {
  const scrape = otel.metricsHandler(new Request('http://gateway/metrics'));
  settle();
  const text = await (await scrape).text();
  return text.split('\n').find((line) => line.startsWith('target_info{'));
}

describe('the metrics endpoints wait for the resource’s asynchronous attributes', () => {
  it('with Prometheus alone, the first scrape’s target_info carries them', async () => {
    const { detector, settle } = lateRegion();
    const otel = start(detector, {});
    otel.telemetry.incrementCostByProvider('openai', 0.25);
    expect(await targetInfoOfScrapeBefore(otel, settle)).toContain('cloud_region="eu-west-1"');
  });

  it('beside the OTLP push, target_info has the same labels before and after the first push', async () => {
    receiver = await startOtlpReceiver();
    const { detector, settle } = lateRegion();
    const otel = start(
      detector,
      {},
      {
        OTEL_METRICS_EXPORTER: 'otlp,prometheus',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_METRIC_EXPORT_INTERVAL: '3600000',
      },
    );
    otel.telemetry.incrementCostByProvider('openai', 0.25);
    const before = await targetInfoOfScrapeBefore(otel, settle);
    await otel.forceFlush();
    const pushed = receiver.metrics().find((metric) => metric.name === 'gatewayz_cost_by_provider');
    expect(pushed?.resource['cloud.region']).toBe('eu-west-1');
    const after = await targetInfoOfScrapeBefore(otel, () => {});
    // The per-process instance id is the same in both; everything else must be too.
    expect(before).toBe(after);
    expect(before).toContain('cloud_region="eu-west-1"');
  });

  it('a cluster worker answers its primary with them', async () => {
    const emitter = new EventEmitter();
    const sent: ClusterMessage[] = [];
    const channel = {
      send: (message: unknown, callback?: (error: Error | null) => void): boolean => {
        sent.push(message as ClusterMessage);
        callback?.(null);
        return true;
      },
      on: (event: 'message', listener: (message: unknown) => void) => emitter.on(event, listener),
      off: (event: 'message', listener: (message: unknown) => void) => emitter.off(event, listener),
    };
    const { detector, settle } = lateRegion();
    const otel = start(detector, { cluster: { channel } });
    otel.telemetry.incrementCostByProvider('openai', 0.25);
    emitter.emit('message', { gatewayz: MESSAGE_TAG, type: 'snapshot-request', id: 1, session: 's' });
    settle();
    const head = await new Promise<CollectionPart['head']>((resolve) => {
      const poll = (): void => {
        const snapshot = sent.find((message) => message.type === 'snapshot') as { part?: CollectionPart } | undefined;
        if (snapshot !== undefined) resolve(snapshot.part?.head);
        else setTimeout(poll, 5);
      };
      poll();
    });
    expect(head?.resource['cloud.region']).toBe('eu-west-1');
  });
});

describe('settleAsyncAttributes', () => {
  it('gives up on an attribute that never settles after the time it is given, with one warning', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(diag, 'error').mockImplementation(() => {});
    const resource = resourceKeepingEveryKey(
      resourceFromAttributes({ team: 'routing', 'cloud.region': new Promise<string>(() => {}) }),
    );
    await settleAsyncAttributes(resource, 20);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/resource attributes still pending 20 ms after start-up/);
    // Scrapes then serve what has settled; the early read is reported once, not on every scrape.
    expect(resource.attributes).toEqual({ team: 'routing' });
    expect(resource.attributes).toEqual({ team: 'routing' });
    expect(error).toHaveBeenCalledTimes(1);
  });

  it('resolves at once for a resource with nothing pending', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    await settleAsyncAttributes(resourceFromAttributes({ team: 'routing' }), 20);
    expect(warn).not.toHaveBeenCalled();
  });
});
