/**
 * Loopback port helpers for integration tests.
 *
 * @packageDocumentation
 */
import { createServer } from 'node:net';

/**
 * Asks the kernel for a currently unused TCP port on `127.0.0.1`.
 *
 * The port is released again before the promise resolves, so there is a small
 * window in which another process could take it. Prefer listening on port `0`
 * directly when you control the server; use this only for external processes
 * (e.g. Prometheus) that need the port on their command line.
 *
 * @param host - Interface to probe; defaults to `127.0.0.1`.
 * @returns A port number that was free at the time of the call.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected server address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
