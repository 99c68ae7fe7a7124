/**
 * The GenAI span and event helpers given values from plain JavaScript, as a caller forwarding wire
 * values does: OpenAI's `stop` as a string or null, a port read from a URL as a string, a token
 * count that is a fraction or negative. Lists take one string as a list of one; values of the wrong
 * type are left out and counted in the shared instance; `endGenAiSpan()` always ends the span.
 */
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getTelemetry, setTelemetry } from '../src/index.js';
import {
  emitGenAiOperationDetails,
  endGenAiSpan,
  startGenAiSpan,
  type GenAiSpanEnd,
  type GenAiSpanStart,
} from '../src/genai/index.js';
import { CollectingDiagLogger, createTelemetry, type CollectedMetrics } from './helpers.js';

const chat = { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' } as const;
/** What plain JavaScript can pass where TypeScript would refuse it. */
const untyped = <T>(value: unknown): T => value as T;

let spans: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
let diagnostics: CollectingDiagLogger;
let collect: () => Promise<CollectedMetrics>;
let shutdown: () => Promise<void>;
let previous: ReturnType<typeof getTelemetry>;

beforeEach(() => {
  spans = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  diagnostics = new CollectingDiagLogger().install();
  // The span helpers take a tracer, not an instance: what they leave out is counted in the shared one.
  const created = createTelemetry();
  collect = created.collect;
  shutdown = () => created.harness.shutdown();
  previous = getTelemetry();
  setTelemetry(created.telemetry);
});

afterEach(async () => {
  setTelemetry(previous);
  CollectingDiagLogger.uninstall();
  await Promise.all([tracerProvider.shutdown(), shutdown()]);
});

function finished(start: GenAiSpanStart, end?: GenAiSpanEnd): Record<string, unknown> {
  endGenAiSpan(startGenAiSpan(tracerProvider.getTracer('test'), start), end);
  const [span] = spans.getFinishedSpans().splice(-1);
  return { ...span?.attributes };
}

/** `gatewayz_telemetry_dropped_total` as [metric, reason, count] rows, sorted. */
async function dropped(): Promise<Array<[unknown, unknown, unknown]>> {
  return (await collect())
    .points('gatewayz_telemetry_dropped')
    .map((point): [unknown, unknown, unknown] => [point.attributes['metric'], point.attributes['reason'], point.value])
    .sort();
}

describe('GenAI span helpers on plain-JavaScript input', () => {
  it('takes one string as a list of one, never as its characters, and leaves out other non-lists', async () => {
    const attributes = finished(
      { ...chat, stopSequences: untyped('END'), encodingFormats: untyped('float') },
      { finishReasons: untyped('stop') },
    );
    expect(attributes['gen_ai.request.stop_sequences']).toEqual(['END']);
    expect(attributes['gen_ai.request.encoding_formats']).toEqual(['float']);
    expect(attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);

    // null is "not given" (OpenAI's `stop: null`); a number or a list of numbers is counted.
    const others = finished(
      { ...chat, stopSequences: untyped(null), encodingFormats: untyped(7) },
      { finishReasons: untyped([1, 2]) },
    );
    expect(others).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
    });
    expect(await dropped()).toEqual([
      ['gen_ai.request.encoding_formats', 'not_an_array', 1],
      ['gen_ai.response.finish_reasons', 'not_an_array', 1],
    ]);
  });

  it('always ends the span: null lists, a null end, and a getter that throws', () => {
    const tracer = tracerProvider.getTracer('test');
    const nullReasons = startGenAiSpan(tracer, chat);
    expect(() => endGenAiSpan(nullReasons, { finishReasons: untyped(null) })).not.toThrow();
    expect(nullReasons.isRecording()).toBe(false);

    const nullEnd = startGenAiSpan(tracer, chat);
    expect(() => endGenAiSpan(nullEnd, untyped(null))).not.toThrow();
    expect(nullEnd.isRecording()).toBe(false);

    const hostile = startGenAiSpan(tracer, chat);
    const end = untyped<GenAiSpanEnd>({
      get inputTokens(): number {
        throw new Error('getter failed');
      },
    });
    expect(() => endGenAiSpan(hostile, end)).toThrow('getter failed');
    expect(hostile.isRecording()).toBe(false);
    expect(spans.getFinishedSpans()).toHaveLength(3);
  });

  it('leaves out integer attributes that are not whole numbers in range, and counts each', async () => {
    const attributes = finished(
      { ...chat, serverPort: untyped('443'), maxTokens: 10.5, choiceCount: -2, seed: -7 },
      {
        inputTokens: Number.NaN,
        outputTokens: -3,
        cacheReadInputTokens: 1.5,
        cacheCreationInputTokens: Infinity,
        reasoningOutputTokens: 4,
      },
    );
    expect(attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.seed': -7,
      'gen_ai.usage.reasoning.output_tokens': 4,
    });
    expect(finished({ ...chat, serverPort: 70_000 })['server.port']).toBeUndefined();
    expect(finished({ ...chat, serverPort: 443 })['server.port']).toBe(443);
    expect(await dropped()).toEqual([
      ['gen_ai.request.choice.count', 'out_of_range', 1],
      ['gen_ai.request.max_tokens', 'not_an_integer', 1],
      ['gen_ai.usage.cache_creation.input_tokens', 'not_finite', 1],
      ['gen_ai.usage.cache_read.input_tokens', 'not_an_integer', 1],
      ['gen_ai.usage.input_tokens', 'not_a_number', 1],
      ['gen_ai.usage.output_tokens', 'out_of_range', 1],
      ['server.port', 'not_a_number', 1],
      ['server.port', 'out_of_range', 1],
    ]);
    expect(diagnostics.ownWarnings).toContainEqual(
      expect.stringContaining('server.port left out of a GenAI span or event: expected an integer from 0 to 65535'),
    );
  });

  it('names the span by its operation alone, without gen_ai.request.model, when the model is empty or not a string', () => {
    const tracer = tracerProvider.getTracer('test');
    for (const requestModel of ['', undefined, null, 42])
      endGenAiSpan(startGenAiSpan(tracer, { ...chat, requestModel: untyped(requestModel) }));
    endGenAiSpan(startGenAiSpan(tracer, { ...chat, operationName: 'embeddings', requestModel: '' }));
    endGenAiSpan(startGenAiSpan(tracer, chat));
    const withoutModel = [...spans.getFinishedSpans()];
    const withModel = withoutModel.pop();
    expect(withoutModel.map((span) => span.name)).toEqual(['chat', 'chat', 'chat', 'chat', 'embeddings']);
    for (const span of withoutModel) expect(Object.keys(span.attributes)).not.toContain('gen_ai.request.model');
    expect(withModel?.name).toBe('chat gpt-4o-mini');
    expect(withModel?.attributes['gen_ai.request.model']).toBe('gpt-4o-mini');
  });

  it('emitGenAiOperationDetails never throws on them, and its event carries the checked values', async () => {
    const records = new InMemoryLogRecordExporter();
    const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: records })] });
    try {
      const logger = loggerProvider.getLogger('test');
      expect(() =>
        emitGenAiOperationDetails(logger, {
          ...chat,
          stopSequences: untyped(null),
          finishReasons: untyped('length'),
          outputTokens: 2.5,
        }),
      ).not.toThrow();
      const [record] = records.getFinishedLogRecords();
      expect(record?.attributes).toEqual({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.finish_reasons': ['length'],
      });
      expect(await dropped()).toEqual([['gen_ai.usage.output_tokens', 'not_an_integer', 1]]);
    } finally {
      await loggerProvider.shutdown();
    }
  });
});
