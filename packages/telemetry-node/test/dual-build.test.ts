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
});
