import type { HealthServicePoll, HealthServiceTelemetry } from './health-service-types.js';
import type { MentionedLabels } from './health-service-reader.js';

/** Every status and cache type a poller has exported, so one the service stops listing reads 0. */
export interface SeenLabels {
  readonly statuses: Set<string>;
  readonly caches: Set<string>;
}

/**
 * Set the `gatewayz_health_*` gauges from one poll. `seen` is the poller's memory of every status
 * and cache type it has exported. The distribution is complete, so a status that disappeared from it
 * has no models any more and reads 0 (unless /status failed: its statuses keep their last values).
 * Likewise a cache that /cache/stats no longer lists, or lists without an availability field (e.g.
 * `{ "redis": { "error": "connection refused" } }`), reads 0, unavailable; while /cache/stats fails
 * every cache keeps its last value.
 */
export function recordHealthServicePoll(
  telemetry: HealthServiceTelemetry,
  poll: HealthServicePoll,
  mentioned: MentionedLabels,
  seen: SeenLabels,
): void {
  const { values } = poll;
  if (values.monitoringActive !== undefined)
    telemetry.set('healthMonitoringActive', values.monitoringActive ? 1 : 0, {});
  if (values.trackedModels !== undefined) telemetry.set('healthTrackedModels', values.trackedModels, {});
  if (values.trackedProviders !== undefined) telemetry.set('healthTrackedProviders', values.trackedProviders, {});
  if (values.trackedGateways !== undefined) telemetry.set('healthTrackedGateways', values.trackedGateways, {});
  if (values.activeIncidents !== undefined) telemetry.set('healthActiveIncidents', values.activeIncidents, {});
  if (values.statusDistribution !== undefined) {
    // The distribution is complete: a status that disappeared from it has no models any more.
    // A status listed with an unusable count keeps its last value instead; so does every status
    // while /status fails (the `*_models` counts of /metrics that stand in for it are partial).
    for (const status of poll.endpoints.status.ok ? seen.statuses : []) {
      if (!mentioned.statuses.has(status)) telemetry.set('healthStatusDistribution', 0, { status });
    }
    for (const [status, count] of Object.entries(values.statusDistribution)) {
      seen.statuses.add(status);
      telemetry.set('healthStatusDistribution', count, { status });
    }
  }
  // A cache listed with an unusable availability value keeps its last value, as a status does.
  for (const cacheType of poll.endpoints.cacheStats.ok ? seen.caches : []) {
    if (!mentioned.caches.has(cacheType)) telemetry.set('healthCacheAvailable', 0, { cache_type: cacheType });
  }
  for (const [cacheType, available] of Object.entries(values.cacheAvailable ?? {})) {
    seen.caches.add(cacheType);
    telemetry.set('healthCacheAvailable', available ? 1 : 0, { cache_type: cacheType });
  }
  telemetry.set('healthServiceUp', poll.up ? 1 : 0, {});
  if (poll.ok) {
    telemetry.set('healthServiceLastSuccessfulScrape', poll.finishedAt / 1000, {});
  } else {
    telemetry.add('healthServiceScrapeErrors', 1, {});
  }
}
