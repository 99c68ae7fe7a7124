import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import { randomBytes } from 'node:crypto';
import type { Usage } from '../request/attempt.js';
import { answeredToolCalls } from './chat-tools.js';
import type { ResponseEcho } from './responses-request.js';
import { responsesUsage } from './usage.js';

/** An id in OpenAI's style: `resp_` / `msg_` / `fc_` (function call item) / `call_` and 48 hex digits. */
export const responseId = (prefix: 'resp' | 'msg' | 'fc' | 'call'): string =>
  `${prefix}_${randomBytes(24).toString('hex')}`;

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** How a chat `finish_reason` ends a Response: `length` and `content_filter` make it incomplete. */
export function statusOf(finishReason: string | undefined): {
  status: 'completed' | 'incomplete';
  incompleteDetails: { reason: string } | null;
} {
  if (finishReason === 'length') return { status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter')
    return { status: 'incomplete', incompleteDetails: { reason: 'content_filter' } };
  return { status: 'completed', incompleteDetails: null };
}

/** One content part of an output message: its text, or the model's refusal. */
export interface OutputPart {
  readonly kind: 'text' | 'refusal';
  readonly text: string;
}

/**
 * An assistant output message holding `parts` (`status` as the item's): an `output_text` part, or a
 * `refusal` part when the model declined; one empty `output_text` part when there are none.
 */
export function outputMessage(
  id: string,
  parts: readonly OutputPart[],
  status: 'in_progress' | 'completed' | 'incomplete',
) {
  return {
    id,
    type: 'message',
    status,
    role: 'assistant',
    content: status === 'in_progress' ? [] : parts.length === 0 ? [outputText('')] : parts.map(contentPart),
  };
}

/** An `output_text` content part. */
export const outputText = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] });

/** A `refusal` content part: the model declined to answer, and says so. */
export const refusalPart = (refusal: string) => ({ type: 'refusal', refusal });

/** The content part of `part`, as the Responses API writes it. */
export const contentPart = (part: OutputPart) =>
  part.kind === 'text' ? outputText(part.text) : refusalPart(part.text);

/** A `function_call` output item: the model calls the client's function `name` with `args` (a JSON text). */
export function functionCallItem(
  id: string,
  call: { callId: string; name: string; arguments: string },
  status: 'in_progress' | 'completed' | 'incomplete',
) {
  return { id, type: 'function_call', status, arguments: call.arguments, call_id: call.callId, name: call.name };
}

/**
 * A tool call's arguments as the JSON text a `function_call` item carries (an object some servers
 * send, encoded): `{}` for none, which the SDKs parse.
 */
export function argumentsText(args: unknown): string {
  if (args === undefined || args === null || args === '') return '{}';
  return typeof args === 'string' ? args : JSON.stringify(args);
}

/** A Response object, as the Responses API answers it and as its stream events carry it. */
export function responseObject(fields: {
  id: string;
  createdAt: number;
  model: string;
  status: ResponseStatus;
  output: unknown[];
  echo: ResponseEcho;
  usage?: Usage;
  incompleteDetails?: { reason: string } | null;
  error?: { code: string; message: string } | null;
}): Record<string, unknown> {
  const done = fields.status === 'completed' || fields.status === 'incomplete';
  return {
    id: fields.id,
    object: 'response',
    created_at: fields.createdAt,
    status: fields.status,
    background: false,
    completed_at: fields.status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: fields.error ?? null,
    incomplete_details: fields.incompleteDetails ?? null,
    instructions: fields.echo.instructions,
    max_output_tokens: fields.echo.maxOutputTokens,
    metadata: fields.echo.metadata,
    model: fields.model,
    output: fields.output,
    parallel_tool_calls: fields.echo.parallelToolCalls,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: fields.echo.temperature ?? 1,
    text: fields.echo.text,
    tool_choice: fields.echo.toolChoice,
    tools: fields.echo.tools,
    top_p: fields.echo.topP ?? 1,
    truncation: 'disabled',
    usage: done && fields.usage !== undefined ? responsesUsage(fields.usage) : null,
  };
}

/**
 * Turn an OpenAI chat completion into a Response object: a message item with its text or refusal,
 * then a `function_call` item per tool call (without an empty message before them). When the
 * output was cut, only the last item is `incomplete`: the ones before it were finished.
 */
export function chatToResponse(
  completion: Record<string, unknown>,
  model: string,
  echo: ResponseEcho,
): Record<string, unknown> {
  const choice = (
    completion['choices'] as
      | Array<{
          message?: { content?: string | null; refusal?: string | null; tool_calls?: unknown };
          finish_reason?: string;
        }>
      | undefined
  )?.[0];
  const parts: OutputPart[] = [];
  const content = choice?.message?.content;
  if (typeof content === 'string' && content !== '') parts.push({ kind: 'text', text: content });
  // OpenAI's `refusal` comes instead of content: the Responses API's `refusal` part.
  const refusal = choice?.message?.refusal;
  if (typeof refusal === 'string' && refusal !== '') parts.push({ kind: 'refusal', text: refusal });
  const { status, incompleteDetails } = statusOf(choice?.finish_reason);
  const calls = answeredToolCalls(choice?.message);
  const statusAt = (index: number) => (index === calls.length ? status : 'completed');
  const callItems = calls.map((call, index) =>
    functionCallItem(
      responseId('fc'),
      {
        callId: call.id ?? responseId('call'),
        name: call.name,
        arguments: argumentsText(call.arguments),
      },
      statusAt(index + 1),
    ),
  );
  const usage = usageFromOpenAi(completion['usage']);
  return responseObject({
    id: responseId('resp'),
    createdAt: typeof completion['created'] === 'number' ? completion['created'] : Math.floor(Date.now() / 1000),
    model: typeof completion['model'] === 'string' ? completion['model'] : model,
    status,
    incompleteDetails,
    output: [
      ...(parts.length > 0 || calls.length === 0 ? [outputMessage(responseId('msg'), parts, statusAt(0))] : []),
      ...callItems,
    ],
    echo,
    ...(usage !== undefined ? { usage } : {}),
  });
}
