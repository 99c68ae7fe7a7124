/**
 * What a flush reports: the failures of the exports it waited for, as one `Error` (`undefined`
 * when there were none). The specification asks `ForceFlush` to let its caller know whether it
 * succeeded; the SDK's metric reader and log processor only hand a failure to the global error
 * handler, so the processors and readers here collect their own.
 *
 * @example
 * ```ts
 * const failure = flushFailure([new Error('2 spans not exported: HTTP 503')]);
 * if (failure !== undefined) throw failure;
 * ```
 */
export function flushFailure(failures: readonly Error[]): Error | undefined {
  if (failures.length <= 1) return failures[0];
  return new AggregateError(failures, failures.map((failure) => failure.message).join('; '));
}

/**
 * The error a failed export is reported with: `what` (`2 spans not exported`, `metrics not exported
 * (http_error)`), then the exporter's reason: an error's message (kept as the cause), a text as it
 * is, or `export failed` when the exporter gave none.
 *
 * @example
 * ```ts
 * exportFailure(`${countOf(2, 'span', 'spans')} not exported`, new Error('HTTP 503')); // "2 spans not exported: HTTP 503"
 * ```
 */
export function exportFailure(what: string, reason: unknown): Error {
  if (reason instanceof Error) return new Error(`${what}: ${reason.message}`, { cause: reason });
  return new Error(`${what}: ${typeof reason === 'string' ? reason : 'export failed'}`);
}

/** `count` of a thing, singular or plural: `1 span`, `2 spans`. */
export function countOf(count: number, singular: string, plural: string): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/**
 * Export failures seen while a flush runs. `record()` is called where exports settle (and costs a
 * loop over the flushes running, usually none); `during()` runs one flush and rejects with what
 * failed meanwhile. A failure of a scheduled export that settles during the flush is reported too:
 * its data is lost all the same (spans, logs). A signal whose failed data can travel with a later
 * export (metrics: counts handed back, cumulative values superseded) passes `superseded`, asked
 * when the flush ends: a failure it says later data has carried is not reported.
 *
 * @example
 * ```ts
 * const watch = new FlushFailureWatch();
 * exporter.export(batch, (result) => { if (result.code !== ExportResultCode.SUCCESS) watch.record(new Error('...')); });
 * await watch.during(() => batchProcessor.forceFlush());
 * ```
 */
export class FlushFailureWatch {
  private readonly open = new Set<Array<{ failure: Error; superseded?: () => boolean }>>();

  /** Note a failed export for every flush running now; `superseded()` says whether a later export carried its data. */
  record(failure: Error, superseded?: () => boolean): void {
    for (const failures of this.open) failures.push({ failure, superseded });
  }

  /** Run `flush`; reject with `flushFailure` of the failures recorded meanwhile, or with its own error. */
  async during(flush: () => Promise<void>): Promise<void> {
    const failures: Array<{ failure: Error; superseded?: () => boolean }> = [];
    this.open.add(failures);
    try {
      await flush();
    } finally {
      this.open.delete(failures);
    }
    const failure = flushFailure(
      failures.filter((recorded) => recorded.superseded?.() !== true).map((recorded) => recorded.failure),
    );
    if (failure !== undefined) throw failure;
  }
}
