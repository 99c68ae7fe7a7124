import { METRIC_CATEGORIES, catalogEntries, instrumentName, type MetricCategory } from '@gatewayz/telemetry/metrics';

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
  /** The prefix the catalog's prefixed metrics carry (e.g. `gatewayz_`). */
  readonly prefix: string;
  private readonly byInstrument = new Map<string, readonly MetricCategory[]>();

  /** Index the catalog with `prefix` applied to the metrics it marks as prefixed (e.g. `gatewayz_`). */
  constructor(prefix: string) {
    this.prefix = prefix;
    for (const [, definition] of catalogEntries()) {
      this.byInstrument.set(instrumentName(definition, prefix), definition.categories);
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
