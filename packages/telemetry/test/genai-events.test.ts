/**
 * The opt-in `gen_ai.client.inference.operation.details` event (`emitGenAiOperationDetails`) through
 * a real Logs SDK, `gen_ai.tool.definitions` on spans, and the capture modes of
 * `GatewayTelemetry.genAiContent` (`captureGenAiContent`, `emitGenAiEvents`).
 */
import { logs as logsApi, type Logger } from '@opentelemetry/api-logs';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayTelemetry, TelemetryConfigurationError, getTelemetry, setTelemetry } from '../src/index.js';
import {
  GEN_AI_CONTENT_TRUNCATION_MARKER,
  emitGenAiOperationDetails,
  endGenAiSpan,
  semconv,
  startGenAiSpan,
  type GenAiEventLogger,
  type GenAiOperationDetails,
  type GenAiInputMessage,
  type GenAiOutputMessage,
  type GenAiSpanEnd,
  type GenAiSpanStart,
  type GenAiToolDefinition,
} from '../src/genai/index.js';
import { CollectingDiagLogger, createTelemetry } from './helpers.js';
import { checkedGenAiContent, parsedGenAiContent } from '../../../test-support/genai-content-shapes.js';

const tools: GenAiToolDefinition[] = [
  {
    type: 'function',
    name: 'get_weather',
    description: 'The current weather in a city, with its temperature in Celsius or Fahrenheit.',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string', description: 'The city' }, unit: { enum: ['c', 'f'] } },
      required: ['location'],
    },
    strict: true,
  },
  { type: 'web_search', name: 'web_search', max_uses: 3 },
];
const input: GenAiInputMessage[] = [{ role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] }];
const output: GenAiOutputMessage[] = [
  {
    role: 'assistant',
    parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { location: 'Paris' } }],
    finish_reason: 'tool_call',
  },
];
const start: GenAiSpanStart = {
  operationName: 'chat',
  providerName: 'openai',
  requestModel: 'gpt-4o-mini',
  serverAddress: 'api.openai.com',
  serverPort: 443,
  stream: true,
  maxTokens: 256,
  temperature: 0.2,
  stopSequences: ['\n\n'],
};
const end: GenAiSpanEnd = {
  responseModel: 'gpt-4o-mini-2024-07-18',
  responseId: 'chatcmpl-1',
  inputTokens: 40,
  outputTokens: 12,
  cacheReadInputTokens: 32,
  reasoningOutputTokens: 4,
  timeToFirstChunkSeconds: 0.25,
  finishReasons: ['tool_call'],
};
/** What the event carries without content: the span's own attributes. */
const expectedMetadata = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o-mini',
  'server.address': 'api.openai.com',
  'server.port': 443,
  'gen_ai.request.stream': true,
  'gen_ai.request.max_tokens': 256,
  'gen_ai.request.temperature': 0.2,
  'gen_ai.request.stop_sequences': ['\n\n'],
  'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
  'gen_ai.response.id': 'chatcmpl-1',
  'gen_ai.usage.input_tokens': 40,
  'gen_ai.usage.output_tokens': 12,
  'gen_ai.usage.cache_read.input_tokens': 32,
  'gen_ai.usage.reasoning.output_tokens': 4,
  'gen_ai.response.time_to_first_chunk': 0.25,
  'gen_ai.response.finish_reasons': ['tool_call'],
};

let spans: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
let records: InMemoryLogRecordExporter;
let loggerProvider: LoggerProvider;
let logger: Logger;
let diagnostics: CollectingDiagLogger;
beforeEach(() => {
  spans = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  records = new InMemoryLogRecordExporter();
  loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: records })] });
  logger = loggerProvider.getLogger('test');
  diagnostics = new CollectingDiagLogger().install();
});
afterEach(async () => {
  CollectingDiagLogger.uninstall();
  await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown()]);
});

describe('gen_ai.tool.definitions on spans', () => {
  it('is a JSON string in the shape of the v1.41 tool definitions schema, only when given', () => {
    const tracer = tracerProvider.getTracer('test');
    endGenAiSpan(startGenAiSpan(tracer, { ...start, toolDefinitions: tools, inputMessages: input }));
    endGenAiSpan(startGenAiSpan(tracer, start));
    const [withTools, without] = spans.getFinishedSpans();
    expect(semconv.ATTR_GEN_AI_TOOL_DEFINITIONS).toBe('gen_ai.tool.definitions');
    expect(parsedGenAiContent(withTools!.attributes, 'gen_ai.tool.definitions')).toEqual(tools);
    expect(parsedGenAiContent(withTools!.attributes, 'gen_ai.input.messages')).toEqual(input);
    expect(without!.attributes['gen_ai.tool.definitions']).toBeUndefined();
  });

  it('cuts long descriptions and schema strings to contentMaxLength and keeps type and name whole', () => {
    const long = { type: 'function', name: 'a_tool_name_longer_than_ten', description: 'x'.repeat(40) } as const;
    const tracer = tracerProvider.getTracer('test');
    endGenAiSpan(startGenAiSpan(tracer, { ...start, toolDefinitions: [long], contentMaxLength: 10 }));
    const recorded = parsedGenAiContent(spans.getFinishedSpans()[0]!.attributes, 'gen_ai.tool.definitions');
    expect(recorded).toEqual([
      {
        type: 'function',
        name: 'a_tool_name_longer_than_ten',
        description: `${'x'.repeat(10)}${GEN_AI_CONTENT_TRUNCATION_MARKER}`,
      },
    ]);
  });

  it('the shape check refuses a definition without a name or with a non-object schema', () => {
    for (const bad of [[{ type: 'function' }], [{ type: 'function', name: 'f', parameters: 'x' }], [{ name: 'f' }]])
      expect(() => checkedGenAiContent(bad, 'gen_ai.tool.definitions')).toThrow();
    expect(
      checkedGenAiContent([{ type: 'code_interpreter', name: 'python', container: {} }], 'gen_ai.tool.definitions'),
    ).toBeTruthy();
  });
});

describe('emitGenAiOperationDetails', () => {
  it('emits one gen_ai.client.inference.operation.details record with the call attributes and its span context', () => {
    const span = tracerProvider.getTracer('test').startSpan('chat gpt-4o-mini');
    const context = trace.setSpan(ROOT_CONTEXT, span);
    emitGenAiOperationDetails(logger, { ...start, ...end }, context);
    span.end();
    const [record, ...others] = records.getFinishedLogRecords();
    expect(others).toEqual([]);
    expect(record!.eventName).toBe('gen_ai.client.inference.operation.details');
    expect(semconv.EVENT_GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS).toBe('gen_ai.client.inference.operation.details');
    expect(record!.attributes).toEqual(expectedMetadata);
    expect(record!.spanContext?.traceId).toBe(span.spanContext().traceId);
    expect(record!.spanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('carries the conversation id as the span does', () => {
    emitGenAiOperationDetails(logger, { ...start, ...end, conversationId: 'thread-7' }, ROOT_CONTEXT);
    const [record] = records.getFinishedLogRecords();
    expect(record!.attributes).toEqual({ ...expectedMetadata, 'gen_ai.conversation.id': 'thread-7' });
  });

  it("adds the application's own attributes of the call, which cannot replace the call's own", () => {
    const own = {
      'gatewayz.usage.cost_usd': 0.0042,
      'gatewayz.client_cancelled': true,
      'gatewayz.route': ['chat', 'openai'],
      // Set by details: the event keeps the call's value.
      'gen_ai.request.model': 'other-model',
      'server.port': 8443,
      // Not set by details: added as given.
      'error.type': 'client_cancelled',
      'gatewayz.left_out': undefined,
    };
    emitGenAiOperationDetails(logger, { ...start, ...end }, ROOT_CONTEXT, own);
    const [record] = records.getFinishedLogRecords();
    expect(record!.attributes).toEqual({
      ...expectedMetadata,
      'gatewayz.usage.cost_usd': 0.0042,
      'gatewayz.client_cancelled': true,
      'gatewayz.route': ['chat', 'openai'],
      'error.type': 'client_cancelled',
    });
    expect(Object.keys(record!.attributes)).not.toContain('gatewayz.left_out');
    // The given object is read, not kept or changed.
    expect(own['gen_ai.request.model']).toBe('other-model');
    // With an error.type of its own, details keeps it.
    emitGenAiOperationDetails(logger, { ...start, ...end, errorType: 'timeout' }, ROOT_CONTEXT, own);
    expect(records.getFinishedLogRecords()[1]!.attributes['error.type']).toBe('timeout');
  });

  it('holds the content structured (not JSON strings), in the conventions shape, equal to what a span records', () => {
    const content = {
      inputMessages: input,
      systemInstructions: [{ type: 'text' as const, content: 'Be brief.' }],
      toolDefinitions: tools,
    };
    const tracer = tracerProvider.getTracer('test');
    endGenAiSpan(startGenAiSpan(tracer, { ...start, ...content }), { ...end, outputMessages: output });
    emitGenAiOperationDetails(logger, { ...start, ...end, ...content, outputMessages: output });
    const spanAttributes = spans.getFinishedSpans()[0]!.attributes;
    const eventAttributes = records.getFinishedLogRecords()[0]!.attributes as Record<string, unknown>;
    for (const attribute of [
      'gen_ai.input.messages',
      'gen_ai.system_instructions',
      'gen_ai.tool.definitions',
      'gen_ai.output.messages',
    ]) {
      expect(typeof eventAttributes[attribute], attribute).toBe('object');
      expect(checkedGenAiContent(eventAttributes[attribute], attribute)).toEqual(
        parsedGenAiContent(spanAttributes, attribute),
      );
    }
    expect(eventAttributes['gen_ai.output.messages']).toEqual(output);
    // Everything else is what the span has too.
    const {
      ['gen_ai.input.messages']: _i,
      ['gen_ai.system_instructions']: _s,
      ['gen_ai.tool.definitions']: _t,
      ['gen_ai.output.messages']: _o,
      ...metadata
    } = eventAttributes;
    expect(metadata).toEqual(expectedMetadata);
  });

  it('cuts content as spans do, and leaves out (warning once) content JSON cannot hold; never throws', () => {
    emitGenAiOperationDetails(logger, { ...start, inputMessages: input, contentMaxLength: 7 });
    const cyclic: Record<string, unknown> = { location: 'Paris' };
    cyclic['self'] = cyclic;
    const bad: GenAiOutputMessage[] = [
      { role: 'assistant', parts: [{ type: 'tool_call', name: 'f', arguments: cyclic }], finish_reason: 'stop' },
    ];
    emitGenAiOperationDetails(logger, { ...start, outputMessages: bad, finishReasons: ['stop'] });
    const [cut, withoutBad] = records.getFinishedLogRecords();
    expect((cut!.attributes['gen_ai.input.messages'] as unknown[])[0]).toEqual({
      role: 'user',
      parts: [{ type: 'text', content: `Weather${GEN_AI_CONTENT_TRUNCATION_MARKER}` }],
    });
    expect(withoutBad!.attributes['gen_ai.output.messages']).toBeUndefined();
    expect(withoutBad!.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    expect(diagnostics.ownWarnings).toEqual([expect.stringContaining('gen_ai.output.messages not recorded')]);
  });

  it('counts each content attribute it leaves out in the shared instance, by attribute and reason', async () => {
    const { telemetry, collect, harness } = createTelemetry();
    const previous = getTelemetry();
    setTelemetry(telemetry);
    try {
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      const badOutput: GenAiOutputMessage[] = [
        { role: 'assistant', parts: [{ type: 'tool_call', name: 'f', arguments: cyclic }], finish_reason: 'stop' },
      ];
      emitGenAiOperationDetails(logger, { ...start, outputMessages: badOutput });
      emitGenAiOperationDetails(logger, { ...start, outputMessages: badOutput });
      const tracer = tracerProvider.getTracer('test');
      endGenAiSpan(startGenAiSpan(tracer, { ...start, toolDefinitions: 'all' as never }));
      endGenAiSpan(startGenAiSpan(tracer, { ...start, inputMessages: input, contentMaxLength: 0 }));
      const points = (await collect()).points('gatewayz_telemetry_genai_content_dropped');
      expect(
        points.map((point) => [point.attributes['attribute'], point.attributes['reason'], point.value]).sort(),
      ).toEqual([
        ['gen_ai.input.messages', 'invalid_max_length', 1],
        ['gen_ai.output.messages', 'unserialisable', 2],
        ['gen_ai.tool.definitions', 'not_an_array', 1],
      ]);
    } finally {
      setTelemetry(previous);
      await harness.shutdown();
    }
  });

  it('emits for a call whose span is not sampled: the event is kept apart from traces', () => {
    const unsampled = new BasicTracerProvider({ sampler: new AlwaysOffSampler() });
    const span = startGenAiSpan(unsampled.getTracer('test'), { ...start, inputMessages: input });
    expect(span.isRecording()).toBe(false);
    emitGenAiOperationDetails(logger, { ...start, ...end, inputMessages: input }, trace.setSpan(ROOT_CONTEXT, span));
    endGenAiSpan(span, end);
    const [record] = records.getFinishedLogRecords();
    expect(record!.attributes['gen_ai.input.messages']).toEqual(input);
  });

  it('never throws when the logger does: warns once, counts each lost event, and the next event goes out', async () => {
    const { telemetry, collect, harness } = createTelemetry();
    const previous = getTelemetry();
    setTelemetry(telemetry);
    try {
      let calls = 0;
      const flaky: GenAiEventLogger = {
        emit: (record) => {
          calls += 1;
          if (calls <= 2) throw new Error('disk full');
          logger.emit(record);
        },
      };
      expect(() => emitGenAiOperationDetails(flaky, start)).not.toThrow();
      expect(() => emitGenAiOperationDetails(flaky, start)).not.toThrow();
      emitGenAiOperationDetails(flaky, { ...start, ...end });
      expect(records.getFinishedLogRecords().map((record) => record.attributes['gen_ai.response.id'])).toEqual([
        'chatcmpl-1',
      ]);
      expect(diagnostics.ownWarnings).toEqual([
        '@gatewayz/telemetry: gen_ai.client.inference.operation.details event not emitted: the logger threw (Error: disk full). Further failures are not warned about (counted in the telemetry_logs_dropped self-metric, reason emit_failed).',
      ]);
      const points = (await collect()).points('gatewayz_telemetry_logs_dropped');
      expect(points.map((point) => [point.attributes['reason'], point.value])).toEqual([['emit_failed', 2]]);
    } finally {
      setTelemetry(previous);
      await harness.shutdown();
    }
  });

  it('never throws on details plain JavaScript got wrong: counts each lost event as invalid_details, warns once', async () => {
    const { telemetry, collect, harness } = createTelemetry();
    const previous = getTelemetry();
    setTelemetry(telemetry);
    try {
      for (const details of [null, undefined, 'chat', 42])
        expect(() => emitGenAiOperationDetails(logger, details as unknown as GenAiOperationDetails)).not.toThrow();
      expect(records.getFinishedLogRecords()).toEqual([]);
      expect(diagnostics.ownWarnings).toEqual([
        '@gatewayz/telemetry: gen_ai.client.inference.operation.details event not emitted: its details could not be read (TypeError: details must be an object, got null). Further failures are not warned about (counted in the telemetry_logs_dropped self-metric, reason invalid_details).',
      ]);
      const points = (await collect()).points('gatewayz_telemetry_logs_dropped');
      expect(points.map((point) => [point.attributes['reason'], point.value])).toEqual([['invalid_details', 4]]);
      // Good details still go out.
      emitGenAiOperationDetails(logger, start);
      expect(records.getFinishedLogRecords()).toHaveLength(1);
    } finally {
      setTelemetry(previous);
      await harness.shutdown();
    }
  });

  it('takes a Logger of @opentelemetry/api-logs as it is (typed), and the no-op one', () => {
    const typed: GenAiEventLogger = logsApi.getLogger('no-op');
    expect(() => emitGenAiOperationDetails(typed, { ...start, ...end })).not.toThrow();
    const sdkLogger: GenAiEventLogger = logger;
    emitGenAiOperationDetails(sdkLogger, start);
    expect(records.getFinishedLogRecords()).toHaveLength(1);
  });
});

describe('GatewayTelemetry genAiContent capture modes', () => {
  it('maps true/false and the four modes, with events on by default only where content goes to them', () => {
    const of = (options: ConstructorParameters<typeof GatewayTelemetry>[0]) =>
      new GatewayTelemetry(options).genAiContent;
    expect(of({})).toEqual({
      mode: 'no_content',
      capture: false,
      events: false,
      eventContent: false,
      collect: false,
      maxLength: undefined,
    });
    expect(of({ captureGenAiContent: true })).toMatchObject({
      mode: 'span_only',
      capture: true,
      events: false,
      eventContent: false,
      collect: true,
    });
    expect(of({ captureGenAiContent: false })).toMatchObject({ mode: 'no_content', capture: false, collect: false });
    expect(of({ captureGenAiContent: 'span_only' })).toMatchObject({ capture: true, events: false, collect: true });
    expect(of({ captureGenAiContent: 'event_only' })).toMatchObject({
      capture: false,
      events: true,
      eventContent: true,
      collect: true,
    });
    expect(of({ captureGenAiContent: 'span_and_event' })).toMatchObject({
      capture: true,
      events: true,
      eventContent: true,
    });
    // The event switch wins: events without content, or content for events that are not emitted.
    expect(of({ emitGenAiEvents: true })).toMatchObject({
      capture: false,
      events: true,
      eventContent: false,
      collect: false,
    });
    expect(of({ captureGenAiContent: 'event_only', emitGenAiEvents: false })).toMatchObject({
      events: false,
      eventContent: false,
      collect: false,
    });
  });

  it('a continued instance keeps the mode and the event switch unless given new ones', () => {
    const first = new GatewayTelemetry({
      captureGenAiContent: 'span_only',
      emitGenAiEvents: true,
      genAiContentMaxLength: 64,
    });
    expect(new GatewayTelemetry({ continueFrom: first }).genAiContent).toEqual(first.genAiContent);
    const changed = new GatewayTelemetry({ continueFrom: first, captureGenAiContent: 'event_only' }).genAiContent;
    expect(changed).toMatchObject({ mode: 'event_only', events: true, eventContent: true, maxLength: 64 });
  });

  it('throws a TelemetryConfigurationError naming a bad mode or event switch', () => {
    for (const [options, message] of [
      [
        { captureGenAiContent: 'SPAN_ONLY' },
        '"captureGenAiContent": expected true, false or one of no_content, span_only, event_only, span_and_event, got "SPAN_ONLY"',
      ],
      [{ emitGenAiEvents: 'true' }, '"emitGenAiEvents": expected true or false, got "true"'],
    ] as const) {
      const attempt = () => new GatewayTelemetry(options as never);
      expect(attempt).toThrow(TelemetryConfigurationError);
      expect(attempt).toThrow(message);
    }
  });
});
