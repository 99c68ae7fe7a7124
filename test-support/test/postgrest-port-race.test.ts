/**
 * `startPostgrest` when the free port it was given is taken before PostgREST binds it (another test
 * file's process got there first, which failed a full-suite run once): it starts PostgREST again on
 * other ports instead of failing the file. The race is made certain here: `freePort` hands out a
 * port a listening server holds.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const held: number[] = [];
let portsGiven = 0;

vi.mock('../ports.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../ports.js')>();
  return {
    ...original,
    freePort: async () => {
      portsGiven++;
      return held.shift() ?? original.freePort();
    },
  };
});

const { startPostgres, startPostgrest, supabaseStackAvailable } = await import('../postgres.js');

describe.skipIf(!supabaseStackAvailable())('startPostgrest, its port taken before it binds', () => {
  let postgres: Awaited<ReturnType<typeof startPostgres>>;
  let holder: Server;
  let heldPort: number;

  beforeAll(async () => {
    postgres = await startPostgres();
    await postgres.psql('create role anon nologin;');
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    heldPort = (holder.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => holder?.close(resolve));
    await postgres?.stop();
  });

  it('starts again on other ports and serves', async () => {
    held.push(heldPort);
    const postgrest = await startPostgrest({ postgres, roles: ['anon'] });
    try {
      expect(held).toEqual([]);
      expect(postgrest.port).not.toBe(heldPort);
      expect(await postgrest.isReady()).toBe(true);
    } finally {
      await postgrest.stop();
    }
  });

  it('does not start again when PostgREST fails for another reason', async () => {
    portsGiven = 0;
    const failing = startPostgrest({ postgres, roles: ['anon'], env: { PGRST_LOG_LEVEL: 'not-a-level' } });
    await expect(failing).rejects.toThrow(/postgrest exited/);
    await expect(failing).rejects.not.toThrow(/address in use/i);
    // One launch: its API port and its admin port.
    expect(portsGiven).toBe(2);
  });
});
