import {
  createNoopMeter,
  type Attributes,
  type Counter,
  type Meter,
  type MeterProvider,
  type MetricOptions,
} from '@opentelemetry/api';

/**
 * Why sampled spans were lost: `queue_full`, `export_failed`, or `rejected` (the OTLP backend
 * accepted the request but rejected these spans, a partial success).
 */
export type SpanDropReason = 'queue_full' | 'export_failed' | 'rejected';

/** The SDK's self-observability counter the batch span processor reports finished spans to. */
const PROCESSED_SPANS = 'otel.sdk.processor.span.processed';

/**
 * A `MeterProvider` for the span processors' standard `selfObsMeterProvider` option that turns the
 * SDK's `otel.sdk.processor.span.processed` reports carrying an `error.type` into `onDrop` calls:
 * `queue_full` when the queue was at `maxQueueSize`, `export_failed` for any export error (timeout,
 * HTTP status, connection refused). Successful exports and every other self-metric cost nothing.
 *
 * Going through the SDK's own reporting point means the counts are exactly what the stock
 * `BatchSpanProcessor` dropped, with no fork of its queue logic.
 *
 * @example
 * ```ts
 * const processor = new BatchSpanProcessor({
 *   exporter,
 *   selfObsMeterProvider: createSpanDropMeterProvider((reason, count) =>
 *     telemetry.add('telemetrySpansDropped', count, { reason }),
 *   ),
 * });
 * ```
 */
export function createSpanDropMeterProvider(onDrop: (reason: SpanDropReason, count: number) => void): MeterProvider {
  const noopMeter = createNoopMeter();
  const processedCounter: Counter = {
    add(count: number, attributes?: Attributes): void {
      const errorType = attributes?.['error.type'];
      if (errorType === undefined || count <= 0) return;
      onDrop(errorType === 'queue_full' ? 'queue_full' : 'export_failed', count);
    },
  };
  const meter: Meter = Object.assign(Object.create(noopMeter) as Meter, {
    createCounter(name: string, options?: MetricOptions): Counter {
      return name === PROCESSED_SPANS ? processedCounter : noopMeter.createCounter(name, options);
    },
  });
  return { getMeter: () => meter };
}
