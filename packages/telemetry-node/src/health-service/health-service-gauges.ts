import type { HealthServicePoll, HealthServiceTelemetry } from './health-service-types.js';

/**
 * Set the `gatewayz_health_*` gauges from one poll. `seenStatuses` is the poller's memory of every
 * status it has exported: the distribution is complete, so a status that disappeared from it has no
 * models any more and reads 0 (unless /status failed: its statuses keep their last values).
 */
export function recordHealthServicePoll(
  telemetry: HealthServiceTelemetry,
  poll: HealthServicePoll,
  mentionedStatuses: ReadonlySet<string>,
  seenStatuses: Set<string>,
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
    for (const status of poll.endpoints.status.ok ? seenStatuses : []) {
      if (!mentionedStatuses.has(status)) telemetry.set('healthStatusDistribution', 0, { status });
    }
    for (const [status, count] of Object.entries(values.statusDistribution)) {
      seenStatuses.add(status);
      telemetry.set('healthStatusDistribution', count, { status });
    }
  }
  if (values.cacheAvailable !== undefined) {
    for (const [cacheType, available] of Object.entries(values.cacheAvailable)) {
      telemetry.set('healthCacheAvailable', available ? 1 : 0, { cache_type: cacheType });
    }
  }
  telemetry.set('healthServiceUp', poll.up ? 1 : 0, {});
  if (poll.ok) {
    telemetry.set('healthServiceLastSuccessfulScrape', poll.finishedAt / 1000, {});
  } else {
    telemetry.add('healthServiceScrapeErrors', 1, {});
  }
}
