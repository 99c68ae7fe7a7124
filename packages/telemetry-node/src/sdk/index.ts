/**
 * SDK wiring: `startTelemetry()` on the OpenTelemetry `NodeSDK` (Prometheus exporter, OTLP traces
 * and logs from the standard `OTEL_*` variables, runtime and host metrics), the `MetricProducer`
 * that exports a `GatewayTelemetry`'s in-process series (with their exemplars), and a synchronous
 * context manager for applications that carry their `Context` themselves.
 *
 * - `start-telemetry.ts`: `startTelemetry()` and its options
 * - `metric-readers.ts`: the readers for the configured exporters (Prometheus, OTLP, console)
 * - `telemetry-metric-producer.ts`: `createTelemetryMetricProducer()`
 * - `synchronous-context-manager.ts`: `SynchronousContextManager`
 */
export { startTelemetry } from './start-telemetry.js';
export type { StartTelemetryOptions, RunningTelemetry } from './start-telemetry.js';
export { createTelemetryMetricProducer } from './telemetry-metric-producer.js';
export type { TelemetryMetricProducerOptions } from './telemetry-metric-producer.js';
export { SynchronousContextManager } from './synchronous-context-manager.js';
