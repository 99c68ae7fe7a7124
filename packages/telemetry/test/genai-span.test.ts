import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type GenAiOperationRecord } from '../src/index.js';
import { endGenAiSpan, semconv, startGenAiSpan } from '../src/genai/index.js';
import { bucketCount, createTelemetry, type MetricsHarness } from './helpers.js';

let exporter: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
const harnesses: MetricsHarness[] = [];

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
});

afterEach(async () => {
  await tracerProvider.shutdown();
  await Promise.all(harnesses.splice(0).map((harness) => harness.shutdown()));
});

function setup() {
  const created = createTelemetry();
  harnesses.push(created.harness);
  return created;
}

describe('startGenAiSpan / endGenAiSpan', () => {
  it('creates a CLIENT span named "{operation} {model}" with the GenAI attributes', () => {
    const tracer = tracerProvider.getTracer('test');
    const span = startGenAiSpan(tracer, {
      operationName: 'chat',
      providerName: 'openai',
      requestModel: 'gpt-4o-mini',
      serverAddress: 'api.openai.com',
      serverPort: 443,
      maxTokens: 256,
    });
    endGenAiSpan(span, {
      responseModel: 'gpt-4o-mini-2024-07-18',
      inputTokens: 12,
      outputTokens: 30,
      finishReasons: ['stop'],
    });

    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const [finished] = spans;
    expect(finished?.name).toBe('chat gpt-4o-mini');
    expect(finished?.kind).toBe(SpanKind.CLIENT);
    expect(finished?.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'server.address': 'api.openai.com',
      'server.port': 443,
      'gen_ai.request.max_tokens': 256,
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(finished?.attributes[semconv.ATTR_ERROR_TYPE]).toBeUndefined();
    expect(finished?.status.code).toBe(SpanStatusCode.UNSET);
    expect(finished?.ended).toBe(true);
  });

  it('sets only the attributes it was given', () => {
    const tracer = tracerProvider.getTracer('test');
    endGenAiSpan(
      startGenAiSpan(tracer, { operationName: 'embeddings', providerName: 'mistral', requestModel: 'mistral-embed' }),
    );

    const [finished] = exporter.getFinishedSpans();
    expect(finished?.name).toBe('embeddings mistral-embed');
    expect(finished?.attributes).toEqual({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'mistral',
      'gen_ai.request.model': 'mistral-embed',
    });
  });

  it('records gen_ai.conversation.id when the application gives one, never an empty one', () => {
    const tracer = tracerProvider.getTracer('test');
    const base = { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' } as const;
    endGenAiSpan(startGenAiSpan(tracer, { ...base, conversationId: 'session-42' }));
    endGenAiSpan(startGenAiSpan(tracer, { ...base, conversationId: '' }));
    const [withId, empty] = exporter.getFinishedSpans();
    expect(semconv.ATTR_GEN_AI_CONVERSATION_ID).toBe('gen_ai.conversation.id');
    expect(withId?.attributes['gen_ai.conversation.id']).toBe('session-42');
    expect(empty?.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
    });
  });

  it('marks the span failed with error.type and an ERROR status when errorType is given', () => {
    const tracer = tracerProvider.getTracer('test');
    const span = startGenAiSpan(tracer, { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' });
    endGenAiSpan(span, { errorType: 'timeout' });

    const [finished] = exporter.getFinishedSpans();
    expect(finished?.attributes['error.type']).toBe('timeout');
    expect(finished?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'timeout' });
  });

  it('starts the span under the given parent context', () => {
    const tracer = tracerProvider.getTracer('test');
    const parent = tracer.startSpan('POST /v1/chat/completions');
    const child = startGenAiSpan(
      tracer,
      { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' },
      trace.setSpan(context.active(), parent),
    );
    endGenAiSpan(child);
    parent.end();

    const finished = exporter.getFinishedSpans();
    const childSpan = finished.find((span) => span.name === 'chat gpt-4o-mini');
    expect(childSpan?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(childSpan?.spanContext().traceId).toBe(parent.spanContext().traceId);
  });

  it('copies the finish reasons it is given', () => {
    const tracer = tracerProvider.getTracer('test');
    const reasons = ['stop', 'length'];
    endGenAiSpan(startGenAiSpan(tracer, { operationName: 'chat', providerName: 'openai', requestModel: 'm' }), {
      finishReasons: reasons,
    });
    reasons.push('tool_calls');
    expect(exporter.getFinishedSpans()[0]?.attributes['gen_ai.response.finish_reasons']).toEqual(['stop', 'length']);
  });
});

const DURATION = 'gen_ai.client.operation.duration';
const TOKENS = 'gen_ai.client.token.usage';

const baseOperation: GenAiOperationRecord = {
  operationName: 'chat',
  providerName: 'openai',
  requestModel: 'gpt-4o-mini',
  responseModel: 'gpt-4o-mini-2024-07-18',
  durationSeconds: 0.9,
};

const baseAttributes = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o-mini',
  'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
};

describe('recordGenAiOperation', () => {
  it('records the duration without error.type on success and with it on failure', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordGenAiOperation(baseOperation);
    telemetry.recordGenAiOperation({ ...baseOperation, durationSeconds: 0.3 });
    telemetry.recordGenAiOperation({ ...baseOperation, durationSeconds: 30, errorType: 'timeout' });

    const collected = await collect();
    const metric = collected.require(DURATION);
    expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(metric.descriptor.unit).toBe('s');
    const points = collected.points(DURATION);
    expect(points).toHaveLength(2);

    const success = points.find((point) => !('error.type' in point.attributes));
    expect(success?.attributes).toEqual(baseAttributes);
    const successHistogram = collected.histogram(DURATION, baseAttributes);
    expect(successHistogram?.count).toBe(2);
    expect(successHistogram?.sum).toBeCloseTo(1.2, 12);
    expect(successHistogram?.buckets.boundaries).toEqual([...semconv.GEN_AI_DURATION_BUCKETS]);
    expect(successHistogram && bucketCount(successHistogram, 1.28)).toBe(1);
    expect(successHistogram && bucketCount(successHistogram, 0.32)).toBe(1);

    const failure = collected.histogram(DURATION, { ...baseAttributes, 'error.type': 'timeout' });
    expect(failure?.count).toBe(1);
    expect(failure && bucketCount(failure, 40.96)).toBe(1);
  });

  it('defaults the response model to the request model', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordGenAiOperation({
      operationName: 'chat',
      providerName: 'anthropic',
      requestModel: 'claude',
      durationSeconds: 1,
    });
    const [point] = (await collect()).points(DURATION);
    expect(point?.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude',
      'gen_ai.response.model': 'claude',
    });
  });

  it('leaves gen_ai.response.model out of a failed operation without one, as its span does', async () => {
    const { telemetry, collect } = setup();
    const failed = { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o', errorType: 'timeout' };
    telemetry.recordGenAiOperation({ ...failed, durationSeconds: 0.2, inputTokens: 40, timeToFirstChunkSeconds: 0.1 });
    telemetry.recordGenAiServerRequest({ ...failed, durationSeconds: 0.3, errorType: '502' });
    // A failure whose provider named the model it answered with keeps it.
    telemetry.recordGenAiOperation({ ...failed, responseModel: 'gpt-4o-2024-08-06', durationSeconds: 0.4 });

    const collected = await collect();
    const withoutResponse = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
    };
    expect(collected.histogram(DURATION, { ...withoutResponse, 'error.type': 'timeout' })?.count).toBe(1);
    expect(collected.histogram(TOKENS, { ...withoutResponse, 'gen_ai.token.type': 'input' })?.count).toBe(1);
    expect(collected.histogram('gen_ai.client.operation.time_to_first_chunk', withoutResponse)?.count).toBe(1);
    expect(
      collected.histogram('gen_ai.server.request.duration', { ...withoutResponse, 'error.type': '502' })?.count,
    ).toBe(1);
    expect(
      collected.histogram(DURATION, {
        ...withoutResponse,
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'error.type': 'timeout',
      })?.count,
    ).toBe(1);
    expect(collected.points(DURATION)).toHaveLength(2);
    const tracer = tracerProvider.getTracer('test');
    endGenAiSpan(startGenAiSpan(tracer, failed), { errorType: 'timeout' });
    expect(exporter.getFinishedSpans()[0]?.attributes['gen_ai.response.model']).toBeUndefined();
  });

  it('observes token usage once per gen_ai.token.type', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordGenAiOperation({ ...baseOperation, inputTokens: 12, outputTokens: 300 });
    telemetry.recordGenAiOperation({ ...baseOperation, inputTokens: 20 });

    const collected = await collect();
    const metric = collected.require(TOKENS);
    expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(metric.descriptor.unit).toBe('{token}');
    expect(collected.points(TOKENS)).toHaveLength(2);

    const input = collected.histogram(TOKENS, { ...baseAttributes, 'gen_ai.token.type': 'input' });
    expect(input?.count).toBe(2);
    expect(input?.sum).toBe(32);
    expect(input?.buckets.boundaries).toEqual([...semconv.GEN_AI_TOKEN_BUCKETS]);
    expect(input && bucketCount(input, 16)).toBe(1);
    expect(input && bucketCount(input, 64)).toBe(1);

    const output = collected.histogram(TOKENS, { ...baseAttributes, 'gen_ai.token.type': 'output' });
    expect(output?.count).toBe(1);
    expect(output?.sum).toBe(300);
    expect(output && bucketCount(output, 1024)).toBe(1);
  });

  it('records no token usage when no token counts are given', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordGenAiOperation(baseOperation);
    expect((await collect()).metric(TOKENS)).toBeUndefined();
  });

  it('drops the whole operation when the duration is invalid', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordGenAiOperation({ ...baseOperation, durationSeconds: -1, inputTokens: 10, outputTokens: 10 });
    const collected = await collect();
    expect(collected.metric(DURATION)).toBeUndefined();
    expect(collected.metric(TOKENS)).toBeUndefined();
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'out_of_range', metric: DURATION })).toBe(1);
  });

  it('keeps the duration when a token count is invalid', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordGenAiOperation({ ...baseOperation, inputTokens: Number.NaN, outputTokens: 5 });
    const collected = await collect();
    expect(collected.histogram(DURATION, baseAttributes)?.count).toBe(1);
    expect(collected.histogram(TOKENS, { ...baseAttributes, 'gen_ai.token.type': 'output' })?.count).toBe(1);
    expect(collected.histogram(TOKENS, { ...baseAttributes, 'gen_ai.token.type': 'input' })).toBeUndefined();
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'not_a_number', metric: TOKENS })).toBe(1);
  });

  it('drops an empty error type rather than recording a blank label', async () => {
    const { telemetry, collect } = setup();
    telemetry.recordGenAiOperation({ ...baseOperation, errorType: '  ' });
    const collected = await collect();
    expect(collected.metric(DURATION)).toBeUndefined();
    expect(collected.value('gatewayz_telemetry_dropped', { reason: 'empty_label', metric: DURATION })).toBe(1);
  });
});
