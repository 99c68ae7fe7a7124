import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  findPostgresBinaries,
  postgresAvailable,
  signJwt,
  startRestProxy,
  startSupabaseStack,
  supabaseStackAvailable,
  type SupabaseTestStack,
} from '../postgres.js';

const MIGRATION = `
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin; end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then create role authenticated nologin; end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then create role service_role nologin; end if;
end $$;
create table public.notes (id serial primary key, body text not null);
grant select on public.notes to anon;
grant select, insert on public.notes to service_role;
grant usage on sequence public.notes_id_seq to service_role;
create function public.whoami() returns text language sql stable as $$ select current_user::text $$;
grant execute on function public.whoami() to anon, service_role;
`;

function withEnv(changes: Record<string, string | undefined>, action: () => void): void {
  const saved = Object.fromEntries(Object.keys(changes).map((name) => [name, process.env[name]]));
  try {
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    action();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe('postgres component policy', () => {
  it('skips locally and throws under CI=true when PostgreSQL is missing', () => {
    withEnv({ POSTGRES_BIN_DIR: '/nonexistent/bin', CI: undefined }, () => {
      expect(findPostgresBinaries()).toBeUndefined();
      expect(postgresAvailable()).toBe(false);
    });
    withEnv({ POSTGRES_BIN_DIR: '/nonexistent/bin', CI: 'true' }, () => {
      expect(() => postgresAvailable()).toThrow(/"postgresql" was not found.*apt-get install -y postgresql/s);
    });
  });
});

describe('signJwt', () => {
  it('signs HS256 tokens with iat and exp', () => {
    const token = signJwt({ role: 'anon' }, 'x'.repeat(32));
    const [header, body, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header as string, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(body as string, 'base64url').toString()) as Record<string, number | string>;
    expect(claims.role).toBe('anon');
    expect(Number(claims.exp) - Number(claims.iat)).toBe(86_400);
    expect(signature).toBe(createHmac('sha256', 'x'.repeat(32)).update(`${header}.${body}`).digest('base64url'));
  });
});

describe.skipIf(!supabaseStackAvailable())('startSupabaseStack', () => {
  let dir: string;
  let stack: SupabaseTestStack;

  const rpc = (key: string, path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${stack.url}/rest/v1${path}`, {
      method: 'POST',
      ...init,
      headers: {
        apikey: key,
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postgres-harness-test-'));
    await writeFile(join(dir, 'migration.sql'), MIGRATION);
    stack = await startSupabaseStack({ migrations: [join(dir, 'migration.sql')] });
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs PostgreSQL on loopback with the migration applied', async () => {
    expect(stack.postgres.host).toBe('127.0.0.1');
    expect(
      await stack.postgres.psql(
        "select current_setting('listen_addresses'), current_database(), count(*) from public.notes",
      ),
    ).toBe('127.0.0.1|app|0');
  });

  it('serves PostgREST through the /rest/v1 proxy with role-bearing JWTs', async () => {
    stack.proxy.reset();
    const asAnon = await rpc(stack.anonKey, '/rpc/whoami');
    expect(await asAnon.json()).toBe('anon');
    const asService = await rpc(stack.serviceRoleKey, '/rpc/whoami');
    expect(await asService.json()).toBe('service_role');
    const insert = await rpc(stack.serviceRoleKey, '/notes', { body: JSON.stringify({ body: 'hello' }) });
    expect(insert.status).toBe(201);
    const denied = await rpc(stack.anonKey, '/notes', { body: JSON.stringify({ body: 'nope' }) });
    expect(denied.status).toBe(401);
    const forged = await rpc(signJwt({ role: 'service_role' }, 'y'.repeat(40)), '/rpc/whoami');
    expect(forged.status).toBe(401);
    expect(stack.proxy.requests.map((request) => `${request.method} ${request.path} ${request.status}`)).toEqual([
      'POST /rest/v1/rpc/whoami 200',
      'POST /rest/v1/rpc/whoami 200',
      'POST /rest/v1/notes 201',
      'POST /rest/v1/notes 401',
      'POST /rest/v1/rpc/whoami 401',
    ]);
    const outside = await fetch(`${stack.url}/auth/v1/user`);
    expect(outside.status).toBe(404);
  });

  it('stops and restarts PostgreSQL on the same port, keeping the data', async () => {
    const port = stack.postgres.port;
    await stack.postgres.stopServer();
    expect(stack.postgres.running).toBe(false);
    await expect(stack.postgres.psql('select 1')).rejects.toThrow(/connection|refused|server/i);
    const down = await rpc(stack.anonKey, '/rpc/whoami');
    expect(down.status).toBe(503);
    await stack.postgres.startServer();
    expect(stack.postgres.running).toBe(true);
    expect(stack.postgres.port).toBe(port);
    expect(await stack.postgres.psql('select body from public.notes')).toBe('hello');
    await stack.postgrest.waitUntilReady(20_000);
    const up = await rpc(stack.anonKey, '/rpc/whoami');
    expect(up.status).toBe(200);
  });

  it('answers 502 from the proxy when PostgREST is unreachable', async () => {
    const proxy = await startRestProxy('http://127.0.0.1:9');
    try {
      const response = await fetch(`${proxy.url}/rest/v1/rpc/anything`, { method: 'POST' });
      expect(response.status).toBe(502);
      expect(proxy.requests).toEqual([{ method: 'POST', path: '/rest/v1/rpc/anything', status: 502 }]);
    } finally {
      await proxy.stop();
    }
  });
});
