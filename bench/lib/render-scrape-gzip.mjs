// Section 2b of the report: gzip of the exposition, identity vs gzip side by side (bench/sections/scrape-gzip.mjs).
import { cpuNote, fixed, int, table, times } from './report-format.mjs';

export function renderScrapeGzip(results) {
  const result = results['scrape-gzip'];
  if (!result) return '';
  const byId = Object.fromEntries(result.contenders.map((contender) => [contender.id, contender]));
  const out = [
    `### Scrape compression, ${int(result.series)} series`,
    '',
    `The same series mix and handler as above, \`createMetricsHandler({ source: exporter })\` read to the end, each scrape once identity (\`compression: 'none'\`) and once gzip (\`Accept-Encoding: gzip\`, as Prometheus sends), in ${int(result.rounds)} rounds with the order rotated. ` +
      'CPU is `process.cpuUsage()` around the scrape: the event loop plus the libuv thread pool the zlib stream runs on. Event-loop delay: `monitorEventLoopDelay` (1 ms resolution) over back-to-back scrapes of one kind.',
    '',
  ];
  const rows = [];
  for (const format of ['om', 'text']) {
    const identity = byId[`${format}-identity`];
    for (const id of [`${format}-identity`, `${format}-gzip`]) {
      const row = byId[id];
      rows.push([
        row.label,
        fixed(row.cpuUs.p50 / 1000, 2),
        fixed(row.wallMs.p50, 2),
        int(row.bytes),
        times(identity.bytes / row.bytes),
        times(row.cpuUs.p50 / identity.cpuUs.p50),
        fixed(row.loopDelay.maxMs, 1),
        fixed(row.loopDelay.p99Ms, 1),
      ]);
    }
  }
  out.push(
    table(
      [
        'Scrape',
        'CPU ms (p50)',
        'wall ms (p50)',
        'bytes on the wire',
        'smaller by',
        'CPU × identity',
        'loop delay max (ms)',
        'p99 (ms)',
      ],
      rows,
    ),
    '',
    'Small bodies (prefixes of the exposition cut at a line end, piped through the same `CompressionStream`; CPU µs p50):',
    '',
    table(
      ['Body', 'identity bytes', 'gzip bytes', 'identity CPU µs', 'gzip CPU µs'],
      Object.entries(result.smallBodies)
        .sort(([, left], [, right]) => left.chars - right.chars)
        .map(([id, body]) => [
          id === 'empty' ? 'empty category (`# no registered metrics`)' : `${int(body.chars)} characters`,
          int(body.identity.bytes),
          int(body.gzip.bytes),
          fixed(body.identity.cpuUs.p50, 0),
          fixed(body.gzip.cpuUs.p50, 0),
        ]),
    ),
    '',
    cpuNote(result),
    '',
  );
  return out.join('\n');
}
