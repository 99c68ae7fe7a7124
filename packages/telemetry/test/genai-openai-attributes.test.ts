/**
 * The OpenAI conventions' own span attributes (v1.41 `docs/gen-ai/openai.md`):
 * `openai.request.service_tier`, `openai.response.service_tier` and
 * `openai.response.system_fingerprint`, on spans through a real tracer SDK and on the
 * operation-details event, read from request bodies by `requestParametersFromOpenAi()`.
 */
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  emitGenAiOperationDetails,
  endGenAiSpan,
  requestParametersFromOpenAi,
  semconv,
  startGenAiSpan,
  type GenAiEventRecord,
  type GenAiSpanEnd,
  type GenAiSpanStart,
} from '../src/genai/index.js';

const REQUEST_TIER = 'openai.request.service_tier';
const RESPONSE_TIER = 'openai.response.service_tier';
const FINGERPRINT = 'openai.response.system_fingerprint';
const OPENAI_KEYS = [REQUEST_TIER, RESPONSE_TIER, FINGERPRINT];

const start: GenAiSpanStart = { operationName: 'chat', providerName: 'openai', requestModel: 'gpt-4o-mini' };

let exporter: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
beforeEach(() => {
  exporter = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
});
afterEach(() => tracerProvider.shutdown());

/** The attributes of the span started with `given` and ended with `end`. */
function spanAttributes(given: GenAiSpanStart, end: GenAiSpanEnd = {}): Record<string, unknown> {
  endGenAiSpan(startGenAiSpan(tracerProvider.getTracer('test'), given), end);
  const finished = exporter.getFinishedSpans();
  return { ...finished[finished.length - 1]!.attributes };
}

/** The OpenAI attributes among `attributes`. */
const openAiAttributes = (attributes: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(attributes).filter(([key]) => OPENAI_KEYS.includes(key)));

describe('the OpenAI attributes of v1.41', () => {
  it('are named as in the v1.41 OpenAI registry', () => {
    expect(semconv.ATTR_OPENAI_REQUEST_SERVICE_TIER).toBe(REQUEST_TIER);
    expect(semconv.ATTR_OPENAI_RESPONSE_SERVICE_TIER).toBe(RESPONSE_TIER);
    expect(semconv.ATTR_OPENAI_RESPONSE_SYSTEM_FINGERPRINT).toBe(FINGERPRINT);
  });

  it('put a requested tier other than auto on an openai span, from the start', () => {
    const attributes = spanAttributes({ ...start, openAiRequestServiceTier: 'flex' });
    expect(attributes[REQUEST_TIER]).toBe('flex');
    // Set at creation, where samplers see it, as the other request attributes.
    const span = startGenAiSpan(tracerProvider.getTracer('test'), { ...start, openAiRequestServiceTier: 'default' });
    expect((span as unknown as { attributes: Record<string, unknown> }).attributes[REQUEST_TIER]).toBe('default');
    span.end();
  });

  it('leave out a requested tier of auto (the conventions require it only when not auto), or none', () => {
    expect(openAiAttributes(spanAttributes({ ...start, openAiRequestServiceTier: 'auto' }))).toEqual({});
    expect(openAiAttributes(spanAttributes(start))).toEqual({});
    expect(openAiAttributes(spanAttributes({ ...start, openAiRequestServiceTier: '' }))).toEqual({});
  });

  it('leave the requested tier off the span of a provider other than openai', () => {
    for (const providerName of ['openrouter', 'azure.ai.inference', 'azure.ai.openai'])
      expect(openAiAttributes(spanAttributes({ ...start, providerName, openAiRequestServiceTier: 'flex' }))).toEqual(
        {},
      );
  });

  it("put the answer's tier and system fingerprint on the span at its end", () => {
    const attributes = spanAttributes(
      { ...start, openAiRequestServiceTier: 'flex' },
      { responseId: 'chatcmpl-1', openAiResponseServiceTier: 'flex', openAiSystemFingerprint: 'fp_1' },
    );
    expect(openAiAttributes(attributes)).toEqual({
      [REQUEST_TIER]: 'flex',
      [RESPONSE_TIER]: 'flex',
      [FINGERPRINT]: 'fp_1',
    });
    expect(attributes['gen_ai.response.id']).toBe('chatcmpl-1');
  });

  it('leave out values of the wrong type given from plain JavaScript, and still end the span', () => {
    for (const wrong of [42, true, ['flex'], { tier: 'flex' }, null]) {
      const attributes = spanAttributes(
        { ...start, openAiRequestServiceTier: wrong } as unknown as GenAiSpanStart,
        { openAiResponseServiceTier: wrong, openAiSystemFingerprint: wrong } as unknown as GenAiSpanEnd,
      );
      expect(openAiAttributes(attributes)).toEqual({});
      expect(attributes['gen_ai.provider.name']).toBe('openai');
    }
    expect(exporter.getFinishedSpans().every((span) => span.ended)).toBe(true);
  });

  it('are on the operation-details event as on the span, under the same rules', () => {
    const emitted: GenAiEventRecord[] = [];
    const logger = { emit: (record: GenAiEventRecord) => void emitted.push(record) };
    const end: GenAiSpanEnd = { openAiResponseServiceTier: 'default', openAiSystemFingerprint: 'fp_2' };
    emitGenAiOperationDetails(logger, { ...start, openAiRequestServiceTier: 'flex', ...end }, ROOT_CONTEXT);
    emitGenAiOperationDetails(logger, { ...start, openAiRequestServiceTier: 'auto', ...end }, ROOT_CONTEXT);
    emitGenAiOperationDetails(
      logger,
      { ...start, providerName: 'openrouter', openAiRequestServiceTier: 'flex' },
      ROOT_CONTEXT,
    );
    const [flex, auto, other] = emitted.map((record) => openAiAttributes(record.attributes));
    expect(flex).toEqual(openAiAttributes(spanAttributes({ ...start, openAiRequestServiceTier: 'flex' }, end)));
    expect(flex).toEqual({ [REQUEST_TIER]: 'flex', [RESPONSE_TIER]: 'default', [FINGERPRINT]: 'fp_2' });
    expect(auto).toEqual({ [RESPONSE_TIER]: 'default', [FINGERPRINT]: 'fp_2' });
    expect(other).toEqual({});
  });
});

describe('requestParametersFromOpenAi and the service tier', () => {
  it('reads service_tier of a chat completions or Responses API body, a string only', () => {
    const chat = { model: 'gpt-4o-mini', messages: [], service_tier: 'flex' };
    expect(requestParametersFromOpenAi(chat)).toEqual({ openAiRequestServiceTier: 'flex' });
    expect(requestParametersFromOpenAi({ model: 'o4-mini', input: 'x', service_tier: 'priority' })).toEqual({
      openAiRequestServiceTier: 'priority',
    });
    for (const wrong of [1, null, '', ['flex']])
      expect(requestParametersFromOpenAi({ model: 'm', service_tier: wrong })).toEqual({});
    // What it read goes on an openai span as it is.
    expect(spanAttributes({ ...start, ...requestParametersFromOpenAi(chat) })[REQUEST_TIER]).toBe('flex');
  });
});
