/**
 * Opt-in GenAI content on spans (`gen_ai.input.messages`, `gen_ai.output.messages`,
 * `gen_ai.system_instructions`): JSON strings with the shape the v1.41.0 conventions give them
 * (test-support/genai-content-shapes.ts), truncation that keeps the JSON
 * whole, no serialisation on a span that is not recording, and values JSON cannot hold dropped.
 */
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayTelemetry, TelemetryConfigurationError } from '../src/index.js';
import {
  GEN_AI_CONTENT_TRUNCATION_MARKER,
  endGenAiSpan,
  semconv,
  startGenAiSpan,
  type GenAiInputMessage,
  type GenAiOutputMessage,
  type GenAiSystemInstructionPart,
} from '../src/genai/index.js';
import { CollectingDiagLogger } from './helpers.js';
import { genAiContentValidators, parsedGenAiContent } from '../../../test-support/genai-content-shapes.js';

const start = { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' };

const system: GenAiSystemInstructionPart[] = [{ type: 'text', content: 'You are a weather bot.' }];
const input: GenAiInputMessage[] = [
  {
    role: 'user',
    name: 'ana',
    parts: [
      { type: 'text', content: 'Weather in Paris? Here is the sky:' },
      { type: 'blob', modality: 'image', mime_type: 'image/png', content: 'iVBORw0KGgo=' },
      { type: 'uri', modality: 'image', uri: 'https://example.com/sky.png' },
    ],
  },
  {
    role: 'assistant',
    parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { location: 'Paris', days: 2 } }],
  },
  { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'rainy, 57°F' }] },
];
const output: GenAiOutputMessage[] = [
  {
    role: 'assistant',
    parts: [
      { type: 'reasoning', content: 'The tool said rain.' },
      { type: 'text', content: 'Rainy, 57°F.' },
    ],
    finish_reason: 'stop',
  },
  {
    role: 'assistant',
    parts: [{ type: 'tool_call', id: 'call_2', name: 'get_weather', arguments: { location: 'Lyon' } }],
    finish_reason: 'tool_call',
  },
];

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let logger: CollectingDiagLogger;
beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  logger = new CollectingDiagLogger().install();
});
afterEach(async () => {
  CollectingDiagLogger.uninstall();
  await provider.shutdown();
});

function finished(): Record<string, unknown> {
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!.attributes as Record<string, unknown>;
}

describe('GenAI content attributes', () => {
  it('records the three attributes as JSON strings in the shape of the v1.41 conventions', () => {
    const tracer = provider.getTracer('test');
    const span = startGenAiSpan(tracer, { ...start, inputMessages: input, systemInstructions: system });
    endGenAiSpan(span, { outputMessages: output, finishReasons: ['stop', 'tool_calls'] });
    const attributes = finished();
    expect(parsedGenAiContent(attributes, semconv.ATTR_GEN_AI_INPUT_MESSAGES)).toEqual(input);
    expect(parsedGenAiContent(attributes, semconv.ATTR_GEN_AI_OUTPUT_MESSAGES)).toEqual(output);
    expect(parsedGenAiContent(attributes, semconv.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS)).toEqual(system);
    expect(semconv.ATTR_GEN_AI_INPUT_MESSAGES).toBe('gen_ai.input.messages');
    expect(semconv.ATTR_GEN_AI_OUTPUT_MESSAGES).toBe('gen_ai.output.messages');
    expect(semconv.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS).toBe('gen_ai.system_instructions');
  });

  it('the shape check refuses what the helper must never produce (the check can fail)', () => {
    const validateOutput = genAiContentValidators[semconv.ATTR_GEN_AI_OUTPUT_MESSAGES]!;
    const validateInput = genAiContentValidators[semconv.ATTR_GEN_AI_INPUT_MESSAGES]!;
    // finish_reason is required on output messages, parts on every message.
    expect(validateOutput([{ role: 'assistant', parts: [] }])).toBe(false);
    expect(validateInput([{ role: 'user' }])).toBe(false);
    expect(genAiContentValidators[semconv.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS]!([{ content: 'no type' }])).toBe(false);
    // A part of a type the conventions define needs its fields; one of another type does not.
    expect(validateInput([{ role: 'user', parts: [{ type: 'text' }] }])).toBe(false);
    expect(validateInput([{ role: 'user', parts: [{ type: 'tool_call', id: 'call_1' }] }])).toBe(false);
    expect(validateInput([{ role: 'user', parts: [{ type: 'blob', content: 'AAAA' }] }])).toBe(false);
    expect(validateInput([{ role: 'user', parts: [{ type: 'text', content: 42 }] }])).toBe(false);
    expect(validateInput([{ role: 'user', parts: [{ type: 'custom_widget', size: 3 }] }])).toBe(true);
  });

  it('records none of them when none is given', () => {
    endGenAiSpan(startGenAiSpan(provider.getTracer('test'), start), { outputTokens: 3 });
    const attributes = finished();
    for (const name of Object.keys(genAiContentValidators)) expect(attributes[name]).toBeUndefined();
  });

  it('cuts text content and tool argument strings to contentMaxLength, keeping the JSON and the structural fields whole', () => {
    const long = 'x'.repeat(50);
    const span = startGenAiSpan(provider.getTracer('test'), {
      ...start,
      contentMaxLength: 8,
      systemInstructions: [{ type: 'text', content: 'Be brief and precise.' }],
      inputMessages: [
        { role: 'user', parts: [{ type: 'uri', modality: 'image', uri: `https://example.com/${long}.png` }] },
        {
          role: 'assistant',
          parts: [
            {
              type: 'tool_call',
              id: `call_${long}`,
              name: 'search_the_web',
              arguments: { query: long, filters: ['short', long], limit: 10 },
            },
          ],
        },
        // A surrogate pair is never split: 7 letters and an emoji make 9 code units.
        { role: 'user', parts: [{ type: 'text', content: 'abcdefg😀 after' }] },
      ],
    });
    endGenAiSpan(span, {
      contentMaxLength: 8,
      outputMessages: [
        { role: 'assistant', parts: [{ type: 'text', content: 'Hello, world' }], finish_reason: 'stop' },
      ],
    });
    const attributes = finished();
    const cut = `xxxxxxxx${GEN_AI_CONTENT_TRUNCATION_MARKER}`;
    expect(parsedGenAiContent(attributes, semconv.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS)).toEqual([
      { type: 'text', content: `Be brief${GEN_AI_CONTENT_TRUNCATION_MARKER}` },
    ]);
    expect(parsedGenAiContent(attributes, semconv.ATTR_GEN_AI_INPUT_MESSAGES)).toEqual([
      { role: 'user', parts: [{ type: 'uri', modality: 'image', uri: `https://example.com/${long}.png` }] },
      {
        role: 'assistant',
        parts: [
          {
            type: 'tool_call',
            id: `call_${long}`,
            name: 'search_the_web',
            arguments: { query: cut, filters: ['short', cut], limit: 10 },
          },
        ],
      },
      { role: 'user', parts: [{ type: 'text', content: `abcdefg${GEN_AI_CONTENT_TRUNCATION_MARKER}` }] },
    ]);
    expect(parsedGenAiContent(attributes, semconv.ATTR_GEN_AI_OUTPUT_MESSAGES)).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'text', content: `Hello, w${GEN_AI_CONTENT_TRUNCATION_MARKER}` }],
        finish_reason: 'stop',
      },
    ]);
  });

  it('serialises nothing for a span that is not recording', () => {
    const unsampled = new BasicTracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    let reads = 0;
    const part = {
      type: 'text' as const,
      get content(): string {
        reads += 1;
        return 'secret';
      },
    };
    const messages: GenAiInputMessage[] = [{ role: 'user', parts: [part] }];
    const span = startGenAiSpan(unsampled.getTracer('test'), {
      ...start,
      inputMessages: messages,
      contentMaxLength: 3,
    });
    expect(span.isRecording()).toBe(false);
    endGenAiSpan(span, { outputMessages: [{ role: 'assistant', parts: [part], finish_reason: 'stop' }] });
    expect(reads).toBe(0);
    // The same messages on a recording span are read: the count above can move.
    endGenAiSpan(startGenAiSpan(provider.getTracer('test'), { ...start, inputMessages: messages }));
    expect(reads).toBeGreaterThan(0);
  });

  it('drops an attribute JSON cannot hold (cyclic or BigInt tool arguments), warns once, and keeps the span', () => {
    const cyclic: Record<string, unknown> = { location: 'Paris' };
    cyclic['self'] = cyclic;
    const tracer = provider.getTracer('test');
    const withCycle = (contentMaxLength?: number) =>
      startGenAiSpan(tracer, {
        ...start,
        ...(contentMaxLength !== undefined ? { contentMaxLength } : {}),
        systemInstructions: system,
        inputMessages: [{ role: 'assistant', parts: [{ type: 'tool_call', name: 'get_weather', arguments: cyclic }] }],
      });
    expect(() => endGenAiSpan(withCycle(), { outputTokens: 1 })).not.toThrow();
    expect(() => endGenAiSpan(withCycle(16))).not.toThrow();
    const big = [
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', name: 'f', arguments: { n: 10n } }],
        finish_reason: 'tool_call',
      },
    ];
    expect(() =>
      endGenAiSpan(startGenAiSpan(tracer, start), { outputMessages: big, contentMaxLength: 4 }),
    ).not.toThrow();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(3);
    for (const span of spans) {
      expect(span.attributes[semconv.ATTR_GEN_AI_INPUT_MESSAGES]).toBeUndefined();
      expect(span.attributes[semconv.ATTR_GEN_AI_OUTPUT_MESSAGES]).toBeUndefined();
      expect(span.attributes[semconv.ATTR_GEN_AI_OPERATION_NAME]).toBe('chat');
    }
    // What could be serialised still is.
    expect(parsedGenAiContent(spans[0]!.attributes, semconv.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS)).toEqual(system);
    expect(spans[0]!.attributes[semconv.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBe(1);
    const warnings = logger.ownWarnings;
    expect(warnings.filter((message) => message.includes('gen_ai.input.messages'))).toEqual([
      expect.stringContaining('cannot be serialised to JSON (a cyclic or BigInt value)'),
      expect.stringContaining('cannot be serialised to JSON (a cyclic value)'),
    ]);
    expect(warnings.filter((message) => message.includes('gen_ai.output.messages'))).toEqual([
      expect.stringContaining('(a BigInt value)'),
    ]);
    // Once per attribute and reason: a second cyclic value says nothing more.
    endGenAiSpan(withCycle());
    expect(logger.ownWarnings).toHaveLength(warnings.length);
  });

  it('drops content given as something else than an array, or with a contentMaxLength that is not a positive integer', () => {
    const tracer = provider.getTracer('test');
    for (const contentMaxLength of [0, -1, 2.5, Number.NaN, '12' as unknown as number]) {
      endGenAiSpan(startGenAiSpan(tracer, { ...start, inputMessages: input, contentMaxLength }));
    }
    endGenAiSpan(startGenAiSpan(tracer, start), {
      outputMessages: { role: 'assistant' } as unknown as GenAiOutputMessage[],
    });
    for (const span of exporter.getFinishedSpans()) {
      expect(span.attributes[semconv.ATTR_GEN_AI_INPUT_MESSAGES]).toBeUndefined();
      expect(span.attributes[semconv.ATTR_GEN_AI_OUTPUT_MESSAGES]).toBeUndefined();
    }
    expect(logger.ownWarnings).toEqual([
      expect.stringContaining('gen_ai.input.messages not recorded: contentMaxLength must be a positive integer, got 0'),
      expect.stringContaining('got -1'),
      expect.stringContaining('got 2.5'),
      expect.stringContaining('got NaN'),
      expect.stringContaining('got 12'),
      expect.stringContaining('gen_ai.output.messages not recorded: expected an array, got object'),
    ]);
  });
});

describe('GatewayTelemetry genAiContent', () => {
  it('is off by default and follows captureGenAiContent and genAiContentMaxLength', () => {
    expect(new GatewayTelemetry().genAiContent).toMatchObject({ capture: false, maxLength: undefined });
    const on = new GatewayTelemetry({ captureGenAiContent: true, genAiContentMaxLength: 4096 });
    expect(on.genAiContent).toMatchObject({ capture: true, maxLength: 4096 });
    // An instance continuing another keeps its choice unless told otherwise.
    expect(new GatewayTelemetry({ continueFrom: on }).genAiContent).toMatchObject({ capture: true, maxLength: 4096 });
    expect(new GatewayTelemetry({ continueFrom: on, captureGenAiContent: false }).genAiContent.capture).toBe(false);
  });

  it('throws a TelemetryConfigurationError naming a bad option', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ captureGenAiContent: 'true' }, 'captureGenAiContent'],
      [{ genAiContentMaxLength: 0 }, 'genAiContentMaxLength'],
      [{ genAiContentMaxLength: 1.5 }, 'genAiContentMaxLength'],
      [{ genAiContentMaxLength: '100' }, 'genAiContentMaxLength'],
    ];
    for (const [options, option] of bad) {
      const attempt = () => new GatewayTelemetry(options);
      expect(attempt).toThrow(TelemetryConfigurationError);
      expect(attempt).toThrow(option);
    }
  });
});
