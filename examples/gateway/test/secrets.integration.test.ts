import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { startSimulatedProvider, type SimulatedProvider } from '../src/index.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';

const API_KEY = `sk-planted-${randomBytes(12).toString('hex')}`;
const PROMPT = `planted-prompt-${randomBytes(12).toString('hex')}`;

describe('upstream API keys and prompts never leave the gateway', () => {
  let upstream: SimulatedProvider;
  let receiver: OtlpReceiver;
  let gateway: GatewayProcess;
  let directory: string;
  const exported: string[] = [];

  beforeAll(async () => {
    // A real provider that insists on the key: requests only succeed when the gateway sends it.
    upstream = await startSimulatedProvider({
      name: 'acme',
      models: ['acme-large'],
      apiKey: API_KEY,
      errorRate: 0.3,
      failureMode: 'error',
    });
    receiver = await startOtlpReceiver();
    directory = mkdtempSync(join(tmpdir(), 'gateway-secrets-'));
    const providersFile = join(directory, 'providers.json');
    writeFileSync(
      providersFile,
      JSON.stringify([
        {
          name: 'acme',
          baseUrl: upstream.baseUrl,
          apiKeyEnv: 'ACME_API_KEY',
          models: ['acme-large'],
          pricing: { 'acme-large': { inputPerMillionTokens: 1, outputPerMillionTokens: 2 } },
        },
      ]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_PROVIDERS_FILE: providersFile,
      ACME_API_KEY: API_KEY,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      BREAKER_VOLUME_THRESHOLD: '1000',
    });
    const post = async (path: string, body: unknown): Promise<void> => {
      const response = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      exported.push(await response.text());
    };
    for (let index = 0; index < 20; index++) {
      await post('/v1/chat/completions', {
        model: 'acme-large',
        stream: index % 2 === 0,
        messages: [{ role: 'user', content: `${PROMPT} #${index}` }],
      });
    }
    await post('/v1/messages', { model: 'acme-large', max_tokens: 10, messages: [{ role: 'user', content: PROMPT }] });
    await post('/v1/chat/completions', { model: 'acme-large', messages: [{ role: 'robot', content: PROMPT }] });
    await post('/v1/chat/completions', {
      model: 'acme-large',
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 'many',
    });
    for (const path of [
      '/metrics',
      '/prometheus/metrics/summary',
      '/prometheus/metrics/docs',
      '/v1/model-health',
      '/v1/model-health/unhealthy?error_threshold=0',
      '/v1/model-health/acme/acme-large',
      '/health',
    ]) {
      exported.push(
        await (
          await fetch(`${gateway.url}${path}`, {
            headers: { accept: path === '/metrics' ? 'application/openmetrics-text' : '*/*' },
          })
        ).text(),
      );
    }
    expect(await gateway.terminate()).toBe(0);
    exported.push(JSON.stringify(receiver.requests()));
    exported.push(gateway.output());
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
    await upstream?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('sends the key to the provider (so the check below is meaningful)', () => {
    expect(upstream.outcomes.get('acme-large')?.succeeded ?? 0).toBeGreaterThan(0);
    expect(upstream.outcomes.get('acme-large')?.failed ?? 0).toBeGreaterThan(0);
    expect(receiver.requests().length).toBeGreaterThan(0);
  });

  it('keeps the key and the prompt out of metrics, spans, logs, model health and error messages', () => {
    const everything = exported.join('\n');
    expect(everything).toContain('acme-large');
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(PROMPT);
  });
});
