import type { MetricsSource } from './metrics-handler.js';

/**
 * What a source from {@link stoppableMetricsSource} rejects with once stopped: the metrics handler
 * answers it with a 503 (`telemetry_shut_down`), logging nothing, as it answers a disabled source.
 */
export class MetricsSourceStoppedError extends Error {
  constructor() {
    super('Telemetry was shut down; metrics are no longer collected');
    this.name = 'MetricsSourceStoppedError';
  }
}

/**
 * `source`, until `stop()`: then every collection, and one that was under way and failed, rejects
 * with a {@link MetricsSourceStoppedError}. `startTelemetry()` stops the source it serves when
 * `shutdown()` shuts the SDK down, so keep-alive scrapes during a graceful drain get a 503 saying so
 * rather than a 500 and an error in the log each time (the SDK's reader, shut down, refuses them).
 *
 * @example
 * ```ts
 * const served = stoppableMetricsSource(exporter);
 * const handler = createMetricsHandler({ source: served });
 * // at shutdown, before the meter provider shuts down
 * served.stop();
 * ```
 */
export function stoppableMetricsSource(source: MetricsSource): MetricsSource & { stop(): void } {
  let stopped = false;
  return {
    async collect() {
      if (stopped) throw new MetricsSourceStoppedError();
      try {
        return await source.collect();
      } catch (error) {
        if (stopped) throw new MetricsSourceStoppedError();
        throw error;
      }
    },
    stop() {
      stopped = true;
    },
  };
}
