import { diag } from '@opentelemetry/api';
import { TelemetryConfigurationError, requireOptionsObject } from '../errors.js';
import { getTelemetry } from '../metrics/shared-telemetry.js';
import { providerHealthScore } from './health-score.js';
import { HourlyWindow, UPTIME_WINDOW_HOURS } from './hourly-window.js';
import { MAX_TIMER_DELAY_MS, startPeriodicTask, systemClock } from '../scheduling/periodic-task.js';
import {
  TRACKER_CLOCK_METHODS,
  TRACKER_CLOCK_OPTIONAL_METHODS,
  requireClockOption,
  requireTelemetryOption,
} from '../option-checks.js';
import type { ModelHealthRecord } from '../model-health/model-health-store.js';
import { recordFigureProblem } from './record-figure-problem.js';
import type {
  ProviderHealthSnapshot,
  ProviderHealthTracker,
  ProviderHealthTrackerOptions,
} from './provider-health-tracker-options.js';

export type {
  ProviderHealthSnapshot,
  ProviderHealthTracker,
  ProviderHealthTrackerOptions,
} from './provider-health-tracker-options.js';

interface Counts {
  calls: number;
  successes: number;
  errors: number;
  totalResponseMs: number;
}

/** A model's new calls since the last tick (all providers) and its 24 h uptime window. */
interface ModelState {
  calls: number;
  successes: number;
  /** The aggregation pass `calls` and `successes` belong to. */
  pass: number;
  readonly window: HourlyWindow;
  /** Not through the uptime loop yet: its first figure is set even without new calls. */
  fresh: boolean;
  /** Hour (since the epoch) of the last pass that saw a record of this model. */
  lastSeenHour: number;
}

/**
 * Counts a (provider, model) had at the last completed tick, with its model's state. A pass stages
 * what it reads and commits it on completion: calls read by a pass that failed half-way (a paging
 * source whose next page failed) are counted by the next pass instead of lost.
 */
interface ModelCounts extends Counts {
  readonly model: ModelState;
  /** Hour (since the epoch) of the last pass that saw this record. */
  lastSeenHour: number;
  /** The counts the pass `stagedPass` read. */
  readonly staged: Counts;
  stagedPass: number;
}

/** Per provider: its models' previous counts, and this tick's totals and deltas. */
interface ProviderState {
  readonly models: Map<string, ModelCounts>;
  /** The aggregation pass these totals belong to; -1 before the first. */
  tick: number;
  modelCount: number;
  readonly total: Counts;
  readonly delta: Counts;
}

function zeroCounts(): Counts {
  return { calls: 0, successes: 0, errors: 0, totalResponseMs: 0 };
}

function resetCounts(counts: Counts): void {
  counts.calls = 0;
  counts.successes = 0;
  counts.errors = 0;
  counts.totalResponseMs = 0;
}

const HOUR_MS = 3_600_000;

/** A record's `createdAt` in ms, NaN when a source gave none (JavaScript callers). */
const createdMs = (r: ModelHealthRecord): number => (r.createdAt as Date | undefined)?.getTime?.() ?? Number.NaN;

/**
 * Start a background loop that, every `intervalMs` (default 30 s), reads per-model health from
 * `source`, aggregates it per provider and sets `provider_availability`, `provider_error_rate` and
 * `gatewayz_provider_health_score`, and per model `gatewayz_model_uptime_24h`. Availability,
 * error rate and response time cover the calls made since the previous tick; a provider without
 * calls since then keeps the figures of its last interval with calls (on the first tick: all
 * recorded calls). Available means at least one call succeeded. The uptime window counts the calls
 * made since the tracker started: until a tick completes, a record the store created before the
 * tracker started (a restart over a persistent store) gives its counts then as a baseline, so a
 * model's lifetime never lands in the current hour. After that, a record a tick reads for the first
 * time was created since the tick before: all its calls are new, whatever its `createdAt` and the
 * wall clock say, so a step of the wall clock back cannot make a new model's first calls a baseline.
 * A model without any call in the last 24 hours has no `gatewayz_model_uptime_24h` series (it is
 * removed). State kept for a model that no tick has seen for more than 24 hours (deleted by
 * retention, renamed) is dropped, so memory follows the models that exist, and so are its uptime
 * series and, for a provider none of whose records was seen for that long, its three provider
 * gauges; if it comes back, it starts over as a record first seen. A record whose counts are not
 * whole numbers >= 0, or whose mean response time is not a number >= 0 or null, is skipped, counted in
 * `gatewayz_telemetry_dropped_total{reason,metric="gatewayz_provider_health_score"}` and warned
 * about once per reason; the other records are aggregated as usual (with `onInvalidInput: 'throw'`
 * the tick fails instead). A failing tick is logged and counted in
 * `gatewayz_provider_health_tracker_errors_total`; the next tick still runs. The timer is unref'd, so
 * it does not keep the process alive; `stop()` waits for a tick in flight. Throws a
 * `TelemetryConfigurationError` for invalid options (see `ProviderHealthTrackerOptions`).
 *
 * @example
 * ```ts
 * const tracker = startProviderHealthTracker({ source: modelHealthStore });
 * // ... on shutdown
 * await tracker.stop();
 * ```
 */
export function startProviderHealthTracker(options: ProviderHealthTrackerOptions): ProviderHealthTracker {
  requireOptionsObject(options, 'options', 'an object with at least `source`');
  const intervalMs = options.intervalMs ?? 30_000;
  // Above the longest timer delay, Node.js fires after 1 ms: the store would be read continuously.
  if (typeof intervalMs !== 'number' || !(intervalMs >= 10 && intervalMs <= MAX_TIMER_DELAY_MS)) {
    throw new TelemetryConfigurationError(
      'intervalMs',
      `expected from 10 to ${MAX_TIMER_DELAY_MS} milliseconds (about 24.8 days, the longest delay a timer keeps), got ${String(options.intervalMs)}`,
    );
  }
  if (typeof options.source?.listAllModelHealth !== 'function') {
    throw new TelemetryConfigurationError('source', 'expected a model-health store with a listAllModelHealth() method');
  }
  requireClockOption(options.clock, 'clock', TRACKER_CLOCK_METHODS, TRACKER_CLOCK_OPTIONAL_METHODS);
  requireTelemetryOption(options.telemetry, 'telemetry');
  const clock = options.clock ?? systemClock;
  const telemetry = options.telemetry ?? getTelemetry();
  // Calls of a record the store created before this were made at times the tracker cannot know.
  const startedAt = clock.now();
  /** Whether a pass has completed: from then on, a record not read before is new. */
  let baselineRead = false;
  // Per provider: the counts each model had at the previous tick, and this tick's running totals.
  // Per model name: this tick's new calls and its 24 h uptime window (one figure per model, even
  // when several providers serve it). Both are kept between ticks and reset, not reallocated, so a
  // tick over 10 000 models does two Map lookups per record and allocates nothing for known models.
  const providerStates = new Map<string, ProviderState>();
  const modelStates = new Map<string, ModelState>();
  let snapshot: ProviderHealthSnapshot[] = [];
  let byProvider = new Map<string, ProviderHealthSnapshot>();
  let ticks = 0;
  let failures = 0;
  let aggregations = 0;
  let prunedHour = -1;
  /** Records read by the pass under way, whose staged counts it commits when it completes. */
  const touched: ModelCounts[] = [];

  /** One aggregation: `visit` every record, then `finish` computes the snapshot and sets gauges. */
  const startPass = (): { visit: (record: ModelHealthRecord) => void; finish: () => ProviderHealthSnapshot[] } => {
    // Identifies this pass, so provider totals from a pass that threw are never added to.
    const pass = ++aggregations;
    const hour = Math.floor(clock.now() / HOUR_MS);
    const active: Array<[string, ProviderState]> = [];
    const visit = (record: ModelHealthRecord): void => {
      // A source's bad figure would turn its provider's sums into NaN or throw in the score: skip it.
      const problem = recordFigureProblem(record);
      if (problem !== undefined) {
        telemetry.drop(telemetry.states.providerHealthScore, problem.reason, problem.message);
        return;
      }
      const calls = record.callCount;
      const totalResponseMs = (record.avgResponseTimeMs ?? 0) * calls;
      let provider = providerStates.get(record.provider);
      if (provider === undefined) {
        provider = {
          models: new Map<string, ModelCounts>(),
          tick: -1,
          modelCount: 0,
          total: zeroCounts(),
          delta: zeroCounts(),
        };
        providerStates.set(record.provider, provider);
      }
      if (provider.tick !== pass) {
        provider.tick = pass;
        provider.modelCount = 0;
        resetCounts(provider.total);
        resetCounts(provider.delta);
        active.push([record.provider, provider]);
      }
      let before = provider.models.get(record.model);
      if (before === undefined) {
        let model = modelStates.get(record.model);
        if (model === undefined) {
          model = { calls: 0, successes: 0, pass, window: new HourlyWindow(), fresh: true, lastSeenHour: hour };
          modelStates.set(record.model, model);
        }
        // Spelled out: built by an object spread, 10 000 of these made each tick ~6× slower.
        before = {
          calls: 0,
          successes: 0,
          errors: 0,
          totalResponseMs: 0,
          model,
          lastSeenHour: hour,
          staged: zeroCounts(),
          stagedPass: -1,
        };
        provider.models.set(record.model, before);
        // Older than the tracker (or no creation time), read before a pass completed: calls at
        // unknown times, so a baseline. After one, a record not read before was created since (or
        // forgotten after a day unseen): the wall clock, which may have stepped back, is not asked.
        if (!baselineRead && !(createdMs(record) >= startedAt)) {
          before.calls = calls;
          before.successes = record.successCount;
          before.errors = record.errorCount;
          before.totalResponseMs = totalResponseMs;
        }
      }
      // Against the last completed pass (or this pass's earlier read of the same record).
      const base: Counts = before.stagedPass === pass ? before.staged : before;
      if (before.stagedPass !== pass) touched.push(before);
      // A store that was reset reports fewer calls than before: the new counts are then the delta.
      const reset = calls < base.calls;
      const deltaCalls = reset ? calls : calls - base.calls;
      const deltaSuccesses = reset ? record.successCount : record.successCount - base.successes;
      const deltaErrors = reset ? record.errorCount : record.errorCount - base.errors;
      const deltaResponseMs = reset ? totalResponseMs : totalResponseMs - base.totalResponseMs;
      before.stagedPass = pass;
      before.staged.calls = calls;
      before.staged.successes = record.successCount;
      before.staged.errors = record.errorCount;
      before.staged.totalResponseMs = totalResponseMs;
      before.lastSeenHour = hour;

      const model = before.model;
      if (model.pass !== pass) {
        model.pass = pass;
        model.calls = 0;
        model.successes = 0;
        model.lastSeenHour = hour;
      }
      model.calls += deltaCalls;
      model.successes += deltaSuccesses;

      provider.modelCount += 1;
      provider.total.calls += calls;
      provider.total.successes += record.successCount;
      provider.total.errors += record.errorCount;
      provider.total.totalResponseMs += totalResponseMs;
      provider.delta.calls += deltaCalls;
      provider.delta.successes += deltaSuccesses;
      provider.delta.errors += deltaErrors;
      provider.delta.totalResponseMs += deltaResponseMs;
    };
    touched.length = 0;
    return {
      visit,
      finish: () => {
        const result = finishPass(pass, hour, active);
        baselineRead = true;
        // The pass completed: what it read is the reference of the next one.
        for (const counts of touched) {
          counts.calls = counts.staged.calls;
          counts.successes = counts.staged.successes;
          counts.errors = counts.staged.errors;
          counts.totalResponseMs = counts.staged.totalResponseMs;
        }
        touched.length = 0;
        return result;
      },
    };
  };

  /**
   * Forget what no pass has seen for longer than the uptime window: records deleted from the store
   * (retention) or renamed models. Without this, a long-running gateway with changing model names
   * would keep state for every name it ever saw. Runs once per hour. A record that comes back
   * later starts over: its counts at that point are all new calls.
   */
  const prune = (hour: number): void => {
    const stale = (lastSeenHour: number): boolean => hour - lastSeenHour > UPTIME_WINDOW_HOURS;
    for (const [provider, state] of providerStates) {
      for (const [model, counts] of state.models) if (stale(counts.lastSeenHour)) state.models.delete(model);
      if (state.models.size === 0) {
        providerStates.delete(provider);
        byProvider.delete(provider);
        // Its figures describe calls over a day old: stop reporting them (breaker series are the binding's).
        telemetry.removeGaugeSeries('providerHealthScore', { provider });
        telemetry.removeGaugeSeries('providerAvailability', { provider });
        telemetry.removeGaugeSeries('providerErrorRate', { provider });
      }
    }
    for (const [model, state] of modelStates)
      if (stale(state.lastSeenHour)) {
        modelStates.delete(model);
        telemetry.removeGaugeSeries('modelUptime24h', { model });
      }
  };

  const finishPass = (
    pass: number,
    hour: number,
    active: ReadonlyArray<[string, ProviderState]>,
  ): ProviderHealthSnapshot[] => {
    if (hour !== prunedHour) {
      prunedHour = hour;
      prune(hour);
    }
    for (const [model, figures] of modelStates) {
      const { window } = figures;
      // Calls counted in this pass only (a model without records now has none).
      const calls = figures.pass === pass ? figures.calls : 0;
      const successes = figures.pass === pass ? figures.successes : 0;
      // Most models of a large registry had no call since the last tick: their uptime stands.
      if (figures.fresh) figures.fresh = false;
      else if (calls === 0 && window.unchangedWithoutCalls(hour)) continue;
      window.add(hour, calls, successes);
      const uptime = window.uptime();
      // No call in the last 24 hours: there is no uptime over them to report.
      if (uptime !== undefined) telemetry.setModelUptime24h(model, uptime);
      else telemetry.removeGaugeSeries('modelUptime24h', { model });
    }

    const result: ProviderHealthSnapshot[] = [];
    for (const [provider, entry] of active) {
      const windowed = entry.delta.calls > 0;
      const before = byProvider.get(provider);
      let availability: number;
      let errorRate: number;
      let responseTimeSeconds: number | null;
      if (windowed) {
        availability = entry.delta.successes > 0 ? 1 : 0;
        errorRate = clamp01(entry.delta.errors / entry.delta.calls);
        responseTimeSeconds = Math.max(0, entry.delta.totalResponseMs / entry.delta.calls / 1000);
      } else if (before !== undefined) {
        // No calls since the previous tick: the last interval with traffic still stands.
        ({ availability, errorRate, responseTimeSeconds } = before);
      } else {
        availability = entry.total.successes > 0 ? 1 : 0;
        errorRate = entry.total.calls > 0 ? clamp01(entry.total.errors / entry.total.calls) : 0;
        responseTimeSeconds =
          entry.total.calls > 0 ? Math.max(0, entry.total.totalResponseMs / entry.total.calls / 1000) : null;
      }
      const healthScore = providerHealthScore({
        availability,
        errorRate,
        responseTimeSeconds: responseTimeSeconds ?? 0,
      });
      telemetry.setProviderAvailability(provider, availability);
      telemetry.setProviderErrorRate(provider, errorRate);
      telemetry.setProviderHealthScore(provider, healthScore);
      result.push({
        provider,
        models: entry.modelCount,
        availability,
        errorRate,
        responseTimeSeconds,
        healthScore,
        windowed,
      });
    }
    result.sort((a, b) => b.healthScore - a.healthScore || a.provider.localeCompare(b.provider));
    return result;
  };

  const runTick = async (): Promise<readonly ProviderHealthSnapshot[]> => {
    try {
      const { source } = options;
      const pass = startPass();
      // A source that can visit its records in place saves a copy of every record per tick.
      if (typeof source.forEachModelHealth === 'function') await source.forEachModelHealth(pass.visit);
      else for (const record of await source.listAllModelHealth()) pass.visit(record);
      snapshot = pass.finish();
      byProvider = new Map(snapshot.map((entry) => [entry.provider, entry]));
      ticks += 1;
    } catch (error) {
      failures += 1;
      telemetry.add('providerHealthTrackerErrors', 1, {});
      diag.error(
        '@gatewayz/telemetry: provider health tracker tick failed; the next tick will run as scheduled',
        error,
      );
    }
    return snapshot;
  };

  const task = startPeriodicTask(runTick, { intervalMs, clock, runImmediately: options.runImmediately !== false });

  return {
    stop: task.stop,
    tick: task.tick,
    snapshot: () => snapshot,
    healthScore: (provider) => byProvider.get(provider)?.healthScore,
    toJSON: () => ({ intervalMs, ticks, failures, trackedModels: modelStates.size, providers: snapshot }),
  };
}

function clamp01(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}
