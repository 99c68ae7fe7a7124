/**
 * How long the cluster primary (run-cluster.ts) lets its workers shut down before it kills them:
 * `WORKER_KILL_TIMEOUT_MS`, or a deadline derived from the budget a worker's own shutdown has.
 */
import { GatewayConfigError } from '../config-error.js';
import { CUT_REQUESTS_GRACE_MS } from './gateway.js';

/** The derived deadline is never shorter than this (the fixed deadline of earlier versions). */
export const MIN_DERIVED_WORKER_KILL_TIMEOUT_MS = 20_000;
/** Room for the rest of a worker's shutdown: tracker, API-key usage, process exit. */
const MARGIN_MS = 5_000;
/** OTLP exporters' default request timeout (`OTEL_EXPORTER_OTLP_TIMEOUT` unset). */
const DEFAULT_OTLP_TIMEOUT_MS = 10_000;
/** What bounds a flush when an OTLP timeout is `0` (no limit): the batch processors' export timeout. */
const UNLIMITED_OTLP_FLUSH_MS = 30_000;
const OTLP_TIMEOUT_VARIABLES = [
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
  'OTEL_EXPORTER_OTLP_LOGS_TIMEOUT',
] as const;
const MIN_WORKER_KILL_TIMEOUT_MS = 1_000;
const MAX_WORKER_KILL_TIMEOUT_MS = 3_600_000;

/**
 * The longest one telemetry flush on shutdown can take: the largest OTLP request timeout
 * configured (spans, metrics and logs flush side by side), 10 s by default, 30 s for `0` (no
 * limit). Values the exporters ignore (not a non-negative integer) are ignored here too.
 */
function otlpFlushBudgetMs(env: NodeJS.ProcessEnv): number {
  let budget = DEFAULT_OTLP_TIMEOUT_MS;
  for (const name of OTLP_TIMEOUT_VARIABLES) {
    const raw = env[name]?.trim();
    if (raw === undefined || !/^\+?\d+$/.test(raw)) continue;
    const value = Number(raw);
    budget = Math.max(budget, value === 0 ? UNLIMITED_OTLP_FLUSH_MS : Math.min(value, UNLIMITED_OTLP_FLUSH_MS));
  }
  return budget;
}

/**
 * `WORKER_KILL_TIMEOUT_MS` (a whole number of milliseconds from 1000 to 3600000) when set.
 * Otherwise derived from a worker's worst-case graceful shutdown, at least 20 s:
 * `2 × shutdownTimeoutMs` (the HTTP drain, then the model-health recorder's close) `+ 2 s` (the
 * cut requests' grace) `+` the largest OTLP timeout (the span, metric and log flush) `+ 5 s`.
 * With the defaults: 2 × 10 s + 2 s + 10 s + 5 s = 37 s.
 * @throws GatewayConfigError when `WORKER_KILL_TIMEOUT_MS` is set but not such a number.
 */
export function loadWorkerKillTimeoutMs(env: NodeJS.ProcessEnv, shutdownTimeoutMs: number): number {
  const raw = env['WORKER_KILL_TIMEOUT_MS']?.trim();
  if (raw !== undefined && raw !== '') {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < MIN_WORKER_KILL_TIMEOUT_MS || value > MAX_WORKER_KILL_TIMEOUT_MS) {
      throw new GatewayConfigError(
        `WORKER_KILL_TIMEOUT_MS must be a whole number of milliseconds from ${MIN_WORKER_KILL_TIMEOUT_MS} to ${MAX_WORKER_KILL_TIMEOUT_MS} (unset it to derive it from SHUTDOWN_TIMEOUT_MS and OTEL_EXPORTER_OTLP_TIMEOUT), got "${env['WORKER_KILL_TIMEOUT_MS']}"`,
      );
    }
    return value;
  }
  const derived = 2 * shutdownTimeoutMs + CUT_REQUESTS_GRACE_MS + otlpFlushBudgetMs(env) + MARGIN_MS;
  return Math.max(MIN_DERIVED_WORKER_KILL_TIMEOUT_MS, derived);
}
