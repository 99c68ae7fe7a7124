import type { Attributes } from '@opentelemetry/api';
import type { MetricData, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';

/**
 * Why an exposition left an instrument's data out (see `SerializeOptions.onDrop`):
 * - `name_conflict`: its family name, or a sample name it would write (`_total`, `_created`,
 *   `_bucket`, `_count`, `_sum`), is already taken by a family of another type;
 * - `duplicate_series`: an instrument of another scope, merged into the same family, already wrote
 *   a series with the same labels.
 *
 * @example
 * ```ts
 * const reason: ExpositionDropReason = 'name_conflict';
 * ```
 */
export type ExpositionDropReason = 'name_conflict' | 'duplicate_series';

/**
 * What an exposition left out, reported through `SerializeOptions.onDrop`. The first family of a name
 * is kept; later instruments that cannot join it are dropped (every scrape, reported each time).
 *
 * @example
 * ```ts
 * const onDrop = (drop: ExpositionDrop): void => console.warn(`${drop.family} (${drop.scope}): ${drop.reason}`);
 * serializeOpenMetrics(resourceMetrics, { onDrop });
 * ```
 */
export interface ExpositionDrop {
  /** Why it was left out: a name taken by another family, or a series another scope already wrote. */
  readonly reason: ExpositionDropReason;
  /** The family name the dropped instrument would have been written under. */
  readonly family: string;
  /** The instrument's name as the application registered it. */
  readonly instrument: string;
  /** Name of the instrumentation scope (meter) the instrument belongs to. */
  readonly scope: string;
  /** Which exposition: the classic text format or OpenMetrics (their sample names differ). */
  readonly format: 'prometheus' | 'openmetrics';
}

/** One instrument's contribution to a family. */
export interface FamilyPart {
  readonly metric: MetricData;
  readonly scope: ScopeMetrics['scope'];
}

/** A metric family as it is written: one name, one type, the instruments of every scope that share them. */
export interface ExpositionFamily {
  readonly name: string;
  readonly type: string;
  readonly parts: FamilyPart[];
}

/** Sample-name suffixes each family type writes, per format (besides its own name). */
const SUFFIXES: Record<'prometheus' | 'openmetrics', Record<string, readonly string[]>> = {
  prometheus: { histogram: ['_bucket', '_count', '_sum'] },
  openmetrics: { counter: ['_total', '_created'], histogram: ['_bucket', '_count', '_sum', '_created'] },
};

/**
 * Group the collected metrics into the families an exposition writes. Instruments of different
 * scopes whose names sanitise to one family name and whose types agree become one family (one
 * `# HELP`/`# TYPE`, the first instrument's description): the classic format used to write the
 * family twice (an invalid exposition) and OpenMetrics kept only the first scope's. An instrument
 * whose family, or one of its sample names, collides with a family of another type (a gauge
 * `jobs_created` beside a counter `jobs` in OpenMetrics, a gauge `latency_count` beside a histogram
 * `latency`) is left out and reported through `onDrop`: the first family of a name wins.
 */
export function expositionFamilies(
  resourceMetrics: ResourceMetrics,
  format: 'prometheus' | 'openmetrics',
  nameOf: (metric: MetricData) => string,
  typeOf: (metric: MetricData) => string,
  filter: ((instrumentName: string) => boolean) | undefined,
  onDrop: ((drop: ExpositionDrop) => void) | undefined,
  targetInfo: boolean,
): ExpositionFamily[] {
  const families = new Map<string, ExpositionFamily>();
  // Every sample name written so far, with the family that writes it.
  const owners = new Map<string, string>();
  if (targetInfo) {
    owners.set('target_info', '');
    if (format === 'openmetrics') owners.set('target', '');
  }
  for (const scopeMetrics of resourceMetrics.scopeMetrics) {
    for (const metric of scopeMetrics.metrics) {
      if (filter !== undefined && !filter(metric.descriptor.name)) continue;
      const name = nameOf(metric);
      if (name === '' || name === '_') continue;
      const type = typeOf(metric);
      const existing = families.get(name);
      if (existing !== undefined && existing.type === type) {
        existing.parts.push({ metric, scope: scopeMetrics.scope });
        continue;
      }
      const samples = [name, ...(SUFFIXES[format][type] ?? []).map((suffix) => `${name}${suffix}`)];
      if (existing !== undefined || samples.some((sample) => owners.has(sample))) {
        onDrop?.({
          reason: 'name_conflict',
          family: name,
          instrument: metric.descriptor.name,
          scope: scopeMetrics.scope.name,
          format,
        });
        continue;
      }
      for (const sample of samples) owners.set(sample, name);
      families.set(name, { name, type, parts: [{ metric, scope: scopeMetrics.scope }] });
    }
  }
  return [...families.values()];
}

/**
 * For a family merged from several scopes: whether a series (its label text) was already written by
 * an earlier part, in which case it is reported and skipped (two samples of one series in a scrape:
 * Prometheus keeps one of them at random and counts the other as a duplicate).
 */
export class SeriesOfFamily {
  private readonly seen = new Set<string>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly family: ExpositionFamily,
    private readonly format: 'prometheus' | 'openmetrics',
    private readonly onDrop: ((drop: ExpositionDrop) => void) | undefined,
  ) {}

  /** False when the series was written already (then reported once per part). */
  admit(part: FamilyPart, labels: string): boolean {
    if (this.family.parts.length === 1) return true;
    if (!this.seen.has(labels)) {
      this.seen.add(labels);
      return true;
    }
    const key = `${part.scope.name}\u0000${part.scope.version ?? ''}\u0000${part.metric.descriptor.name}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.onDrop?.({
        reason: 'duplicate_series',
        family: this.family.name,
        instrument: part.metric.descriptor.name,
        scope: part.scope.name,
        format: this.format,
      });
    }
    return false;
  }
}

/** The `otel_scope_*` labels of a scope (`withScopeInfo`). */
export function scopeAttributes(scope: ScopeMetrics['scope'], withSchemaUrl: boolean): Attributes {
  const attributes: Attributes = { otel_scope_name: scope.name };
  if (withSchemaUrl && scope.schemaUrl) attributes['otel.scope.schema_url'] = scope.schemaUrl;
  if (scope.version) attributes['otel_scope_version'] = scope.version;
  return attributes;
}
