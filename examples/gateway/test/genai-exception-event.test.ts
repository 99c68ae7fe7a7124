import { SpanKind } from '@opentelemetry/api';
import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanRecorder } from './harness.js';
import { chatCompletionAnswer, startScriptedGateway, type ScriptedGateway } from './scripted-upstream.js';

/*
 * The gen_ai.client.operation.exception event of a failed provider attempt: emitted under the switch
 * of the operation-details events (OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT), at WARN, with the
 * failure's type, the gateway's message and its error.type, and correlated with the attempt span.
 * The scripted upstream answers a path it has no script for with HTTP 404, which the gateway holds
 * against the provider (its base URL or model is wrong).
 */

const CHAT = '/v1/chat/completions';
const model = 'gpt-failing';
const EXCEPTION = 'gen_ai.client.operation.exception';
const DETAILS = 'gen_ai.client.inference.operation.details';

async function chat(gw: ScriptedGateway): Promise<number> {
  const response = await fetch(`${gw.url}${CHAT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.text();
  return response.status;
}

describe('the exception event of a failed provider attempt', () => {
  let gw: ScriptedGateway;
  const spans = new SpanRecorder();
  const logs = new InMemoryLogRecordExporter();

  beforeAll(async () => {
    gw = await startScriptedGateway({ name: 'openai', models: [model] }, [spans], {
      telemetryEnv: { OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT: 'true' },
      logExporter: logs,
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('is emitted at WARN with the failure, correlated with the attempt span', async () => {
    logs.reset();
    spans.clear();
    expect(await chat(gw)).toBe(502);
    await gw.otel.forceFlush();
    const records = logs.getFinishedLogRecords();
    const [event, ...others] = records.filter((record) => record.eventName === EXCEPTION);
    expect(others).toEqual([]);
    expect(event!.severityNumber).toBe(13);
    expect(event!.instrumentationScope.schemaUrl).toBe('https://opentelemetry.io/schemas/1.41.0');
    expect(event!.severityText).toBe('WARN');
    expect(event!.attributes).toEqual({
      'exception.type': 'UpstreamFailure',
      'exception.message': 'Upstream error (HTTP 404)',
      'error.type': '404',
    });
    const attempts = spans.spans.filter((span) => span.kind === SpanKind.CLIENT);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.attributes['error.type']).toBe('404');
    expect(event!.spanContext?.traceId).toBe(attempts[0]!.spanContext().traceId);
    expect(event!.spanContext?.spanId).toBe(attempts[0]!.spanContext().spanId);
    // The details event of the same attempt goes out beside it, correlated with the same span.
    const details = records.filter((record) => record.eventName === DETAILS);
    expect(details.map((record) => record.spanContext?.spanId)).toEqual([attempts[0]!.spanContext().spanId]);
  });

  it('is not emitted for an attempt that succeeds', async () => {
    logs.reset();
    gw.upstream.scriptJson(
      CHAT,
      chatCompletionAnswer('chatcmpl-ok', model, 'Hello.', { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }),
    );
    expect(await chat(gw)).toBe(200);
    await gw.otel.forceFlush();
    const names = logs.getFinishedLogRecords().map((record) => record.eventName);
    expect(names).toContain(DETAILS);
    expect(names).not.toContain(EXCEPTION);
  });
});

describe('the exception event with GenAI events off', () => {
  it('is not emitted: it is under the same switch as the details event', async () => {
    const logs = new InMemoryLogRecordExporter();
    const gw = await startScriptedGateway({ name: 'openai', models: [model] }, [], { logExporter: logs });
    try {
      expect(await chat(gw)).toBe(502);
      await gw.otel.forceFlush();
      const names = logs.getFinishedLogRecords().map((record) => record.eventName);
      expect(names).not.toContain(EXCEPTION);
      expect(names).not.toContain(DETAILS);
    } finally {
      await gw.close();
    }
  });
});
