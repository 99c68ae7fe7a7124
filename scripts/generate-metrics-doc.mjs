// Writes docs/metrics.md from the metric catalog. Run `npm run docs:metrics` after changing
// packages/telemetry/src/metrics/catalog*.ts; a test fails while the file is stale.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMetricsMarkdown } from '../packages/telemetry/dist/metrics/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(join(root, 'docs', 'metrics.md'), renderMetricsMarkdown());
console.log('wrote docs/metrics.md');
