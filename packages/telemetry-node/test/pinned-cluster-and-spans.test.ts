/**
 * Cases the rest of the suite let through (found by mutation testing): the up-down counter of a
 * worker that exited, and an event's dropped attribute count on the wire.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { describe, expect, it } from 'vitest';
import { decodeProtobufRequest } from '../../../test-support/otlp-receiver.js';
import { mergeWorkerMetrics, retireWorker } from '../src/cluster/merge-worker-metrics.js';
import { encodeTraceRequest } from '../src/tracing/index.js';
import { WirePrimary } from './fixtures/cluster-wire.js';
import { collectWorker } from './fixtures/worker-collection.js';

/** One worker's collection of what `record` put in a fresh telemetry instance. */
const worker = (record: (telemetry: GatewayTelemetry) => void, pid: number): Promise<ResourceMetrics> =>
  collectWorker(record, { 'service.name': 'gw', 'process.pid': pid });

describe('retireWorker', () => {
  it("keeps an exited worker's counters but not its requests in progress (an up-down counter)", async () => {
    const primary = new WirePrimary();
    const route = ['POST', '/v1/chat/completions'] as const;
    // The worker exited with a request in progress: the request will not finish.
    const gone = await worker((telemetry) => {
      telemetry.recordHttpRequest(...route, 200, 0.1);
      telemetry.trackHttpRequestInProgress(...route, 1);
    }, 1);
    const live = await worker((telemetry) => {
      telemetry.trackHttpRequestInProgress(...route, 1);
      telemetry.trackHttpRequestInProgress(...route, 1);
    }, 2);
    const retired = retireWorker(undefined, primary.receive('1', gone));
    const lines = primary
      .text(
        mergeWorkerMetrics(
          [
            { workerId: undefined, collection: retired },
            { workerId: '2', collection: primary.receive('2', live) },
          ],
          () => 'sum',
        ),
      )
      .split('\n');

    expect(lines).toContain('fastapi_requests_total{method="POST",path="/v1/chat/completions",status_code="200"} 1');
    expect(lines).toContain('fastapi_requests_in_progress{method="POST",path="/v1/chat/completions"} 2');
  });
});

describe('encodeTraceRequest', () => {
  it("encodes the count of an event's dropped attributes as the SDK does", () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
      spanLimits: { attributePerEventCountLimit: 1 },
    });
    provider
      .getTracer('encoder-test')
      .startSpan('retrying')
      .addEvent('retry', { attempt: 2, delay_ms: 250, cause: 'timeout' })
      .end();
    const spans = exporter.getFinishedSpans();
    expect(spans[0]?.events[0]?.droppedAttributesCount).toBe(2);

    const ours = encodeTraceRequest(spans).bytes;
    const decoded = decodeProtobufRequest('/v1/traces', ours) as {
      resourceSpans: Array<{
        scopeSpans: Array<{ spans: Array<{ events: Array<{ droppedAttributesCount: number }> }> }>;
      }>;
    };
    expect(decoded.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.events[0]?.droppedAttributesCount).toBe(2);
    expect(Buffer.from(ours).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!))).toBe(true);
  });
});
