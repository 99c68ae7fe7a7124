// Section 5b: model-health writes against a real PostgreSQL + PostgREST. Delegates to vitest
// (bench/db/model-health-roundtrips.bench.test.ts), which writes BENCH_RESULT_FILE.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const outcome = spawnSync(process.execPath, [vitest, 'run', '--config', 'bench/vitest.config.ts'], {
  cwd: root,
  env: process.env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
process.exit(outcome.status ?? 1);
