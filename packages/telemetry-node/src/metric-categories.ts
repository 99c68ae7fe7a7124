import {
  METRIC_CATEGORIES,
  catalogEntries,
  instrumentName,
  type MetricCategory,
  type MetricDefinition,
  type MetricKey,
} from '@gatewayz/telemetry';

/**
 * Which categories each instrument belongs to, from the catalog under one prefix: the lookup behind
 * the per-category endpoints and the JSON summary.
 *
 * @example
 * ```ts
 * const index = new MetricCategoryIndex('gatewayz_');
 * index.categoriesOf('gatewayz_provider_health_score'); // ['providers']
 * serializePrometheus(resourceMetrics, { filter: index.filterFor('providers') });
 * ```
 */
export class MetricCategoryIndex {
  private readonly byInstrument = new Map<string, readonly MetricCategory[]>();
  private readonly definitions = new Map<string, { key: MetricKey; definition: MetricDefinition }>();

  /** Index the catalog with `prefix` applied to the metrics it marks as prefixed (e.g. `gatewayz_`). */
  constructor(prefix: string) {
    for (const [key, definition] of catalogEntries()) {
      const name = instrumentName(definition, prefix);
      this.byInstrument.set(name, definition.categories);
      this.definitions.set(name, { key, definition });
    }
  }

  /** Categories of an instrument; instruments outside the catalog (runtime, host, other libraries) are `system`. */
  categoriesOf(instrumentName: string): readonly MetricCategory[] {
    return this.byInstrument.get(instrumentName) ?? ['system'];
  }

  /** A filter for `serializePrometheus` keeping one category, or everything for `all`. */
  filterFor(category: MetricCategory | 'all'): ((instrumentName: string) => boolean) | undefined {
    if (category === 'all') return undefined;
    return (name) => this.categoriesOf(name).includes(category);
  }

  /** The catalog key of an instrument name, if it is ours. */
  keyOf(instrumentName: string): MetricKey | undefined {
    return this.definitions.get(instrumentName)?.key;
  }
}

/**
 * Whether a string is one of the catalog's metric categories (`system`, `providers`, `models`,
 * `business`, `performance`, `health_service`).
 *
 * @example
 * ```ts
 * const name = url.searchParams.get('category') ?? 'all';
 * const filter = isMetricCategory(name) ? index.filterFor(name) : undefined;
 * ```
 */
export function isMetricCategory(value: string): value is MetricCategory {
  return (METRIC_CATEGORIES as readonly string[]).includes(value);
}
