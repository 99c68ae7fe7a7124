/**
 * The metrics endpoints' wait for the resource's asynchronous attributes (the host detector's
 * `host.id`, a cloud detector's lookup). A push reader waits for them before its first export; a
 * scrape has no export of its own to wait in, and the resource only counts them as settled once
 * someone waited. So `startTelemetry()` starts the wait at start-up and every scrape awaits it,
 * and `target_info` carries the same labels from the first scrape on.
 */
import { diag } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { MetricsSource } from '../http/metrics-handler.js';

/**
 * How long after start-up a scrape waits at most for the resource's asynchronous attributes: the
 * built-in detectors settle in milliseconds, and 5 s is within a Prometheus scrape's default 10 s
 * timeout, so a hung detector delays only the scrapes of the first 5 s, and never fails one.
 */
export const RESOURCE_WAIT_MILLIS = 5_000;

/**
 * Start waiting for `resource`'s asynchronous attributes: resolves once they settled, or after
 * `timeoutMillis` (with a `diag.warn` saying so), whichever comes first; never rejects (a rejected
 * attribute is left out by the resource itself). The timer does not keep the process alive.
 *
 * @example
 * ```ts
 * const settled = settleAsyncAttributes(resource, RESOURCE_WAIT_MILLIS);
 * const source = collectingAfter(prometheusExporter, settled);
 * ```
 */
export function settleAsyncAttributes(resource: Resource, timeoutMillis: number): Promise<void> {
  if (resource.asyncAttributesPending !== true) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMillis);
    timer.unref();
  });
  const settled = Promise.resolve(resource.waitForAsyncAttributes?.()).then(
    () => true,
    () => true,
  );
  return Promise.race([settled, timedOut]).then((inTime) => {
    clearTimeout(timer);
    if (!inTime)
      diag.warn(
        `@gatewayz/telemetry-node: resource attributes still pending ${timeoutMillis} ms after start-up; the metrics endpoints serve target_info without them until they settle`,
      );
  });
}

/**
 * `source` whose collections first wait for `settled` (see {@link settleAsyncAttributes}): what the
 * metrics endpoints, and a cluster worker's answers to its primary, collect from.
 */
export function collectingAfter(source: MetricsSource, settled: Promise<void>): MetricsSource {
  return {
    collect: async () => {
      await settled;
      return source.collect();
    },
  };
}
