/**
 * The primary of `GATEWAY_WORKERS=N`: it forks N gateway workers that share one port, answers
 * their scrapes with the aggregate of all of them (`startClusterPrimary`), keeps the in-memory
 * model-health store they share, runs the demo's simulated providers and traffic once, replaces a
 * worker that dies, and on SIGTERM stops the workers and waits for them.
 */
import cluster, { type Worker } from 'node:cluster';
import { MemoryModelHealthStore } from '@gatewayz/telemetry/model-health';
import { monotonicNow } from '@gatewayz/telemetry/scheduling';
import { StructuredLogger, isLogLevel, startClusterPrimary } from '@gatewayz/telemetry-node';
import { startApiKeyUsageExchange } from '../api-keys/cluster-usage.js';
import {
  loadContextManagerChoice,
  loadDemoSettings,
  loadGatewaySettings,
  loadHealthServiceIntervalMs,
  loadHealthServiceUrl,
  loadSupabaseSettings,
} from '../config.js';
import { startDemoProviders, type DemoProviders } from '../providers/demo-providers.js';
import { startDemoTraffic, type DemoTraffic } from '../demo-traffic.js';
import { CLUSTER_PROVIDERS_VARIABLE, demoCallers, providersConfigured, resolveProviders } from './run-gateway.js';
import { loadWorkerKillTimeoutMs } from './worker-kill-timeout.js';

/** More restarts than this within {@link RESTART_WINDOW_MS} is a crash loop: the gateway stops. */
const MAX_RESTARTS = 10;
const RESTART_WINDOW_MS = 60_000;

/**
 * Counts worker restarts over the last `windowMs` milliseconds: each call notes one restart and
 * returns how many the window holds. The window runs on a monotonic clock: stepped back (NTP
 * correcting it, a VM resumed), the wall clock would keep restarts of the past hour in the window
 * and stop a gateway whose workers died now and then; stepped forward, it would hide a crash loop.
 *
 * @example
 * ```ts
 * const restarted = restartCounter();
 * if (restarted() > MAX_RESTARTS) stop();
 * ```
 */
export function restartCounter(windowMs = RESTART_WINDOW_MS, now: () => number = monotonicNow): () => number {
  const restarts: number[] = [];
  return () => {
    const at = now();
    restarts.push(at);
    while (restarts.length > 0 && (restarts[0] as number) < at - windowMs) restarts.shift();
    return restarts.length;
  };
}

/** Run the cluster primary with `workers` workers until SIGTERM or SIGINT. */
export async function runClusterPrimary(env: NodeJS.ProcessEnv, workers: number): Promise<void> {
  const level = env['LOG_LEVEL']?.trim().toLowerCase();
  const log = new StructuredLogger({
    name: env['OTEL_SERVICE_NAME'] ?? 'gatewayz-example-gateway',
    level: level !== undefined && isLogLevel(level) ? level : 'info',
    bindings: { role: 'cluster-primary' },
  });
  const settings = loadGatewaySettings(env);
  // Check what every worker would refuse before forking them: a bad providers file (or one whose
  // models are unpriced while a key has a budget), context manager, Supabase or health-service
  // setting fails the start here, once, with its message, not in each worker in turn.
  loadContextManagerChoice(env);
  if (providersConfigured(env)) await resolveProviders(env);
  const supabase = loadSupabaseSettings(env);
  if (loadHealthServiceUrl(env) !== undefined) loadHealthServiceIntervalMs(env);
  // How long workers get to drain and flush on shutdown before they are killed.
  const killTimeoutMs = loadWorkerKillTimeoutMs(env, settings.shutdownTimeoutMs);
  const childEnv: NodeJS.ProcessEnv = { ...env };
  // The simulated providers run once, here, so every worker talks to the same upstreams.
  let demo: DemoProviders | undefined;
  if (!providersConfigured(env)) {
    demo = await startDemoProviders(loadDemoSettings(env));
    childEnv[CLUSTER_PROVIDERS_VARIABLE] = JSON.stringify(demo.providers);
  }
  const sharedStore = supabase === undefined ? new MemoryModelHealthStore() : undefined;
  const primary = startClusterPrimary(sharedStore !== undefined ? { modelHealthStore: sharedStore } : {});
  const stopApiKeyUsage = startApiKeyUsageExchange({ log });
  const url = `http://${settings.host}:${settings.port}`;

  let stopping = false;
  let traffic: DemoTraffic | undefined;
  let announced = false;
  const restarted = restartCounter();
  const fork = (): Worker => cluster.fork(childEnv);

  const listening = new Set<number>();
  cluster.on('listening', (worker) => {
    listening.add(worker.id);
    if (announced || listening.size < workers) return;
    announced = true;
    log.info('gateway listening', {
      url,
      workers: String(workers),
      simulated_providers: String(demo !== undefined),
      model_health_store: sharedStore !== undefined ? 'memory (cluster primary)' : 'supabase',
    });
    const { trafficPerSecond } = loadDemoSettings(env);
    if (demo !== undefined && trafficPerSecond > 0)
      traffic = startDemoTraffic(url, trafficPerSecond, demoCallers(settings.apiKeys));
  });

  const stop = async (signal: string, exitCode: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', {
      signal,
      workers: String(Object.keys(cluster.workers ?? {}).length),
      worker_kill_timeout_ms: String(killTimeoutMs),
    });
    // No await before the workers are signalled and the kill deadline runs: the demo's requests in
    // flight are drained by the workers, and whatever never settles is aborted once they are gone.
    traffic?.stop();
    const alive = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    const exits = alive.map(
      (worker) =>
        new Promise<number | null>((resolve) => {
          if (worker.isDead()) resolve(worker.process.exitCode);
          else worker.once('exit', (code) => resolve(code));
        }),
    );
    for (const worker of alive) worker.process.kill('SIGTERM');
    const killer = setTimeout(() => {
      const late = alive.filter((worker) => !worker.isDead());
      // Their spans, metrics and model-health writes still pending are lost: say so.
      log.error('workers still shutting down at the deadline; killing them', {
        workers: String(late.length),
        worker_kill_timeout_ms: String(killTimeoutMs),
      });
      for (const worker of late) worker.process.kill('SIGKILL');
    }, killTimeoutMs);
    const codes = await Promise.all(exits);
    clearTimeout(killer);
    await traffic?.close();
    primary.stop();
    stopApiKeyUsage();
    await demo?.close();
    const failed = codes.filter((code) => code !== 0).length;
    log.info('stopped', { workers_failed: String(failed) });
    process.exit(failed > 0 ? 1 : exitCode);
  };

  cluster.on('exit', (worker, code, signal) => {
    listening.delete(worker.id);
    if (stopping) return;
    if (!announced) {
      // A worker that fails before the gateway ever served (its configuration, its port) would fail
      // again in its replacement: stop, as a single process would, with the worker's error above.
      log.error('a worker exited before the gateway started listening; stopping the gateway', {
        worker: String(worker.id),
        code: String(code),
        signal: signal ?? '',
      });
      void stop('worker-failed-at-start', 1);
      return;
    }
    const restarts = restarted();
    if (restarts > MAX_RESTARTS) {
      log.error('workers keep dying; stopping the gateway', { restarts: String(restarts) });
      void stop('crash-loop', 1);
      return;
    }
    log.warn('worker exited; starting a replacement', {
      worker: String(worker.id),
      code: String(code),
      signal: signal ?? '',
    });
    fork();
  });
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  for (let index = 0; index < workers; index++) fork();
}
