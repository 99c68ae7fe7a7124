// The series the scrape, OTLP push and cluster sections fill: which helper metrics, in what
// proportion, with which label values and recorded values. One place, so every section measures
// the same N series.
import { METRIC_CATALOG } from '@gatewayz/telemetry/metrics';

/** The series mix: metric key and share of all series. */
export const MIX = [
  // providers category: 10 % of the series
  { key: 'providerHealthScore', share: 0.05 },
  { key: 'providerResponseTime', share: 0.05 },
  // business
  { key: 'costByProvider', share: 0.05 },
  { key: 'tokensUsed', share: 0.25 },
  { key: 'creditsUsed', share: 0.1 },
  // models
  { key: 'modelInferenceRequests', share: 0.3 },
  { key: 'modelInferenceDuration', share: 0.1 },
  { key: 'tokenEfficiency', share: 0.1 },
];

/** Label sets of series `index` of a metric, from the catalog's label names; enumerated labels cycle through their values. */
export function labelsFor(key, index) {
  const definition = METRIC_CATALOG[key];
  const enumerated = definition.labelValues ?? {};
  const open = definition.labels.filter((label) => enumerated[label] === undefined);
  const closed = definition.labels.filter((label) => enumerated[label] !== undefined);
  // Combinations of the closed labels per open label set.
  const closedCount = closed.reduce((product, label) => product * enumerated[label].length, 1);
  const openIndex = Math.floor(index / closedCount);
  let rest = index % closedCount;
  const labels = {};
  for (const label of definition.labels) {
    if (enumerated[label] !== undefined) continue;
    if (label === 'provider')
      labels.provider = open.length === 1 ? `provider-${openIndex}` : `provider-${openIndex % 50}`;
    else if (label === 'model') labels.model = `model-${openIndex}`;
    else labels[label] = `${label}-${openIndex}`;
  }
  for (const label of closed) {
    const values = enumerated[label];
    labels[label] = values[rest % values.length];
    rest = Math.floor(rest / values.length);
  }
  return labels;
}

/**
 * Every series of the mix at `total` series, in recording order: metric key, kind, label set, its
 * index within the metric, and what the first recording writes (`amount` for a counter, `value`
 * for a gauge, `observations` for a histogram).
 *
 * @returns {Array<{ key: string, kind: 'counter' | 'gauge' | 'histogram', labels: Record<string, string>, index: number, amount: number, value: number, observations: number[] }>}
 */
export function seriesOfMix(total) {
  const series = [];
  for (const { key, share } of MIX) {
    const count = Math.round(total * share);
    const kind = METRIC_CATALOG[key].kind;
    for (let index = 0; index < count; index++) {
      const value = (index % 97) / 97;
      series.push({
        key,
        kind,
        labels: labelsFor(key, index),
        index,
        amount: 1 + index,
        value,
        observations: [0.04 + value, 1.3, 7 + value * 10],
      });
    }
  }
  return series;
}

/** Series count of each metric of the mix at `total` series. */
export function countsOfMix(total) {
  return Object.fromEntries(MIX.map(({ key, share }) => [key, Math.round(total * share)]));
}

/** Record the first values of `series` (from {@link seriesOfMix}) through the helpers. */
export function recordSeries(telemetry, series) {
  for (const entry of series) {
    if (entry.kind === 'counter') telemetry.add(entry.key, entry.amount, entry.labels);
    else if (entry.kind === 'gauge') telemetry.set(entry.key, entry.value, entry.labels);
    else for (const seconds of entry.observations) telemetry.record(entry.key, seconds, entry.labels);
  }
}

/**
 * One more recording on every series (counter +1, gauge moved, one observation), so the next delta
 * export has a point for every counter and histogram series. `round` varies the gauge values.
 */
export function bumpSeries(telemetry, series, round) {
  for (const entry of series) {
    if (entry.kind === 'counter') telemetry.add(entry.key, 1, entry.labels);
    // Stays in [0, 1): a health score above 1 would be refused (and counted as dropped).
    else if (entry.kind === 'gauge') telemetry.set(entry.key, ((entry.index + round + 1) % 97) / 97, entry.labels);
    else telemetry.record(entry.key, entry.observations[round % 3], entry.labels);
  }
}

/** Throws unless the helpers hold exactly the mix's series count of every metric, with nothing folded into `other`. */
export function assertSeriesCounts(telemetry, total) {
  for (const [key, count] of Object.entries(countsOfMix(total))) {
    if (telemetry.seriesCount(key) !== count)
      throw new Error(`${key}: expected ${count} series, have ${telemetry.seriesCount(key)}`);
  }
  if (telemetry.seriesCount('telemetryLabelOverflow') !== 0)
    throw new Error('helpers folded series into "other"; raise maxSeriesPerMetric');
}
