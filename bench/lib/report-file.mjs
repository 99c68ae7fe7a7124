// Writing the rendered report: docs/benchmarks.md ends in hand-written addenda (re-runs, probes,
// what a figure is made of), linked from other docs, which a re-render must not delete.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const ADDENDUM = /^## Addendum/m;

/**
 * `report` followed by the addenda of `previous` (the file's text before): everything from its
 * first line starting with `## Addendum` to the end. `report` alone when there are none.
 *
 * @example
 * withAddenda('# Benchmarks\n\nnew\n', '# Benchmarks\n\nold\n\n## Addendum: a re-run\n\ntext\n');
 * // → '# Benchmarks\n\nnew\n\n## Addendum: a re-run\n\ntext\n'
 */
export function withAddenda(report, previous) {
  const at = previous?.search(ADDENDUM) ?? -1;
  if (at < 0) return report;
  return `${report.trimEnd()}\n\n${previous.slice(at)}`;
}

/** Writes `report` to `path`, keeping the addenda of the file already there. */
export function writeReport(path, report) {
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  writeFileSync(path, withAddenda(report, previous));
}
