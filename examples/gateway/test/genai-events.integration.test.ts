import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SpanKindNumber,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedLogRecord,
  type ReceivedSpan,
} from '../../../test-support/otlp-receiver.js';
import { checkedGenAiContent, parsedGenAiContent } from '../../../test-support/genai-content-shapes.js';
import { otlpJsonGatewayEnv, startGatewayProcess } from './gateway-process.js';

// The opt-in gen_ai.client.inference.operation.details events and gen_ai.tool.definitions, end to
// end through built gateway processes and the OTLP/HTTP receiver (log records and spans):
// - span_and_event (OTLP protobuf): one event per attempt, correlated with its CLIENT span, with the
//   span's attributes (the gateway's cost among them) and the same content, structured, tool
//   definitions included;
// - EVENT_ONLY (OTLP JSON): the content is in the events and on no span;
// - OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT=true alone, every span unsampled: events without content,
//   emitted though no span is, with the attempt's cost.

const EVENT = 'gen_ai.client.inference.operation.details';
const CONTENT = [
  'gen_ai.input.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.definitions',
  'gen_ai.output.messages',
];

const weatherSchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const requests: Array<[path: string, body: Record<string, unknown>]> = [
  [
    '/v1/chat/completions',
    {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: weatherSchema } },
      ],
      temperature: 0.3,
    },
  ],
  ['/v1/chat/completions', { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Stream it.' }] }],
  [
    '/v1/messages',
    {
      model: 'claude-3-5-haiku',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Weather in Lyon?' }],
      tools: [{ name: 'get_weather', description: 'Weather now', input_schema: weatherSchema }],
    },
  ],
];
const expectedTools = [
  { type: 'function', name: 'get_weather', description: 'Weather now', parameters: weatherSchema },
];

/** An embeddings request, which is not an inference call: it gets no event. */
const embeddings: [string, Record<string, unknown>] = [
  '/v1/embeddings',
  { model: 'text-embedding-3-small', input: 'x' },
];

async function sendAll(url: string): Promise<void> {
  for (const [path, body] of [...requests, embeddings]) {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, path).toBe(200);
    await response.text();
  }
}

/** Run a gateway with `extra`, send the requests, stop it (its logs and spans flushed on shutdown). */
async function runGateway(receiver: OtlpReceiver, service: string, extra: Record<string, string>): Promise<void> {
  const gateway = await startGatewayProcess(otlpJsonGatewayEnv(receiver, { OTEL_SERVICE_NAME: service, ...extra }));
  await sendAll(gateway.url);
  expect(await gateway.terminate()).toBe(0);
}

const byStart = <T extends { startTimeUnixNano?: string; timeUnixNano?: string | undefined }>(a: T, b: T): number =>
  BigInt(a.startTimeUnixNano ?? a.timeUnixNano ?? 0) < BigInt(b.startTimeUnixNano ?? b.timeUnixNano ?? 0) ? -1 : 1;

describe('GenAI operation-details events of the gateway process', () => {
  let receiver: OtlpReceiver;
  const events = (service: string): ReceivedLogRecord[] =>
    receiver
      .logRecords()
      .filter((record) => record.resource['service.name'] === service && record.eventName === EVENT)
      .sort(byStart);
  // The attempt spans of the inference calls (the embeddings attempt has no event).
  const attempts = (service: string): ReceivedSpan[] =>
    receiver
      .spans()
      .filter(
        (span) =>
          span.resource['service.name'] === service &&
          span.kind === SpanKindNumber.CLIENT &&
          span.attributes['gen_ai.operation.name'] !== 'embeddings',
      )
      .sort(byStart);

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    await runGateway(receiver, 'both', {
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'span_and_event',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    });
    await runGateway(receiver, 'events-only', { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'EVENT_ONLY' });
    await runGateway(receiver, 'unsampled', {
      OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT: 'true',
      OTEL_TRACES_SAMPLER: 'always_off',
    });
    await receiver.waitForLogRecords(
      (records) => records.filter((record) => record.eventName === EVENT).length >= 3 * requests.length,
      10_000,
    );
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
  });

  it('span_and_event: one event per attempt, on its span, with its attributes and the same content, structured', () => {
    const spans = attempts('both');
    const records = events('both');
    expect(spans).toHaveLength(requests.length);
    expect(records).toHaveLength(requests.length);
    records.forEach((record, index) => {
      const span = spans[index]!;
      expect([record.traceId, record.spanId]).toEqual([span.traceId, span.spanId]);
      expect(record.scope.name).toBe('@gatewayz/example-gateway');
      const { metadata, content } = split(record.attributes);
      // Every attribute of the span but the content strings is on the event, equal: the gateway's
      // own too (the attempt's cost).
      expect(metadata).toEqual(split(span.attributes).metadata);
      expect(metadata['gen_ai.operation.name']).toBe('chat');
      expect(metadata['gatewayz.usage.cost_usd']).toBeGreaterThan(0);
      for (const [attribute, value] of Object.entries(content)) {
        expect(typeof value, attribute).toBe('object');
        expect(checkedGenAiContent(value, attribute)).toEqual(parsedGenAiContent(span.attributes, attribute));
      }
    });
    const [chat, stream, messages] = records.map((record) => split(record.attributes).content);
    expect(chat!['gen_ai.tool.definitions']).toEqual(expectedTools);
    expect(chat!['gen_ai.input.messages']).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
    ]);
    expect(Object.keys(stream!).sort()).toEqual(['gen_ai.input.messages', 'gen_ai.output.messages']);
    expect(messages!['gen_ai.tool.definitions']).toEqual(expectedTools);
    expect(messages!['gen_ai.system_instructions']).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect((messages!['gen_ai.output.messages'] as Array<{ finish_reason: string }>)[0]?.finish_reason).toBeTypeOf(
      'string',
    );
  });

  it('an embeddings call, which is not an inference call, has its span and no event', () => {
    const embeddingSpans = receiver
      .spans()
      .filter(
        (span) => span.resource['service.name'] === 'both' && span.attributes['gen_ai.operation.name'] === 'embeddings',
      );
    expect(embeddingSpans.map((span) => span.name)).toEqual(['embeddings text-embedding-3-small']);
    for (const service of ['both', 'events-only', 'unsampled'])
      expect(events(service).map((record) => record.attributes['gen_ai.operation.name'])).toEqual([
        'chat',
        'chat',
        'chat',
      ]);
  });

  it('EVENT_ONLY: the content is in the events and on no span', () => {
    const spans = attempts('events-only');
    const records = events('events-only');
    expect(spans).toHaveLength(requests.length);
    expect(records).toHaveLength(requests.length);
    for (const span of spans) for (const attribute of CONTENT) expect(span.attributes[attribute]).toBeUndefined();
    expect(JSON.stringify(spans)).not.toContain('Weather in Paris?');
    expect(split(records[0]!.attributes).content['gen_ai.tool.definitions']).toEqual(expectedTools);
    expect(split(records[1]!.attributes).content['gen_ai.output.messages']).toBeDefined();
    expect(split(records[2]!.attributes).content['gen_ai.system_instructions']).toEqual([
      { type: 'text', content: 'Be brief.' },
    ]);
  });

  it('EMIT_EVENT alone: events without content, emitted though no span is sampled', () => {
    expect(attempts('unsampled')).toEqual([]);
    const records = events('unsampled');
    expect(records).toHaveLength(requests.length);
    for (const record of records) {
      expect(split(record.attributes).content).toEqual({});
      expect(record.attributes['gen_ai.provider.name']).toBeTypeOf('string');
      expect(record.attributes['gen_ai.usage.input_tokens']).toBeTypeOf('number');
      // The cost the counters got, though no span carries it.
      expect(record.attributes['gatewayz.usage.cost_usd']).toBeGreaterThan(0);
      expect(record.traceId).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(records[0]!.attributes['gen_ai.request.temperature']).toBe(0.3);
    expect(records[1]!.attributes['gen_ai.request.stream']).toBe(true);
    expect(
      JSON.stringify(receiver.logRecords().filter((r) => r.resource['service.name'] === 'unsampled')),
    ).not.toContain('Paris');
  });
});

/** The content attributes of `attributes` apart from the rest. */
function split(attributes: Record<string, unknown>): {
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
} {
  const metadata: Record<string, unknown> = {};
  const content: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) (CONTENT.includes(key) ? content : metadata)[key] = value;
  return { metadata, content };
}
