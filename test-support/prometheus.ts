/**
 * Helpers for integration tests that run a REAL Prometheus server (and
 * `promtool`) on loopback.
 *
 * Typical use:
 *
 * ```ts
 * import { componentAvailable, startPrometheus } from '../prometheus.js';
 *
 * describe.skipIf(!componentAvailable('prometheus'))('scraping', () => {
 *   it('sees the counter', async () => {
 *     const prom = await startPrometheus({ targets: [{ job: 'app', url: `${appUrl}/metrics` }] });
 *     try {
 *       await prom.waitForQuery('app_requests_total', (r) => r.length > 0, 15_000);
 *     } finally {
 *       await prom.stop();
 *     }
 *   });
 * });
 * ```
 *
 * Skip-or-fail policy: when a component is missing the test is skipped locally,
 * but under `CI=true` {@link componentAvailable} / {@link requireComponent}
 * throw, so a CI run can never silently skip the real-component tests.
 *
 * @packageDocumentation
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, rmSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { freePort } from './ports.js';

const runFile = promisify(execFile);

// ---------------------------------------------------------------------------
// Component discovery and the skip-or-fail policy
// ---------------------------------------------------------------------------

/** Names of external components known to {@link componentAvailable}. */
export type ComponentName = 'prometheus' | 'promtool';

/** Absolute paths of the Prometheus server and `promtool` binaries. */
export interface PrometheusBinaries {
  /** Path of the `prometheus` server binary. */
  prometheus: string;
  /** Path of the `promtool` binary. */
  promtool: string;
}

/** How to install each known component (Debian/Ubuntu). */
export const INSTALL_HINTS: Readonly<Record<ComponentName, string>> = {
  prometheus:
    'install it with `sudo apt-get install -y prometheus` (Debian/Ubuntu; provides /usr/bin/prometheus and /usr/bin/promtool), ' +
    'or point PROMETHEUS_BIN at a prometheus binary',
  promtool:
    'install it with `sudo apt-get install -y prometheus` (Debian/Ubuntu; provides /usr/bin/promtool), ' +
    'or point PROMTOOL_BIN at a promtool binary',
};

/** Extra directories searched after `PATH`. */
const FALLBACK_DIRS = ['/usr/bin', '/usr/local/bin', '/bin'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Locates an executable by name in `PATH`, then in `/usr/bin`, `/usr/local/bin`
 * and `/bin`.
 *
 * @param name - Bare executable name, e.g. `"promtool"`.
 * @param extraDirs - Additional directories searched last.
 * @returns The absolute path, or `undefined` when not found.
 */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | undefined {
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0);
  for (const dir of [...pathDirs, ...FALLBACK_DIRS, ...extraDirs]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function fromEnv(variable: string): string | undefined {
  const value = process.env[variable];
  return value !== undefined && value !== '' && isExecutable(value) ? value : undefined;
}

/**
 * Finds the `prometheus` and `promtool` binaries.
 *
 * `PROMETHEUS_BIN` / `PROMTOOL_BIN` override the lookup; otherwise `PATH` and
 * `/usr/bin` (Debian package `prometheus`) are searched.
 *
 * @returns Both paths, or `undefined` if either binary is missing.
 */
export function findPrometheus(): PrometheusBinaries | undefined {
  const prometheus = fromEnv('PROMETHEUS_BIN') ?? findExecutable('prometheus');
  const promtool = fromEnv('PROMTOOL_BIN') ?? findExecutable('promtool');
  return prometheus !== undefined && promtool !== undefined ? { prometheus, promtool } : undefined;
}

/** Finds only `promtool` (see {@link findPrometheus}). */
export function findPromtool(): string | undefined {
  return fromEnv('PROMTOOL_BIN') ?? findExecutable('promtool');
}

/** `true` when running under CI, i.e. `process.env.CI === 'true'`. */
export function isCI(): boolean {
  return process.env.CI === 'true';
}

/**
 * Applies the skip-or-fail policy to the result of a component lookup.
 *
 * - `found` is present → returns `true`.
 * - `found` is missing and `CI=true` → throws an Error naming the component and
 *   how to install it (so CI fails loudly instead of skipping).
 * - `found` is missing otherwise → returns `false` so the caller can use
 *   `describe.skipIf(!ok)`.
 *
 * @param name - Human-readable component name used in the error message.
 * @param found - Lookup result; any nullish/`false` value means "missing".
 * @param installHint - How to install it; defaults to {@link INSTALL_HINTS}
 *   for known names.
 */
export function requireComponent<T>(
  name: string,
  found: T | undefined | null | false,
  installHint?: string,
): found is T {
  if (found !== undefined && found !== null && found !== false) return true;
  if (isCI()) {
    const hint =
      installHint ??
      (name in INSTALL_HINTS ? INSTALL_HINTS[name as ComponentName] : 'install it before running the tests');
    throw new Error(
      `Required test component "${name}" was not found (searched PATH=${process.env.PATH ?? ''} and /usr/bin). ` +
        `CI=true, so this is an error instead of a skip: ${hint}.`,
    );
  }
  return false;
}

/**
 * Whether a known external component is installed, with the skip-or-fail
 * policy of {@link requireComponent} applied.
 *
 * Use it directly in `describe.skipIf(!componentAvailable('prometheus'))`:
 * locally the suite is skipped when the binary is missing, while under
 * `CI=true` this call throws and the test file fails.
 *
 * @param name - `'prometheus'` (needs both `prometheus` and `promtool`) or
 *   `'promtool'` (needs only `promtool`).
 */
export function componentAvailable(name: ComponentName): boolean {
  switch (name) {
    case 'prometheus':
      return requireComponent(name, findPrometheus());
    case 'promtool':
      return requireComponent(name, findPromtool());
    default: {
      const unknown: never = name;
      throw new Error(`componentAvailable: unknown component ${String(unknown)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// promtool check metrics
// ---------------------------------------------------------------------------

/** Result of {@link promtoolCheckMetrics}. */
export interface PromtoolCheckResult {
  /** `true` when promtool exited 0 (no lint problems, text parsed). */
  ok: boolean;
  /**
   * One entry per non-empty output line, e.g.
   * `foo counter metrics should have "_total" suffix`,
   * `foo no help text`, or
   * `error while linting: text format parsing error in line 3: ...`.
   */
  problems: string[];
  /** promtool exit code: 0 = clean, 3 = lint problems, 1 = parse error. */
  exitCode: number;
}

/**
 * Runs `promtool` with `args` (e.g. `check rules <file>`, `test rules <file>`) and returns its exit
 * code (-1 when it did not exit on its own, e.g. killed after `timeoutMs`) and everything it printed.
 *
 * @throws If promtool is not installed.
 */
export async function runPromtool(
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number; output: string }> {
  const promtool = findPromtool();
  if (promtool === undefined) throw new Error(`promtool not found: ${INSTALL_HINTS.promtool}`);
  try {
    const { stdout, stderr } = await runFile(promtool, [...args], { timeout: timeoutMs });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failure.code === 'number' ? failure.code : -1,
      output: `${failure.stdout ?? ''}${failure.stderr ?? ''}`,
    };
  }
}

/**
 * Lints Prometheus text exposition format with `promtool check metrics`
 * (the text is piped on stdin).
 *
 * Verified against promtool 2.42 (Debian bookworm): all findings are printed
 * on stderr; the exit code is 0 when clean, 3 for lint problems (e.g. a counter
 * without `_total` suffix, missing HELP) and 1 for a parse error.
 *
 * @param text - Exposition text, e.g. the body of a `/metrics` response.
 * @throws If promtool is not installed or exits with an unexpected code.
 */
export async function promtoolCheckMetrics(text: string): Promise<PromtoolCheckResult> {
  const promtool = findPromtool();
  if (promtool === undefined) {
    throw new Error(`promtool not found: ${INSTALL_HINTS.promtool}`);
  }
  const child = spawn(promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  // promtool may exit before reading all of stdin (parse error): ignore EPIPE.
  child.stdin.on('error', () => undefined);
  child.stdin.end(text);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  });
  const problems = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (exitCode !== 0 && exitCode !== 1 && exitCode !== 3) {
    throw new Error(`promtool check metrics exited with unexpected code ${exitCode}:\n${output}`);
  }
  return { ok: exitCode === 0, problems, exitCode };
}

// ---------------------------------------------------------------------------
// Prometheus server
// ---------------------------------------------------------------------------

/** One scrape target for {@link startPrometheus}. */
export interface PrometheusTarget {
  /** `job_name`; must be unique within one Prometheus instance. */
  job: string;
  /** Full scrape URL, e.g. `http://127.0.0.1:9464/metrics` (query params become `params`). */
  url: string;
  /** Sent as `Authorization: Bearer <token>` on every scrape. */
  bearerToken?: string;
  /** Extra static labels attached to every series of this target. */
  labels?: Record<string, string>;
}

/** Options for {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** Targets to scrape (one scrape config per target). */
  targets: PrometheusTarget[];
  /** Global scrape (and rule evaluation) interval in seconds; default 1. */
  scrapeIntervalSeconds?: number;
  /** Extra command-line flags appended to the prometheus invocation. */
  extraArgs?: string[];
  /** How long to wait for `/-/ready` (and targets, see below); default 30 000 ms. */
  readyTimeoutMs?: number;
  /**
   * Also wait until every configured target appears in `/api/v1/targets`
   * (regardless of health). Prometheus' discovery manager only applies
   * targets about 5 s after startup, so this takes ~5 s; default `false`.
   */
  waitForTargets?: boolean;
  /**
   * Rule files (recording and alerting rules) to load, e.g. deploy/prometheus/slo-rules.yml. They
   * are copied into the instance's directory, so Prometheus (possibly another user) can read them.
   */
  ruleFiles?: string[];
}

/** One element of an instant-vector query result. */
export interface PromSample {
  /** Series labels, including `__name__` for plain selectors. */
  metric: Record<string, string>;
  /** `[unixSeconds, "value as string"]` as returned by the HTTP API. */
  value: [number, string];
}

/** One active target from `/api/v1/targets`. */
export interface PromActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl?: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval?: string;
  scrapeTimeout?: string;
}

/** `data` of the `/api/v1/targets` response. */
export interface PromTargetsData {
  activeTargets: PromActiveTarget[];
  droppedTargets: unknown[];
}

/** A running Prometheus started by {@link startPrometheus}. */
export interface PrometheusInstance {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** Listening port. */
  port: number;
  /** Temporary directory holding `prometheus.yml` and the TSDB. */
  dir: string;
  /** PID of the prometheus process. */
  pid: number;
  /**
   * Runs an instant query via `/api/v1/query`.
   * Scalar results are returned as a single sample with empty labels.
   * @throws On HTTP/API errors or non-vector/scalar result types.
   */
  query(promql: string): Promise<PromSample[]>;
  /**
   * Polls {@link PrometheusInstance.query} every 250 ms until `predicate`
   * returns true and resolves with that result.
   * @param timeoutMs - default 15 000 ms.
   * @throws On timeout (message includes the last result/error, every
   *   target's health and `lastError`, and the server's stderr tail), on a
   *   PromQL syntax error, or if Prometheus exits.
   */
  waitForQuery(promql: string, predicate: (result: PromSample[]) => boolean, timeoutMs?: number): Promise<PromSample[]>;
  /** `data` of `/api/v1/targets`. */
  targets(): Promise<PromTargetsData>;
  /** Last 64 KiB of the server's stderr (its log). */
  logs(): string;
  /** SIGTERM, SIGKILL after 5 s, then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const STDERR_LIMIT = 64 * 1024;

interface PromApiResponse<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

/** Error thrown for a failed PromQL API call; `errorType` from the API. */
class PromQueryError extends Error {
  constructor(
    message: string,
    readonly errorType: string | undefined,
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = 'PromQueryError';
  }
}

/** uid/gid of `nobody`, read from /etc/passwd (fallback 65534). */
function nobodyIds(): { uid: number; gid: number } {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('nobody:'));
    const fields = line?.split(':');
    const uid = Number(fields?.[2]);
    const gid = Number(fields?.[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  } catch {
    // fall through
  }
  return { uid: 65534, gid: 65534 };
}

function durationMs(seconds: number): string {
  return `${Math.max(1, Math.round(seconds * 1000))}ms`;
}

/** Builds the prometheus.yml content (JSON is valid YAML). */
function buildConfig(targets: PrometheusTarget[], intervalSeconds: number, ruleFiles: readonly string[] = []): string {
  const seen = new Set<string>();
  const scrapeConfigs = targets.map((target) => {
    if (seen.has(target.job)) {
      throw new Error(`startPrometheus: duplicate job name "${target.job}"`);
    }
    seen.add(target.job);
    const url = new URL(target.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`startPrometheus: unsupported scrape URL ${target.url}`);
    }
    const params: Record<string, string[]> = {};
    for (const [key, value] of url.searchParams) (params[key] ??= []).push(value);
    return {
      job_name: target.job,
      scheme: url.protocol.slice(0, -1),
      metrics_path: url.pathname,
      ...(Object.keys(params).length > 0 ? { params } : {}),
      ...(target.bearerToken !== undefined
        ? { authorization: { type: 'Bearer', credentials: target.bearerToken } }
        : {}),
      static_configs: [{ targets: [url.host], ...(target.labels ? { labels: target.labels } : {}) }],
    };
  });
  const config = {
    global: {
      scrape_interval: durationMs(intervalSeconds),
      scrape_timeout: durationMs(Math.min(intervalSeconds, 10)),
      evaluation_interval: durationMs(intervalSeconds),
    },
    ...(ruleFiles.length > 0 ? { rule_files: ruleFiles } : {}),
    scrape_configs: scrapeConfigs,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * Starts a real Prometheus server on `127.0.0.1:<free port>` that scrapes the
 * given targets, and waits until `/-/ready` returns 200.
 *
 * A temp dir (mode 0777) under `os.tmpdir()` holds `prometheus.yml` and the
 * TSDB. When the test process runs as root, Prometheus runs as user `nobody`.
 * The process is also killed if the test process exits without calling
 * {@link PrometheusInstance.stop}.
 *
 * @throws If the binary is missing, the config is rejected, or the server
 *   does not become ready (message includes its stderr).
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusInstance> {
  const binaries = findPrometheus();
  if (binaries === undefined) {
    throw new Error(`prometheus not found: ${INSTALL_HINTS.prometheus}`);
  }
  const intervalSeconds = options.scrapeIntervalSeconds ?? 1;
  if (!(intervalSeconds > 0)) {
    throw new Error(`startPrometheus: scrapeIntervalSeconds must be > 0, got ${intervalSeconds}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'prometheus-test-'));
  await chmod(dir, 0o777);
  const ruleFiles: string[] = [];
  for (const [index, source] of (options.ruleFiles ?? []).entries()) {
    const copy = join(dir, `rules-${index}-${basename(source)}`);
    await copyFile(source, copy);
    await chmod(copy, 0o644);
    ruleFiles.push(copy);
  }
  const configText = buildConfig(options.targets, intervalSeconds, ruleFiles);
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, configText, { mode: 0o644 });
  await chmod(configFile, 0o644);

  const maxAttempts = 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(binaries.prometheus, dir, configFile, options);
    } catch (err) {
      const addressInUse = err instanceof Error && /address already in use/i.test(err.message);
      if (!addressInUse || attempt >= maxAttempts) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      // Port race with another process: retry with a new port.
      await rm(join(dir, 'data'), { recursive: true, force: true });
    }
  }
}

async function launch(
  binary: string,
  dir: string,
  configFile: string,
  options: StartPrometheusOptions,
): Promise<PrometheusInstance> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...(options.extraArgs ?? []),
  ];
  const asNobody = typeof process.getuid === 'function' && process.getuid() === 0;
  const child: ChildProcess = spawn(binary, args, {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(asNobody ? nobodyIds() : {}),
  });

  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > STDERR_LIMIT) stderr = stderr.slice(-STDERR_LIMIT);
  });

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  const killOnExit = (): void => {
    if (exited === undefined) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  const describeExit = (): string =>
    `prometheus (pid ${child.pid ?? '?'}, ${binary} ${args.join(' ')}) ` +
    (spawnError
      ? `failed to spawn: ${spawnError.message}`
      : `exited with code ${exited?.code ?? 'null'} signal ${exited?.signal ?? 'null'}`) +
    `\n--- prometheus stderr ---\n${stderr}`;

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (exited === undefined) child.kill('SIGKILL');
      }, 5_000);
      await exitPromise;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
  };

  // Wait for readiness.
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + readyTimeoutMs;
  let lastReadyError = 'no response yet';
  for (;;) {
    if (exited !== undefined) {
      process.removeListener('exit', killOnExit);
      throw new Error(`Prometheus exited before becoming ready: ${describeExit()}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastReadyError = `HTTP ${res.status}`;
    } catch (err) {
      lastReadyError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      await stop().catch(() => undefined);
      throw new Error(
        `Prometheus did not become ready at ${url}/-/ready within ${readyTimeoutMs} ms ` +
          `(last: ${lastReadyError})\n--- prometheus stderr ---\n${stderr}`,
      );
    }
    await sleep(100);
  }

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let body: PromApiResponse<T>;
    try {
      body = JSON.parse(text) as PromApiResponse<T>;
    } catch {
      throw new PromQueryError(`GET ${path}: HTTP ${res.status}, non-JSON body: ${text}`, undefined, res.status);
    }
    if (body.status !== 'success' || body.data === undefined) {
      throw new PromQueryError(
        `GET ${path}: HTTP ${res.status} ${body.errorType ?? ''}: ${body.error ?? text}`,
        body.errorType,
        res.status,
      );
    }
    return body.data;
  };

  const query = async (promql: string): Promise<PromSample[]> => {
    const data = await api<{ resultType: string; result: unknown }>(
      `/api/v1/query?query=${encodeURIComponent(promql)}`,
    );
    if (data.resultType === 'vector') return data.result as PromSample[];
    if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
    throw new Error(
      `query(${promql}) returned resultType "${data.resultType}"; only instant vectors and scalars are supported`,
    );
  };

  const targets = (): Promise<PromTargetsData> => api<PromTargetsData>('/api/v1/targets');

  const describeTargets = async (): Promise<string> => {
    try {
      const data = await targets();
      if (data.activeTargets.length === 0) {
        return '  (no active targets yet: Prometheus applies static targets ~5 s after start)';
      }
      return data.activeTargets
        .map(
          (t) =>
            `  job=${t.labels.job ?? t.scrapePool} url=${t.scrapeUrl} health=${t.health} ` +
            `lastScrape=${t.lastScrape} lastError=${JSON.stringify(t.lastError)}`,
        )
        .join('\n');
    } catch (err) {
      return `  (could not fetch /api/v1/targets: ${err instanceof Error ? err.message : String(err)})`;
    }
  };

  const waitForQuery = async (
    promql: string,
    predicate: (result: PromSample[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<PromSample[]> => {
    const start = Date.now();
    let lastResult: PromSample[] | undefined;
    let lastError: string | undefined;
    for (;;) {
      if (exited !== undefined) {
        throw new Error(`waitForQuery(${promql}): ${describeExit()}`);
      }
      try {
        lastResult = await query(promql);
        lastError = undefined;
        if (predicate(lastResult)) return lastResult;
      } catch (err) {
        // A PromQL syntax/type error will never resolve itself.
        if (err instanceof PromQueryError && err.errorType === 'bad_data') throw err;
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() - start >= timeoutMs) {
        throw new Error(
          `waitForQuery timed out after ${timeoutMs} ms for ${JSON.stringify(promql)} on ${url}\n` +
            `last result: ${lastResult === undefined ? '(none)' : JSON.stringify(lastResult)}\n` +
            (lastError !== undefined ? `last error: ${lastError}\n` : '') +
            `targets:\n${await describeTargets()}\n` +
            `--- prometheus stderr (tail) ---\n${stderr.slice(-4_000)}`,
        );
      }
      await sleep(250);
    }
  };

  if (options.waitForTargets === true) {
    const expected = options.targets.length;
    for (;;) {
      let active = -1;
      try {
        active = (await targets()).activeTargets.length;
      } catch {
        // retry
      }
      if (active >= expected) break;
      if (exited !== undefined || Date.now() > deadline) {
        await stop().catch(() => undefined);
        throw new Error(
          `Prometheus at ${url} did not activate ${expected} target(s) within ${readyTimeoutMs} ms ` +
            `(active: ${active})\n--- prometheus stderr ---\n${stderr}`,
        );
      }
      await sleep(100);
    }
  }

  return {
    url,
    port,
    dir,
    pid: child.pid ?? -1,
    query,
    waitForQuery,
    targets,
    logs: () => stderr,
    stop,
  };
}
