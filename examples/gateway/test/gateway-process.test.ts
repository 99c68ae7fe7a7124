/**
 * The harness that starts the built gateway as a process, when the free port it picked is taken
 * before the gateway binds it (another test file's process got there first, which failed a loaded
 * run once): it starts the gateway again on another port. The race is made certain here:
 * `freePort` hands out a port a listening server holds.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const held: number[] = [];

vi.mock('../../../test-support/ports.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../test-support/ports.js')>();
  return { ...original, freePort: async () => held.shift() ?? original.freePort() };
});

const { startGatewayProcess } = await import('./gateway-process.js');

describe('startGatewayProcess, its port taken before the gateway binds it', () => {
  let holder: Server;
  let heldPort: number;

  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    heldPort = (holder.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  it('starts it again on another port, which serves', async () => {
    held.push(heldPort);
    const gateway = await startGatewayProcess({ OTEL_SDK_DISABLED: 'true' });
    try {
      expect(held).toEqual([]);
      expect(gateway.url).not.toBe(`http://127.0.0.1:${heldPort}`);
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    } finally {
      await gateway.terminate();
    }
  });

  it('does not start it again when the port was chosen by the caller', async () => {
    await expect(startGatewayProcess({ OTEL_SDK_DISABLED: 'true', PORT: String(heldPort) })).rejects.toThrow(
      /EADDRINUSE/,
    );
  });
});
