import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SpanKindNumber,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedLogRecord,
  type ReceivedSpan,
} from '../../../test-support/otlp-receiver.js';
import { startGatewayProcess } from './gateway-process.js';

describe('structured logs from the gateway process, exported over OTLP and correlated with traces', () => {
  let receiver: OtlpReceiver;
  let records: ReceivedLogRecord[];
  let spans: ReceivedSpan[];
  let stdout: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const gateway = await startGatewayProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BLRP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'debug',
      DEMO_LATENCY_MS: '0',
      // openrouter, the only provider of llama-3.1-8b-instruct, fails every call.
      DEMO_ERROR_RATE: '1',
    });
    for (const model of ['gpt-4o-mini', 'llama-3.1-8b-instruct', 'llama-3.1-8b-instruct']) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await response.text();
    }
    expect(await gateway.terminate()).toBe(0);
    stdout = gateway.output();
    records = receiver.logRecords();
    spans = receiver.spans();
  }, 60_000);
  afterAll(async () => receiver?.close());

  it('logs each failed provider attempt as a WARN record carrying the attempt span', () => {
    const failures = records.filter((record) => record.body === 'provider attempt failed');
    expect(failures).toHaveLength(2);
    for (const record of failures) {
      expect(record.severityText).toBe('WARN');
      expect(record.attributes).toMatchObject({
        provider: 'openrouter',
        model: 'llama-3.1-8b-instruct',
        status: 'error',
        error_type: '500',
      });
      const span = spans.find((candidate) => candidate.spanId === record.spanId);
      expect(span?.kind).toBe(SpanKindNumber.CLIENT);
      expect(span?.traceId).toBe(record.traceId);
    }
  });

  it('writes a debug access log per request inside the request span', () => {
    const access = records.filter((record) => record.body === 'request');
    expect(access.map((record) => record.attributes['status']).sort()).toEqual([200, 502, 502]);
    for (const record of access) {
      const span = spans.find((candidate) => candidate.spanId === record.spanId);
      expect(span?.kind).toBe(SpanKindNumber.SERVER);
    }
  });

  it('writes the same records as JSON lines with trace_id and span_id on standard output', () => {
    const lines = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const failure = lines.find((line) => line['msg'] === 'provider attempt failed');
    expect(failure).toMatchObject({ level: 'warn', provider: 'openrouter' });
    expect(failure?.['trace_id']).toMatch(/^[0-9a-f]{32}$/);
    expect(
      records.some((record) => record.traceId === failure?.['trace_id'] && record.spanId === failure?.['span_id']),
    ).toBe(true);
    expect(lines.find((line) => line['msg'] === 'gateway listening')).toMatchObject({
      level: 'info',
      logs: 'standard output and OTLP',
    });
  });
});
