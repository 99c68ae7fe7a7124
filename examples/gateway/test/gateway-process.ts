import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { freePort } from '../../../test-support/ports.js';

const mainScript = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Send SIGTERM and resolve with the exit code. */
  terminate(): Promise<number | null>;
}

/** Gateways started by this test file and not yet exited. */
const running = new Set<ChildProcess>();

// A test that fails before it terminates its gateway would leave the process running (found: one
// still serving an hour later). What is left when the file's tests are done is killed. (Imported at
// collection, this registers on the importing file's root suite; each file gets its own module.)
afterAll(() => {
  for (const leftover of running) leftover.kill('SIGKILL');
});

/**
 * The environment of a gateway that exports its spans over OTLP/HTTP JSON to `receiver` (batches
 * held until a flush or shutdown), metrics on Prometheus, and simulated providers that answer at
 * once without errors; `extra` adds or overrides variables.
 */
export function otlpJsonGatewayEnv(
  receiver: { url: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '600000',
    OTEL_METRICS_EXPORTER: 'prometheus',
    DEMO_LATENCY_MS: '0',
    DEMO_ERROR_RATE: '0',
    ...extra,
  };
}

/**
 * Start the built example gateway (`dist/main.js`) as a real process on a free loopback port, with
 * `nodeFlags` before the script (none by default). A free port can be taken by another process
 * before the gateway binds it (test files run side by side): the gateway then exits with
 * `EADDRINUSE`, and it is started again on another port (unless `env` chose the port).
 */
export async function startGatewayProcess(
  env: Record<string, string>,
  nodeFlags: readonly string[] = [],
): Promise<GatewayProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchGatewayProcess(env, nodeFlags);
    } catch (error) {
      const portTaken = error instanceof Error && error.message.includes('EADDRINUSE');
      if (attempt >= 3 || !portTaken || env['PORT'] !== undefined) throw error;
    }
  }
}

async function launchGatewayProcess(
  env: Record<string, string>,
  nodeFlags: readonly string[],
): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeFlags, mainScript], {
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port), HOST: '127.0.0.1', DEMO_TRAFFIC_RPS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 20_000);
    const check = (): void => {
      if (output.includes('"gateway listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    terminate: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
