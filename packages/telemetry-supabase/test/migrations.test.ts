import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { TelemetryConfigurationError } from '@gatewayz/telemetry';

import {
  CONCURRENCY_MIGRATION,
  LAST_ERROR_AT_MIGRATION,
  MIGRATIONS,
  MIGRATIONS_DIR,
  MODEL_HEALTH_MIGRATION,
  migrationPath,
  readMigrationSql,
} from '../src/index.js';
import { requireBuiltPackage } from './helpers.js';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

describe('migration files', () => {
  it('resolves the migrations directory from the sources', () => {
    expect(MIGRATIONS_DIR).toBe(`${PACKAGE_DIR}migrations/`);
    expect(MIGRATIONS).toEqual([MODEL_HEALTH_MIGRATION, LAST_ERROR_AT_MIGRATION, CONCURRENCY_MIGRATION]);
    expect(readdirSync(MIGRATIONS_DIR).filter((file) => file.endsWith('.sql'))).toEqual(MIGRATIONS);
    for (const name of MIGRATIONS) expect(existsSync(migrationPath(name))).toBe(true);
    expect(readMigrationSql(LAST_ERROR_AT_MIGRATION)).toMatch(/add column if not exists last_error_at timestamptz/);
    expect(readMigrationSql(CONCURRENCY_MIGRATION)).toMatch(/pg_try_advisory_xact_lock/);
    expect(readMigrationSql()).toMatch(
      /create or replace function public\.record_model_calls\(p_batch_id uuid, p_entries jsonb\)/,
    );
    expect(() => migrationPath('../package.json')).toThrow(TelemetryConfigurationError);
  });

  it.each([
    ['ESM', 'import', `const m = await import(${JSON.stringify(`${PACKAGE_DIR}dist/index.js`)});`],
    ['CommonJS', 'require', `const m = require(${JSON.stringify(`${PACKAGE_DIR}dist/index.cjs`)});`],
  ])('resolves the same path from the built %s entry', (_format, kind, load) => {
    requireBuiltPackage();
    const script = `${load} process.stdout.write(JSON.stringify({ dir: m.MIGRATIONS_DIR, path: m.migrationPath(), length: m.readMigrationSql().length }));`;
    const output = execFileSync(
      process.execPath,
      kind === 'import' ? ['--input-type=module', '-e', script] : ['-e', script],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(output)).toEqual({
      dir: MIGRATIONS_DIR,
      path: migrationPath(),
      length: readMigrationSql().length,
    });
  });
});
