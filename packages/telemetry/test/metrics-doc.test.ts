import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_CATALOG, prometheusName, renderMetricsMarkdown, type MetricDefinition } from '../src/metrics/index.js';

const docPath = join(__dirname, '..', '..', '..', 'docs', 'metrics.md');

describe('docs/metrics.md', () => {
  it('is generated from the current catalog (run `npm run docs:metrics` when this fails)', () => {
    expect(readFileSync(docPath, 'utf8')).toBe(renderMetricsMarkdown());
  });

  it('names the files the catalog really lives in', () => {
    const named = /\(`packages\/telemetry\/(src\/[^`]+)`\)/.exec(renderMetricsMarkdown())?.[1];
    expect(named).toBeDefined();
    const folder = join(__dirname, '..', named!.slice(0, named!.lastIndexOf('/')));
    const pattern = new RegExp(
      `^${named!
        .slice(named!.lastIndexOf('/') + 1)
        .replace('.', '\\.')
        .replace('*', '.*')}$`,
    );
    const files = readdirSync(folder).filter((file) => pattern.test(file));
    expect(files).toContain('catalog.ts');
    expect(files.length).toBeGreaterThan(1);
  });

  it('lists every catalog metric under its exposed name', () => {
    const markdown = renderMetricsMarkdown();
    for (const definition of Object.values(METRIC_CATALOG) as MetricDefinition[]) {
      expect(markdown).toContain(`\`${prometheusName(definition)}\``);
    }
  });

  it('uses the configured prefix in names and query examples', () => {
    const markdown = renderMetricsMarkdown({ prefix: 'acme_' });
    expect(markdown).toContain('`acme_provider_health_score`');
    expect(markdown).toContain('acme_cost_by_provider_total');
    expect(markdown).not.toContain('gatewayz_provider_health_score');
  });
});
