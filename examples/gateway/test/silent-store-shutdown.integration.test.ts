import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGatewayProcess } from './gateway-process.js';

/*
 * SIGTERM while the provider-health tracker's tick is reading a Supabase store that never answers:
 * the tick holds the store's whole request timeout (10 s), and the gateway used to wait for it after
 * its drain and its model-health write, so it ran up to 10 s past SHUTDOWN_TIMEOUT_MS, out of the
 * worst case the README gives (and the cluster's derived kill deadline is built on).
 */

const servers: Array<{ close(): void; sockets: Set<IncomingMessage['socket']> }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    for (const socket of server.sockets) socket.destroy();
    server.close();
  }
});

/** A "PostgREST" that reads every request and never answers it; resolves with its URL and what it was asked. */
async function silentPostgrest(): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  const sockets = new Set<IncomingMessage['socket']>();
  const server = createServer((request: IncomingMessage, _response: ServerResponse) => {
    paths.push(request.url ?? '');
    sockets.add(request.socket);
    request.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => server.close(), sockets });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

describe('a store that never answers at shutdown', () => {
  it("does not hold the gateway past its drain and write deadlines for the health tick's read", async () => {
    const store = await silentPostgrest();
    const gateway = await startGatewayProcess({
      SUPABASE_URL: store.url,
      SUPABASE_SERVICE_ROLE_KEY: 'service-role-key-for-a-silent-store',
      SHUTDOWN_TIMEOUT_MS: '1000',
      HEALTH_TRACKER_INTERVAL_MS: '200',
      DEMO_TRAFFIC_RPS: '0',
    });
    try {
      // A tick is reading the store (and will until its 10 s request timeout).
      while (!store.paths.some((path) => path.includes('get_all_model_health')))
        await new Promise((resolve) => setTimeout(resolve, 20));
      const started = Date.now();
      const exitCode = await gateway.terminate();
      const stoppedAfterMs = Date.now() - started;
      expect(exitCode).toBe(0);
      // The README's worst case for a worker: 2 × SHUTDOWN_TIMEOUT_MS + 2 s + the telemetry flush
      // (no OTLP here); the tick's read alone would take the rest of its 10 s.
      expect(stoppedAfterMs).toBeLessThan(5000);
      expect(gateway.output()).toContain('provider health tick still reading the model-health store at shutdown');
      expect(gateway.output()).toContain('"msg":"stopped"');
    } finally {
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    }
  });
});
