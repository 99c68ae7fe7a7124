import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SpanKindNumber,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../../../test-support/otlp-receiver.js';
import { GEN_AI_CONTENT_TRUNCATION_MARKER } from '@gatewayz/telemetry/genai';
import { otlpJsonGatewayEnv, startGatewayProcess } from './gateway-process.js';
import { parsedGenAiContent } from '../../../test-support/genai-content-shapes.js';

// Opt-in message content on the provider attempt spans, end to end through the built gateway
// process and the OTLP/HTTP receiver: with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true
// the attempt spans of chat (JSON and streamed) and messages (JSON and streamed) carry what the
// client sent and what the provider answered, in the shape the v1.41 conventions give it; without it, none of
// the three attributes appears anywhere.

const INPUT = 'gen_ai.input.messages';
const OUTPUT = 'gen_ai.output.messages';
const SYSTEM = 'gen_ai.system_instructions';
const MAX_LENGTH = 600;

/** The content attribute of `span`, parsed, after checking it has the conventions' shape. */
const content = (span: ReceivedSpan | undefined, attribute: string): unknown =>
  parsedGenAiContent(span?.attributes, attribute);

const env = otlpJsonGatewayEnv;

const LONG_QUESTION = `Explain the incident. ${'The breaker opened at 02:14. '.repeat(40)}`;
const chatJson = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are the on-call assistant.' },
    { role: 'user', content: [{ type: 'text', text: 'Which provider failed?' }] },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_7', type: 'function', function: { name: 'provider_status', arguments: '{"provider":"openai"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_7', content: 'openai: error rate 31%' },
    { role: 'user', content: LONG_QUESTION },
  ],
};
const chatStream = {
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', name: 'ops', content: 'Stream the runbook step.' }],
};
const messagesJson = {
  model: 'claude-3-5-haiku',
  max_tokens: 64,
  system: [{ type: 'text', text: 'Answer as the runbook would.' }],
  messages: [
    { role: 'user', content: 'Look up the weather.' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
      ],
    },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'rainy' }] },
  ],
};
const messagesStream = {
  model: 'claude-3-5-haiku',
  max_tokens: 64,
  stream: true,
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'Stream a summary.' }],
};

const responsesNative = {
  model: 'gpt-4o-mini',
  instructions: 'Reply in one line.',
  input: [{ role: 'user', content: [{ type: 'input_text', text: 'Status of the fleet?' }] }],
};
const responsesNativeStream = { model: 'gpt-4o-mini', stream: true, input: 'Stream the fleet status.' };
const responsesTranslated = { model: 'claude-3-5-haiku', input: 'Status through a chat provider?' };

interface Answers {
  chatJson: string;
  chatStream: string;
  messagesJson: string;
  messagesStream: string;
  responsesNative: string;
  responsesNativeStream: string;
  responsesTranslated: string;
}

/** Send the four requests; the answer texts as the client read them. */
async function sendAll(url: string): Promise<Answers> {
  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const events = async (response: Response): Promise<Array<Record<string, unknown>>> => {
    expect(response.status).toBe(200);
    return (await response.text())
      .split('\n\n')
      .flatMap((event) => event.split('\n').filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]'))
      .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
  };
  const json = async (response: Response): Promise<Record<string, unknown>> => {
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  };
  const chat = await json(await post('/v1/chat/completions', chatJson));
  const streamed = await events(await post('/v1/chat/completions', chatStream));
  const message = await json(await post('/v1/messages', messagesJson));
  const anthropicEvents = await events(await post('/v1/messages', messagesStream));
  const native = await json(await post('/v1/responses', responsesNative));
  const nativeEvents = await events(await post('/v1/responses', responsesNativeStream));
  const translated = await json(await post('/v1/responses', responsesTranslated));
  type ResponseOutput = Array<{ content?: Array<{ text?: string }> }>;
  const outputText = (response: Record<string, unknown>): string =>
    (response['output'] as ResponseOutput)
      .flatMap((item) => item.content ?? [])
      .map((part) => part.text ?? '')
      .join('');
  type Choice = { message?: { content?: string }; delta?: { content?: string } };
  return {
    chatJson: (chat['choices'] as Choice[])[0]?.message?.content ?? '',
    chatStream: streamed.map((chunk) => (chunk['choices'] as Choice[])[0]?.delta?.content ?? '').join(''),
    messagesJson: (message['content'] as Array<{ text?: string }>).map((block) => block.text ?? '').join(''),
    messagesStream: anthropicEvents
      .map((event) => (event['delta'] as { text?: string } | undefined)?.text ?? '')
      .join(''),
    responsesNative: outputText(native),
    responsesNativeStream: nativeEvents
      .filter((event) => event['type'] === 'response.output_text.delta')
      .map((event) => event['delta'] as string)
      .join(''),
    responsesTranslated: outputText(translated),
  };
}

/** Run a gateway process exporting to `receiver` with `extraEnv`, send it the seven requests, stop it cleanly. */
async function answersOfGateway(receiver: OtlpReceiver, extraEnv: Record<string, string>): Promise<Answers> {
  const gateway = await startGatewayProcess(env(receiver, extraEnv));
  const answers = await sendAll(gateway.url);
  expect(await gateway.terminate()).toBe(0);
  return answers;
}

/** Every span `receiver` got, once at least `count` of them are CLIENT spans. */
function receivedClientSpans(receiver: OtlpReceiver, count: number): Promise<ReceivedSpan[]> {
  return receiver.waitForSpans(
    (received) => received.filter((span) => span.kind === SpanKindNumber.CLIENT).length >= count,
    10_000,
  );
}

/** The attempt (CLIENT) spans, in the order of the seven requests. */
function attemptSpans(spans: ReceivedSpan[]): ReceivedSpan[] {
  const clients = spans
    .filter((span) => span.kind === SpanKindNumber.CLIENT && span.attributes['gen_ai.operation.name'] === 'chat')
    .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  expect(clients.map((span) => [span.name, span.attributes['gen_ai.request.stream']])).toEqual([
    ['chat gpt-4o-mini', false],
    ['chat gpt-4o-mini', true],
    ['chat claude-3-5-haiku', false],
    ['chat claude-3-5-haiku', true],
    ['chat gpt-4o-mini', false],
    ['chat gpt-4o-mini', true],
    ['chat claude-3-5-haiku', false],
  ]);
  return clients;
}

describe('GenAI message content on the attempt spans of the gateway process', () => {
  let receiver: OtlpReceiver;
  let captured: ReceivedSpan[];
  let uncaptured: ReceivedSpan[];
  let answers: Answers;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    answers = await answersOfGateway(receiver, {
      OTEL_SERVICE_NAME: 'content-on',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      GATEWAYZ_GENAI_CONTENT_MAX_LENGTH: String(MAX_LENGTH),
    });
    await answersOfGateway(receiver, { OTEL_SERVICE_NAME: 'content-off' });
    const spans = await receivedClientSpans(receiver, 14);
    captured = attemptSpans(spans.filter((span) => span.resource['service.name'] === 'content-on'));
    uncaptured = attemptSpans(spans.filter((span) => span.resource['service.name'] === 'content-off'));
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
  });

  it('chat JSON: the whole history (system, text parts, tool call and result) in, the answer out; long text cut', () => {
    const [span] = captured;
    const cut = `${LONG_QUESTION.slice(0, MAX_LENGTH)}${GEN_AI_CONTENT_TRUNCATION_MARKER}`;
    expect(content(span, INPUT)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'You are the on-call assistant.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Which provider failed?' }] },
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_7', name: 'provider_status', arguments: { provider: 'openai' } }],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_7', response: 'openai: error rate 31%' }] },
      { role: 'user', parts: [{ type: 'text', content: cut }] },
    ]);
    expect(answers.chatJson.length).toBeGreaterThan(0);
    expect(content(span, OUTPUT)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: answers.chatJson }], finish_reason: 'stop' },
    ]);
    expect(span?.attributes[SYSTEM]).toBeUndefined();
  });

  it('chat stream: the deltas put together into the answer the client read', () => {
    const span = captured[1];
    expect(content(span, INPUT)).toEqual([
      { role: 'user', name: 'ops', parts: [{ type: 'text', content: 'Stream the runbook step.' }] },
    ]);
    expect(answers.chatStream.length).toBeGreaterThan(0);
    expect(content(span, OUTPUT)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: answers.chatStream }], finish_reason: 'stop' },
    ]);
  });

  it('messages JSON: system as system instructions, tool_use and tool_result blocks as tool parts', () => {
    const span = captured[2];
    expect(content(span, SYSTEM)).toEqual([{ type: 'text', content: 'Answer as the runbook would.' }]);
    expect(content(span, INPUT)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Look up the weather.' }] },
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Checking.' },
          { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } },
        ],
      },
      { role: 'user', parts: [{ type: 'tool_call_response', id: 'toolu_1', response: 'rainy' }] },
    ]);
    expect(answers.messagesJson.length).toBeGreaterThan(0);
    expect(content(span, OUTPUT)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: answers.messagesJson }], finish_reason: 'stop' },
    ]);
  });

  it('messages stream: system and turn in, the streamed answer out', () => {
    const span = captured[3];
    expect(content(span, SYSTEM)).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(content(span, INPUT)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Stream a summary.' }] }]);
    expect(answers.messagesStream.length).toBeGreaterThan(0);
    expect(content(span, OUTPUT)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: answers.messagesStream }], finish_reason: 'stop' },
    ]);
  });

  it('responses, native JSON: instructions as system instructions, input messages in, the Response output out', () => {
    const span = captured[4];
    expect(content(span, SYSTEM)).toEqual([{ type: 'text', content: 'Reply in one line.' }]);
    expect(content(span, INPUT)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Status of the fleet?' }] },
    ]);
    expect(answers.responsesNative.length).toBeGreaterThan(0);
    expect(content(span, OUTPUT)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: answers.responsesNative }], finish_reason: 'stop' },
    ]);
  });

  it('responses, native stream and through a chat provider: input string in, the answer out', () => {
    expect(content(captured[5], INPUT)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Stream the fleet status.' }] },
    ]);
    expect(answers.responsesNativeStream.length).toBeGreaterThan(0);
    expect(content(captured[5], OUTPUT)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: answers.responsesNativeStream }], finish_reason: 'stop' },
    ]);
    expect(captured[5]?.attributes[SYSTEM]).toBeUndefined();
    expect(content(captured[6], INPUT)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Status through a chat provider?' }] },
    ]);
    expect(content(captured[6], OUTPUT)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: answers.responsesTranslated }], finish_reason: 'stop' },
    ]);
  });

  it('without the variable, none of the three attributes is on any span, and the prompts are nowhere in the export', () => {
    expect(uncaptured).toHaveLength(7);
    const offSpans = receiver.spans().filter((span) => span.resource['service.name'] === 'content-off');
    for (const span of offSpans) {
      for (const attribute of [INPUT, OUTPUT, SYSTEM]) expect(span.attributes[attribute]).toBeUndefined();
      expect(JSON.stringify(span)).not.toContain('Stream the runbook step.');
    }
  });
});

describe('GenAI output content held to GATEWAYZ_GENAI_CONTENT_MAX_LENGTH on the attempt spans', () => {
  // The simulated answers are a dozen words, under the limit above: this process cuts them.
  const SHORT_LIMIT = 6;
  let receiver: OtlpReceiver;
  let spans: ReceivedSpan[];
  let answers: Answers;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    answers = await answersOfGateway(receiver, {
      OTEL_SERVICE_NAME: 'content-short',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'span_only',
      GATEWAYZ_GENAI_CONTENT_MAX_LENGTH: String(SHORT_LIMIT),
    });
    spans = attemptSpans(await receivedClientSpans(receiver, 7));
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
  });

  it('the answer of a JSON and of a streamed chat is cut at the limit, with the marker', () => {
    const cut = (text: string): string => `${text.slice(0, SHORT_LIMIT)}${GEN_AI_CONTENT_TRUNCATION_MARKER}`;
    expect(answers.chatJson.length).toBeGreaterThan(SHORT_LIMIT);
    expect(answers.chatStream.length).toBeGreaterThan(SHORT_LIMIT);
    expect(content(spans[0], OUTPUT)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: cut(answers.chatJson) }], finish_reason: 'stop' },
    ]);
    expect(content(spans[1], OUTPUT)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: cut(answers.chatStream) }], finish_reason: 'stop' },
    ]);
  });
});
