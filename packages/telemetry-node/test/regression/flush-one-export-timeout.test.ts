import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTelemetry, type RunningTelemetry } from '../../src/index.js';

/*
 * A collector that takes requests and never answers: an export in flight when forceFlush() or
 * shutdown() began was waited for to its own deadline, and only then did the flush's own exports
 * start, each with a full timeout, so the flush took up to twice OTEL_EXPORTER_OTLP_TIMEOUT (the
 * example gateway's SIGTERM took 19.6 s of a promised 10). A flush now ends within one timeout
 * counted from its start, and what it could not send is counted as lost.
 */

const TIMEOUT_MS = 2000;
/** Timer and scheduling slack on a busy machine; the old behaviour overran by 1.5 s or more. */
const MARGIN_MS = 800;

/** A loopback OTLP/HTTP endpoint that reads every request and answers none; `paths()` lists what arrived. */
async function silentCollector(): Promise<{ url: string; paths: () => string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      const requestLine = /^POST (\S+) HTTP/.exec(chunk.toString('latin1'));
      if (requestLine !== null) paths.push(requestLine[1]!);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths: () => [...paths],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the collector');
    await sleep(10);
  }
}

/**
 * Telemetry exporting spans, logs and metrics to a silent collector, with an export of each signal
 * in flight for about 200 ms and a span and a log record waiting for the next flush.
 */
async function startWithExportsInFlight(): Promise<{ otel: RunningTelemetry; endSpan: () => void }> {
  const collector = await silentCollector();
  cleanups.push(collector.close);
  const otel = startTelemetry({
    serviceName: 'flush-deadline-test',
    hostMetrics: false,
    runtimeMetrics: false,
    logStream: null,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TIMEOUT: String(TIMEOUT_MS),
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_METRIC_EXPORT_INTERVAL: String(TIMEOUT_MS),
      OTEL_BSP_SCHEDULE_DELAY: '10',
      OTEL_BLRP_SCHEDULE_DELAY: '10',
    },
  });
  cleanups.push(() => otel.shutdown());
  const endSpan = (): void => otel.tracer.startSpan('request').end();
  const seen = (path: string): number => collector.paths().filter((seenPath) => seenPath === path).length;
  // The first scheduled metrics push goes after one interval; spans and logs go after 10 ms.
  await waitFor(() => seen('/v1/metrics') >= 1);
  endSpan();
  otel.logger.info('in flight');
  await waitFor(() => seen('/v1/traces') >= 1 && seen('/v1/logs') >= 1);
  await sleep(200);
  endSpan();
  otel.logger.info('waiting');
  return { otel, endSpan };
}

/** What `telemetry.add` counted per instrument and reason, as calls to it. */
function countAdds(otel: RunningTelemetry): (name: string, reason: string) => number {
  const add = vi.spyOn(otel.telemetry, 'add');
  return (name, reason) =>
    add.mock.calls
      .filter(([instrument, , labels]) => instrument === name && (labels as { reason?: string }).reason === reason)
      .reduce((sum, [, value]) => sum + (value as number), 0);
}

describe('a flush with exports in flight to a collector that never answers', () => {
  it('shutdown() ends within one export timeout and counts what it lost', async () => {
    const { otel, endSpan } = await startWithExportsInFlight();
    const counted = countAdds(otel);
    const started = performance.now();
    const shutdown = otel.shutdown();
    // A request that finishes while the process shuts down ends its span then.
    await sleep(300);
    endSpan();
    await shutdown;
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    expect(counted('telemetrySpansDropped', 'export_failed')).toBe(3);
    expect(counted('telemetryLogsDropped', 'export_failed')).toBe(2);
    expect(counted('telemetryExportFailures', 'timeout')).toBeGreaterThanOrEqual(2);
  });

  it('forceFlush() ends within one export timeout and counts what it lost', async () => {
    const { otel } = await startWithExportsInFlight();
    const started = performance.now();
    const flushed = await otel.forceFlush().then(
      () => undefined,
      (error: unknown) => error,
    );
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    expect((flushed as Error).message).toMatch(/spans? not exported/);
    expect((flushed as Error).message).toMatch(/log records? not exported/);
    expect((flushed as Error).message).toMatch(/metrics not exported \(timeout\)/);
    const text = await (await otel.metricsHandler(new Request('http://gateway/metrics'))).text();
    expect(text).toContain('gatewayz_telemetry_spans_dropped_total{reason="export_failed"} 2');
    expect(text).toContain('gatewayz_telemetry_logs_dropped_total{reason="export_failed"} 2');
    expect(text).toMatch(/gatewayz_telemetry_export_failures_total\{[^}]*reason="timeout"[^}]*\} [2-9]/);
  });
});
