import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * A scratch project whose node_modules links the built packages and their runtime dependencies, so
 * Node resolves them through their `exports` maps exactly as an installed copy would.
 */
describe('the built packages load from a scratch project as ESM and as CommonJS', () => {
  let project: string;

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'gatewayz-scratch-'));
    mkdirSync(join(project, 'node_modules', '@gatewayz'), { recursive: true });
    symlinkSync(join(repository, 'packages', 'telemetry'), join(project, 'node_modules', '@gatewayz', 'telemetry'));
    symlinkSync(
      join(repository, 'packages', 'telemetry-node'),
      join(project, 'node_modules', '@gatewayz', 'telemetry-node'),
    );
    symlinkSync(
      join(repository, 'packages', 'telemetry-supabase'),
      join(project, 'node_modules', '@gatewayz', 'telemetry-supabase'),
    );
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  const run = (file: string, source: string): string => {
    writeFileSync(join(project, file), source);
    return execFileSync(process.execPath, [join(project, file)], {
      cwd: project,
      // Dependencies of the packages resolve from the repository's node_modules.
      env: { ...process.env, NODE_PATH: join(repository, 'node_modules') },
      encoding: 'utf8',
    });
  };

  const program = (load: string) => `${load}
const otel = startTelemetry({ serviceName: 'scratch', traces: false, hostMetrics: false, env: {} });
recordProviderResponseTime('openai', 0.25);
incrementCostByProvider('openai', 0.5);
otel.metricsHandler(new Request('http://localhost/prometheus/metrics/providers')).then(async (response) => {
  const text = await response.text();
  console.log(response.status, text.includes('provider_response_time_seconds_count{provider="openai"} 1'));
  await otel.shutdown();
});
`;

  it('imports as ESM', () => {
    const output = run(
      'esm.mjs',
      program(`import { startTelemetry } from '@gatewayz/telemetry-node';
import { recordProviderResponseTime, incrementCostByProvider } from '@gatewayz/telemetry';`),
    );
    expect(output.trim()).toBe('200 true');
  });

  it('requires as CommonJS', () => {
    const output = run(
      'cjs.cjs',
      program(`const { startTelemetry } = require('@gatewayz/telemetry-node');
const { recordProviderResponseTime, incrementCostByProvider } = require('@gatewayz/telemetry');`),
    );
    expect(output.trim()).toBe('200 true');
  });

  it('records into one shared instance when an ESM application and a CommonJS dependency load both builds', () => {
    // The application imports the ESM build; a dependency of it requires the CommonJS build. Each
    // build used to keep its own shared instance: the dependency's bound itself to the SDK's meter
    // provider, so the scrape carried provider_response_time_seconds twice (promtool refuses that)
    // and the OpenMetrics answer, the one Prometheus asks for, kept only one of the two families.
    const output = run(
      'mixed.mjs',
      `import { createRequire } from 'node:module';
import { startTelemetry } from '@gatewayz/telemetry-node';
import * as esm from '@gatewayz/telemetry';
const cjs = createRequire(import.meta.url)('@gatewayz/telemetry');
cjs.incrementCostByProvider('dependency', 1);   // the dependency records at its top level, before start-up
esm.incrementCostByProvider('application', 1);
const otel = startTelemetry({ serviceName: 'scratch', traces: false, runtimeMetrics: false, hostMetrics: false, env: {} });
esm.recordProviderResponseTime('application', 0.25);
cjs.recordProviderResponseTime('dependency', 0.5);
cjs.incrementCostByProvider('dependency', 2);
cjs.recordProviderResponseTime('dependency', Number.NaN);
const scrape = async (accept) => (await otel.metricsHandler(new Request('http://localhost/metrics', { headers: { accept } }))).text();
const text = await scrape('text/plain');
const openMetrics = await scrape('application/openmetrics-text;version=1.0.0');
const families = (body) => body.split('\\n').filter((line) => line.startsWith('# TYPE ')).map((line) => line.split(' ')[2]);
const repeated = (body) => families(body).filter((name, index, all) => all.indexOf(name) !== index);
const lines = (body, pattern) => body.split('\\n').filter((line) => pattern.test(line)).sort();
console.log(JSON.stringify({
  oneInstance: cjs.getTelemetry() === otel.telemetry && esm.getTelemetry() === otel.telemetry,
  repeatedText: repeated(text),
  repeatedOpenMetrics: repeated(openMetrics),
  text: lines(text, /^(provider_response_time_seconds_count|gatewayz_cost_by_provider_total|gatewayz_telemetry_dropped_total)\\{/),
  openMetrics: lines(openMetrics, /^provider_response_time_seconds_count\\{/),
}));
await otel.shutdown();
`,
    );
    expect(JSON.parse(output)).toEqual({
      oneInstance: true,
      repeatedText: [],
      repeatedOpenMetrics: [],
      text: [
        'gatewayz_cost_by_provider_total{provider="application"} 1',
        'gatewayz_cost_by_provider_total{provider="dependency"} 3',
        'gatewayz_telemetry_dropped_total{reason="not_a_number",metric="provider_response_time_seconds"} 1',
        'provider_response_time_seconds_count{provider="application"} 1',
        'provider_response_time_seconds_count{provider="dependency"} 1',
      ],
      openMetrics: [
        'provider_response_time_seconds_count{provider="application"} 1',
        'provider_response_time_seconds_count{provider="dependency"} 1',
      ],
    });
  });

  it('matches each cluster reply to its own request when a worker uses both builds for model-health calls', () => {
    // A real node:cluster primary and worker. The worker's application uses the ESM build's
    // ClusterModelHealthStore, a dependency the CommonJS build's: both listen on the worker's one IPC
    // channel. Request ids used to be counted per build, so both sent id 1, 2, …, and the first reply
    // with an id was taken by both requests that had it: the application read the dependency's answer.
    const output = run(
      'cluster-ids.mjs',
      `import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import * as esm from '@gatewayz/telemetry-node';
const cjs = createRequire(import.meta.url)('@gatewayz/telemetry-node');
if (cluster.isPrimary) {
  // The primary's store answers with the provider it was asked about; the ESM caller's answers come later.
  const store = {
    async getProviderSummary(provider) {
      await new Promise((resolve) => setTimeout(resolve, provider === 'esm' ? 30 : 0));
      return { provider };
    },
  };
  const primary = esm.startClusterPrimary({ modelHealthStore: store });
  const worker = cluster.fork();
  const deadline = setTimeout(() => { console.log('{"timeout":true}'); worker.kill(); primary.stop(); }, 15000);
  worker.on('message', (received) => {
    if (received?.answers === undefined) return;
    clearTimeout(deadline);
    console.log(JSON.stringify(received.answers));
    primary.stop();
    worker.kill();
  });
} else {
  const application = new esm.ClusterModelHealthStore({ timeoutMs: 5000 });
  const dependency = new cjs.ClusterModelHealthStore({ timeoutMs: 5000 });
  const calls = [];
  for (let round = 0; round < 3; round++) {
    calls.push(application.getProviderSummary('esm'), dependency.getProviderSummary('cjs'));
  }
  const settled = await Promise.allSettled(calls);
  const answers = settled.map((result) => (result.status === 'fulfilled' ? result.value?.provider : String(result.reason)));
  application.close();
  dependency.close();
  process.send({ answers });
}
`,
    );
    expect(JSON.parse(output)).toEqual(['esm', 'cjs', 'esm', 'cjs', 'esm', 'cjs']);
  });

  it('recognises errors across the ESM and CJS builds loaded side by side with isInstance()', () => {
    // Each build has its own classes, so instanceof fails across them; the Symbol.for brands do not.
    const output = run(
      'both.mjs',
      `import { createRequire } from 'node:module';
import * as esm from '@gatewayz/telemetry';
import * as esmSupabase from '@gatewayz/telemetry-supabase';
const require = createRequire(import.meta.url);
const cjs = require('@gatewayz/telemetry');
const cjsSupabase = require('@gatewayz/telemetry-supabase');
const thrown = (telemetry) => { try { new telemetry.GatewayTelemetry({ maxSeriesPerMetric: 0 }); } catch (error) { return error; } };
const fromEsm = thrown(esm);
const fromCjs = thrown(cjs);
const supabaseDetails = { code: 'UNAVAILABLE', operation: 'record_model_calls', message: 'down', retryable: true };
const fromCjsSupabase = new cjsSupabase.SupabaseModelHealthStoreError(supabaseDetails);
const fromEsmSupabase = new esmSupabase.SupabaseModelHealthStoreError(supabaseDetails);
console.log(JSON.stringify({
  distinctClasses: esm.TelemetryError !== cjs.TelemetryError,
  instanceofAcross: fromCjs instanceof esm.TelemetryError,
  esmSeesCjs: esm.TelemetryConfigurationError.isInstance(fromCjs) && esm.TelemetryError.isInstance(fromCjs),
  cjsSeesEsm: cjs.TelemetryConfigurationError.isInstance(fromEsm) && cjs.TelemetryError.isInstance(fromEsm),
  wrongSubclass: esm.TelemetryInputError.isInstance(fromCjs) || cjs.TelemetryInputError.isInstance(fromEsm),
  supabase: esmSupabase.SupabaseModelHealthStoreError.isInstance(fromCjsSupabase) &&
    cjsSupabase.SupabaseModelHealthStoreError.isInstance(fromEsmSupabase) &&
    esm.TelemetryError.isInstance(fromCjsSupabase) && cjs.TelemetryError.isInstance(fromEsmSupabase),
  supabaseIsNotConfiguration: esm.TelemetryConfigurationError.isInstance(fromCjsSupabase),
  names: [fromCjs.name, fromEsm.name, fromCjsSupabase.name],
  codes: [fromCjs.code, fromEsmSupabase.code],
}));
`,
    );
    expect(JSON.parse(output)).toEqual({
      distinctClasses: true,
      instanceofAcross: false,
      esmSeesCjs: true,
      cjsSeesEsm: true,
      wrongSubclass: false,
      supabase: true,
      supabaseIsNotConfiguration: false,
      names: ['TelemetryConfigurationError', 'TelemetryConfigurationError', 'SupabaseModelHealthStoreError'],
      codes: ['INVALID_OPTION', 'UNAVAILABLE'],
    });
  });
});
