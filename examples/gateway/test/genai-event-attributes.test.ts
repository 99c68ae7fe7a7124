import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sampleSum, SpanRecorder } from './harness.js';
import {
  chatCompletionAnswer,
  leaveChatStreamAtFirstContent,
  startScriptedGateway,
  type ScriptedGateway,
} from './scripted-upstream.js';

/*
 * The gateway's own attributes of an attempt (its cost, a cancellation) on its
 * gen_ai.client.inference.operation.details event, with every span unsampled
 * (OTEL_TRACES_SAMPLER=always_off): the event is then the only per-call record, and the cost it
 * carries must be the number the cost counter got. The official OpenAI SDK is the client; the
 * scripted upstream answers with known usage at known prices.
 */

const CHAT = '/v1/chat/completions';
const model = 'gpt-priced';
const EVENT = 'gen_ai.client.inference.operation.details';
// USD per million tokens.
const prices = { inputPerMillionTokens: 2, cachedInputPerMillionTokens: 0.5, outputPerMillionTokens: 8 };

const chunkBase = { id: 'chatcmpl-events', object: 'chat.completion.chunk', created: 1_700_000_000, model };
const delta = (content: string): Record<string, unknown> => ({
  ...chunkBase,
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

let gw: ScriptedGateway;
const spans = new SpanRecorder();
const logs = new InMemoryLogRecordExporter();
let openai: OpenAI;

beforeAll(async () => {
  gw = await startScriptedGateway({ name: 'openai', models: [model], pricing: { [model]: prices } }, [spans], {
    telemetryEnv: { OTEL_TRACES_SAMPLER: 'always_off', OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT: 'true' },
    logExporter: logs,
  });
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
});

/** The operation-details events exported so far, after a flush. */
async function events(): Promise<Array<Record<string, unknown>>> {
  await gw.otel.forceFlush();
  return logs
    .getFinishedLogRecords()
    .filter((record) => record.eventName === EVENT)
    .map((record) => ({ ...record.attributes }));
}

describe('the operation-details event of an unsampled attempt', () => {
  it('carries the attempt cost the cost counter got, and no cancellation', async () => {
    logs.reset();
    gw.upstream.scriptJson(
      CHAT,
      chatCompletionAnswer('chatcmpl-1', model, 'Hello.', {
        prompt_tokens: 1_000,
        completion_tokens: 250,
        total_tokens: 1_250,
        prompt_tokens_details: { cached_tokens: 400 },
      }),
    );
    const before = sampleSum(await gw.scrape(), 'gatewayz_cost_by_provider_total', { provider: 'openai' });
    await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    const after = sampleSum(await gw.scrape(), 'gatewayz_cost_by_provider_total', { provider: 'openai' });
    const [event, ...others] = await events();
    expect(others).toEqual([]);
    // 600 uncached input tokens at 2, 400 cached at 0.5 and 250 output at 8, per million.
    const expected = (600 * 2 + 400 * 0.5 + 250 * 8) / 1e6;
    expect(event!['gatewayz.usage.cost_usd']).toBeCloseTo(expected, 15);
    expect(after - before).toBeCloseTo(expected, 12);
    expect(event!['gen_ai.usage.input_tokens']).toBe(1_000);
    expect(event!['gatewayz.client_cancelled']).toBeUndefined();
    expect(event!['gatewayz.server_shutdown']).toBeUndefined();
    // No span was sampled, so no span has the cost: the event alone does.
    expect(spans.spans).toEqual([]);
  });

  it('says a client left a stream, without a cost (no usage came)', async () => {
    logs.reset();
    gw.upstream.script(CHAT, [
      { afterMs: 20, data: delta('A') },
      { afterMs: 3_000, data: delta('B') },
    ]);
    await leaveChatStreamAtFirstContent(openai, model);
    // The gateway finishes the attempt when it hears the client leave.
    const recorded = await vi.waitFor(
      async () => {
        const found = await events();
        expect(found.length).toBeGreaterThan(0);
        return found;
      },
      { timeout: 5_000, interval: 50 },
    );
    const [event, ...others] = recorded;
    expect(others).toEqual([]);
    expect(event!['gatewayz.client_cancelled']).toBe(true);
    // The stream had begun: the attempt answered, and its client left.
    expect(event!['gen_ai.response.id']).toBe('chatcmpl-events');
    expect(event!['gatewayz.usage.cost_usd']).toBeUndefined();
    expect(spans.spans).toEqual([]);
  });
});
