import { diag } from '@opentelemetry/api';
import { peekTelemetry } from '@gatewayz/telemetry';
import type { ExpositionDrop } from '../exposition/exposition-families.js';

/** Enough for every instrument an application could clash; beyond it drops are no longer reported. */
const MAX_REPORTED = 1000;

/**
 * An `onDrop` for the serializers that reports each dropped instrument once per format, not once per
 * scrape: a `diag.warn` naming the instrument, its scope and the fix, and one count in
 * `gatewayz_telemetry_dropped_total{reason="exposition_name_conflict"|"exposition_duplicate_series",metric=<family>}`
 * (under its prefix) of the shared `GatewayTelemetry` (the one `startTelemetry()` binds), when there is one.
 */
export function reportExpositionDropsOnce(): (drop: ExpositionDrop) => void {
  const reported = new Set<string>();
  return (drop) => {
    const key = `${drop.format}\u0000${drop.reason}\u0000${drop.scope}\u0000${drop.instrument}`;
    if (reported.has(key) || reported.size >= MAX_REPORTED) return;
    reported.add(key);
    const reason = `exposition_${drop.reason}` as const;
    const telemetry = peekTelemetry();
    telemetry?.add('telemetryDropped', 1, { reason, metric: drop.family });
    // The series as scraped: the instance's prefix, and `_total` as the exposition adds to a counter.
    const counted =
      telemetry === undefined
        ? ''
        : ` Counted once in ${telemetry.metricName('telemetryDropped')}_total{reason="${reason}"}.`;
    const what =
      drop.reason === 'name_conflict'
        ? `its family name "${drop.family}" or one of its sample names is already written by another family of another type`
        : `an instrument of another scope already wrote a series with the same labels into family "${drop.family}"`;
    diag.warn(
      `@gatewayz/telemetry-node: instrument "${drop.instrument}" of scope "${drop.scope}" left out of the ${drop.format === 'openmetrics' ? 'OpenMetrics' : 'Prometheus text'} exposition: ${what}. Rename the instrument (or add distinguishing attributes).${counted}`,
    );
  };
}
