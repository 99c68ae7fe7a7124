#!/usr/bin/env node
// Pack the three published packages, install the tarballs into a scratch project outside the
// repository (dependencies come from the npm registry), and run each README's quick start there.
//
//   npx vite-node scripts/check-packs.mjs   (build first: npx turbo run build; vite-node because
//                                           the Supabase check starts PostgreSQL + PostgREST with
//                                           test-support/postgres.ts)
//   KEEP_SCRATCH=1 npx vite-node scripts/check-packs.mjs   keeps the scratch directory for inspection
//   npx vite-node scripts/check-packs.mjs --update-contents   rewrites scripts/pack-contents.json
//
// Each tarball's file list must equal scripts/pack-contents.json: nothing missing (dist, types,
// README, LICENSE, CHANGELOG, migrations) and nothing extra (sources, tests, configs).
//
// The quick starts are taken from the READMEs (the first ```ts block under "## Quick start") and run
// as .mjs with the TypeScript-only syntax they contain removed (non-null assertions `x!`). Anything
// else changed is named in the check's output.
//
// Every ```ts example of the READMEs and docs/*.md (scripts/doc-snippets.mjs) is typechecked there
// too, against the installed tarballs' types, once as an ES module and once as CommonJS (the
// repository's TypeScript and @types/node; strict mode, module nodenext).
import { execFile as execFileCallback, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { docSnippets, snippetModule } from './doc-snippets.mjs';

const execFile = promisify(execFileCallback);
const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// What each tarball may contain, file by file (`npm pack --json`); --update-contents rewrites it.
const PACK_CONTENTS = join(repository, 'scripts', 'pack-contents.json');
const packages = ['telemetry', 'telemetry-node', 'telemetry-supabase'];
// Peer dependencies the quick starts need, at the versions the packages are developed against.
const peers = ['@opentelemetry/api@^1.9.0', '@opentelemetry/sdk-metrics@2.12.0', '@supabase/supabase-js@~2.109.0'];
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let failures = 0;
const started = performance.now();
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

async function check(name, body) {
  const since = performance.now();
  try {
    const detail = await body();
    console.log(`ok   ${name}${detail ? `: ${detail}` : ''} (${seconds(since)})`);
  } catch (error) {
    failures += 1;
    console.log(`FAIL ${name} (${seconds(since)})\n${String(error?.stack ?? error).replace(/^/gm, '     ')}`);
  }
}

function quickStart(folder) {
  const readme = readFileSync(join(repository, 'packages', folder, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Quick start'));
  const block = section && /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error(`packages/${folder}/README.md: no \`\`\`ts block under "## Quick start"`);
  // TypeScript-only syntax: non-null assertions (`process.env.X!`).
  return block[1].replace(/([\w\])])!(?=[\s,);.])/g, '$1');
}

/**
 * Shared chunks carry a content hash in their name (`dist/chunk-XSNYTJR5.js`,
 * `dist/metric-recorder-r1CuXZNh.d.ts`) that changes with every source change; the expected
 * contents name them with `[hash]` instead.
 */
function withoutContentHash(path) {
  return path
    .replace(/^dist\/chunk-[A-Z0-9]{8}\./, 'dist/chunk-[hash].')
    .replace(/-[A-Za-z0-9_-]{8}(\.d\.c?ts)$/, '-[hash]$1');
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Run a file with node in the project; resolve with { code, signal, output } or reject on timeout. */
function run(project, file, { env = {}, timeoutMs = 30_000, onOutput } = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [file], {
      cwd: project,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8').on('data', (chunk) => {
        output += chunk;
        onOutput?.(output, child);
      });
    }
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, output });
    });
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'gatewayz-packs-'));
const tarballs = join(scratch, 'tarballs');
const project = join(scratch, 'project');
mkdirSync(tarballs);
mkdirSync(project);
console.log(`scratch: ${scratch}`);

try {
  const files = [];
  const contents = {};
  const sizes = [];
  await check('npm pack', async () => {
    for (const folder of packages) {
      const directory = join(repository, 'packages', folder);
      if (!existsSync(join(directory, 'dist', 'index.js')))
        throw new Error(`packages/${folder}/dist is missing: run npx turbo run build`);
      const { stdout } = await execFile(npm, ['pack', '--json', '--pack-destination', tarballs], { cwd: directory });
      const [packed] = JSON.parse(stdout);
      files.push(join(tarballs, packed.filename));
      contents[packed.name] = [...new Set(packed.files.map((file) => withoutContentHash(file.path)))].sort();
      sizes.push(`${packed.name} ${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} KiB`);
    }
    return files.map((file) => file.slice(tarballs.length + 1)).join(', ');
  });

  await check(`tarball contents match ${relative(repository, PACK_CONTENTS)}`, async () => {
    if (process.argv.includes('--update-contents')) {
      writeFileSync(PACK_CONTENTS, `${JSON.stringify(contents, null, 2)}\n`);
      return `written (${sizes.join('; ')})`;
    }
    const expected = JSON.parse(readFileSync(PACK_CONTENTS, 'utf8'));
    const problems = [];
    for (const name of new Set([...Object.keys(expected), ...Object.keys(contents)])) {
      const want = new Set(expected[name] ?? []);
      const got = new Set(contents[name] ?? []);
      for (const path of got) if (!want.has(path)) problems.push(`${name}: unexpected ${path}`);
      for (const path of want) if (!got.has(path)) problems.push(`${name}: missing ${path}`);
    }
    if (problems.length > 0) {
      throw new Error(
        `${problems.join('\n')}\n(if intended: npx vite-node scripts/check-packs.mjs --update-contents, and review the diff)`,
      );
    }
    return sizes.join('; ');
  });

  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'gatewayz-pack-check', private: true, type: 'module' }, null, 2),
  );
  await check('npm install the tarballs outside the repository', async () => {
    if (files.length !== packages.length) throw new Error('nothing to install');
    await execFile(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files, ...peers], {
      cwd: project,
      maxBuffer: 16 << 20,
    });
    const { stdout } = await execFile(npm, ['ls', '--depth=0', '--json'], { cwd: project });
    const installed = JSON.parse(stdout).dependencies ?? {};
    for (const folder of packages) {
      const name = `@gatewayz/${folder}`;
      if (!installed[name]?.resolved?.startsWith('file:'))
        throw new Error(`${name} is not installed from its tarball: ${JSON.stringify(installed[name])}`);
    }
    return Object.entries(installed)
      .map(([name, info]) => `${name}@${info.version}`)
      .join(', ');
  });

  await check('documentation examples typecheck against the tarballs, as ESM and as CommonJS', async () => {
    const snippets = docSnippets(repository);
    const problems = [];
    for (const format of ['module', 'commonjs']) {
      const directory = join(project, `doc-snippets-${format}`);
      mkdirSync(directory, { recursive: true });
      writeFileSync(join(directory, 'package.json'), JSON.stringify({ private: true, type: format }));
      writeFileSync(
        join(directory, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            lib: ['es2023'],
            strict: true,
            noEmit: true,
            // supabase-js 2.100's own declarations do not compile on their own (realtime-js names
            // types @supabase/phoenix does not ship); the examples and our .d.ts are what is checked.
            skipLibCheck: true,
            typeRoots: [join(repository, 'node_modules', '@types')],
            types: ['node'],
          },
          include: ['*.ts'],
        }),
      );
      const modules = new Map();
      snippets.forEach((snippet, index) => {
        const name = `${String(index).padStart(2, '0')}-${snippet.file.replace(/[^A-Za-z0-9]+/g, '-')}-${snippet.line}.ts`;
        const module = snippetModule(snippet, format);
        writeFileSync(join(directory, name), module.text);
        modules.set(name, { snippet, module });
      });
      const tsc = join(repository, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = await execFile(process.execPath, [tsc, '-p', directory, '--pretty', 'false'], {
        cwd: directory,
        maxBuffer: 16 << 20,
      }).catch((error) => error);
      for (const line of String(result.stdout ?? '')
        .split('\n')
        .filter(Boolean)) {
        const where = /^([^(]+)\((\d+),\d+\): (.*)$/.exec(line);
        const found = where && modules.get(where[1]);
        problems.push(
          found
            ? `${format}: ${found.snippet.file}:${found.module.docLine(Number(where[2]))}: ${where[3]}`
            : `${format}: ${line}`,
        );
      }
      if (result.code !== undefined && result.code !== 0 && problems.length === 0)
        throw new Error(`tsc exited with ${result.code}: ${result.stderr}`);
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
    return `${snippets.length} examples from ${new Set(snippets.map((snippet) => snippet.file)).size} documents`;
  });

  await check('@gatewayz/telemetry quick start', async () => {
    writeFileSync(join(project, 'telemetry.mjs'), quickStart('telemetry'));
    const { code, output } = await run(project, 'telemetry.mjs');
    if (code !== 0 || output.trim() !== 'true')
      throw new Error(`exit ${code}, expected "true" (getTelemetry().isBound):\n${output}`);
    return 'printed true';
  });

  await check('@gatewayz/telemetry-node quick start', async () => {
    const port = await freePort();
    // The only change: the README listens on 8080; use a free loopback port.
    const source = quickStart('telemetry-node');
    if (!source.includes('.listen(8080)'))
      throw new Error('the quick start no longer listens on 8080; update this check');
    writeFileSync(
      join(project, 'telemetry-node.mjs'),
      source.replace('.listen(8080)', `.listen(${port}, '127.0.0.1')`),
    );
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['telemetry-node.mjs'], {
      cwd: project,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const stream of [child.stdout, child.stderr])
      stream.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    const exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
    try {
      let answer;
      for (const deadline = Date.now() + 20_000; answer === undefined;) {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output}`);
        answer = await fetch(`${base}/`)
          .then((response) => response.text())
          .catch(() => undefined);
        if (answer === undefined) {
          if (Date.now() > deadline) throw new Error(`no answer on ${base}:\n${output}`);
          await new Promise((wait) => setTimeout(wait, 100));
        }
      }
      if (answer !== 'ok') throw new Error(`GET / answered ${JSON.stringify(answer)}`);
      const response = await fetch(`${base}/prometheus/metrics/providers`);
      const text = await response.text();
      if (response.status !== 200 || !text.includes('provider_response_time_seconds_count{provider="openai"} 1')) {
        throw new Error(`/prometheus/metrics/providers answered ${response.status}:\n${text.slice(0, 2000)}`);
      }
      const all = await fetch(`${base}/metrics`);
      if (all.status !== 200) throw new Error(`/metrics answered ${all.status}`);
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited, new Promise((wait) => setTimeout(() => wait(undefined), 5_000))]);
      // The README's SIGTERM handler shuts telemetry down but leaves the server open, so the process
      // keeps running; that is reported, not failed.
      const sigterm =
        stopped === undefined
          ? 'still running 5 s after SIGTERM (the server stays open), killed'
          : `exit ${stopped.code ?? stopped.signal} on SIGTERM`;
      return `served provider_response_time_seconds on /prometheus/metrics/providers; ${sigterm}`;
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });

  await check('@gatewayz/telemetry-supabase quick start', async () => {
    // No Supabase here: point the store at a closed port. The quick start must load, build the store,
    // recorder and tracker, and fail on its first request with SupabaseModelHealthStoreError UNAVAILABLE.
    // A real PostgreSQL + PostgREST (test-support/postgres.ts, hence vite-node) with the package's
    // own migration, as the README says to apply it.
    const { startSupabaseStack } = await import('../test-support/postgres.ts');
    const stack = await startSupabaseStack({
      migrations: [
        '0001_model_health_tracking.sql',
        '0002_model_health_last_error_at.sql',
        '0003_model_health_concurrency.sql',
      ].map((name) => join(repository, 'packages/telemetry-supabase/migrations', name)),
    });
    try {
      writeFileSync(join(project, 'telemetry-supabase.mjs'), quickStart('telemetry-supabase'));
      const { code, output } = await run(project, 'telemetry-supabase.mjs', {
        env: { SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey },
      });
      // One call is below the quick start's 10-call minimum, so no model is unhealthy yet.
      if (code !== 0 || output.trim() !== '[]') throw new Error(`exit ${code}, expected "[]":\n${output}`);
      const rows = (
        await stack.postgres.psql(
          "select provider || '/' || model || ' ' || call_count || ' call(s)' from model_health_tracking",
        )
      ).trim();
      if (rows !== 'openai/gpt-4o-mini 1 call(s)')
        throw new Error(`expected the recorded call in the table, got: ${rows}`);
      return `printed [] and wrote ${rows} through PostgREST`;
    } finally {
      await stack.stop();
    }
  });

  await check(
    'a newer @gatewayz/telemetry installed beside telemetry-node and telemetry-supabase: one copy',
    async () => {
      // An application that updates the core (a patch release here) without updating the packages
      // built on it must get one copy: two would each keep their own shared instance (different
      // versions do not share it) and expose the same metrics twice (docs/compatibility.md).
      if (files.length !== packages.length) throw new Error('nothing to install');
      const unpacked = join(scratch, 'newer-core');
      mkdirSync(unpacked);
      await execFile('tar', ['-xzf', files[packages.indexOf('telemetry')], '-C', unpacked]);
      const manifestPath = join(unpacked, 'package', 'package.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      const [major, minor, patch] = manifest.version.split('.').map(Number);
      manifest.version = `${major}.${minor}.${patch + 1}`;
      writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
      const { stdout: packed } = await execFile(npm, ['pack', '--json', '--pack-destination', unpacked], {
        cwd: join(unpacked, 'package'),
      });
      const newer = join(unpacked, JSON.parse(packed)[0].filename);
      const app = join(scratch, 'newer-core-app');
      mkdirSync(app);
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify({ name: 'gatewayz-newer-core', private: true, type: 'module' }),
      );
      const dependents = ['telemetry-node', 'telemetry-supabase'].map((folder) => files[packages.indexOf(folder)]);
      await execFile(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', newer, ...dependents, ...peers], {
        cwd: app,
        maxBuffer: 16 << 20,
      });
      // Every installed copy, wherever npm put it (a nested node_modules included).
      const { stdout } = await execFile(npm, ['query', '#@gatewayz/telemetry'], { cwd: app, maxBuffer: 16 << 20 });
      const copies = JSON.parse(stdout).map((node) => `${relative(app, node.path)}@${node.version}`);
      if (copies.length !== 1 || !copies[0].endsWith(`@${manifest.version}`))
        throw new Error(`expected one copy of @gatewayz/telemetry@${manifest.version}, found: ${copies.join(', ')}`);
      return copies[0];
    },
  );

  console.log(`${failures === 0 ? 'all checks passed' : `${failures} check(s) failed`} in ${seconds(started)}`);
  process.exitCode = failures === 0 ? 0 : 1;
} finally {
  if (!process.env.KEEP_SCRATCH) rmSync(scratch, { recursive: true, force: true });
}
