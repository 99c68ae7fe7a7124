import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import { responsesFinishReason } from './responses-outcome.js';
import type { ResponseEcho } from './responses-request.js';
import {
  contentPart,
  outputMessage,
  outputText,
  refusalPart,
  responseId,
  responseObject,
  statusOf,
  type OutputPart,
} from './responses-response.js';
import { dataEvent, type CompletionChunk, type GeneratedOutput, type StreamEncoder } from './stream-encoder.js';
import { withFields } from '../with-fields.js';

/*
 * Responses API streams: typed SSE events (`event: <type>` and a `data:` object with the same
 * `type` and a `sequence_number` counting from 0), no `[DONE]`. Either translated from an OpenAI
 * chat stream, or relayed as the upstream sent them.
 */

function event(type: string, sequenceNumber: number, fields: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequenceNumber, ...fields })}\n\n`;
}

/**
 * A stream failure as the Responses API sends it: an `error` event with `code`, `message` and
 * `param` at the top, as its reference documents, and nested under `error`, as the live API sends
 * them (which is what makes the official SDKs raise an `APIError`).
 */
export function responsesStreamError(sequenceNumber: number, message: string, type: string): string {
  return event('error', sequenceNumber, {
    code: 'server_error',
    message,
    param: null,
    error: { type: 'server_error', code: type, message, param: null },
  });
}

/**
 * Translate an OpenAI chat stream into Responses API events: `response.created`,
 * `response.in_progress`, `response.output_item.added`, `response.content_part.added`,
 * `response.output_text.delta`..., `response.output_text.done`, `response.content_part.done`,
 * `response.output_item.done`, and `response.completed` (or `response.incomplete` when the output
 * hit `max_output_tokens`) carrying the whole Response with its usage. A refusal (the upstream's
 * `delta.refusal`) is a `refusal` content part: `response.refusal.delta`..., `response.refusal.done`.
 */
export function responsesStreamEncoder(model: string, echo: ResponseEcho): StreamEncoder {
  const id = responseId('resp');
  const itemId = responseId('msg');
  const createdAt = Math.floor(Date.now() / 1000);
  let sequence = 0;
  let started = false;
  let responseModel = model;
  /** The message's content parts so far; the last one is open until another kind starts or the stream ends. */
  const parts: Array<{ kind: OutputPart['kind']; text: string }> = [];
  const next = (type: string, fields: Record<string, unknown>): string => event(type, sequence++, fields);
  const at = (contentIndex: number) => ({ item_id: itemId, output_index: 0, content_index: contentIndex });
  const start = (): string => {
    if (started) return '';
    started = true;
    const response = responseObject({ id, createdAt, model: responseModel, status: 'in_progress', output: [], echo });
    return (
      next('response.created', { response }) +
      next('response.in_progress', { response }) +
      next('response.output_item.added', { output_index: 0, item: outputMessage(itemId, [], 'in_progress') })
    );
  };
  const openPart = (kind: OutputPart['kind']): string => {
    parts.push({ kind, text: '' });
    const empty = kind === 'text' ? outputText('') : refusalPart('');
    return next('response.content_part.added', withFields(at(parts.length - 1), { part: empty }));
  };
  const closePart = (index: number): string => {
    const part = parts[index] as OutputPart;
    const done =
      part.kind === 'text'
        ? next('response.output_text.done', withFields(at(index), { text: part.text, logprobs: [] }))
        : next('response.refusal.done', withFields(at(index), { refusal: part.text }));
    return done + next('response.content_part.done', withFields(at(index), { part: contentPart(part) }));
  };
  const append = (kind: OutputPart['kind'], delta: string): string => {
    let out = '';
    if (parts.at(-1)?.kind !== kind) {
      if (parts.length > 0) out += closePart(parts.length - 1);
      out += openPart(kind);
    }
    const index = parts.length - 1;
    (parts[index] as { text: string }).text += delta;
    return (
      out +
      (kind === 'text'
        ? next('response.output_text.delta', withFields(at(index), { delta, logprobs: [] }))
        : next('response.refusal.delta', withFields(at(index), { delta })))
    );
  };
  const encoder: StreamEncoder = {
    chunk: (chunk) => {
      // The upstream's own error event ends the stream: the client gets it as `response.failed` + `error`.
      if (chunk.failure !== undefined) return encoder.error(chunk.failure, 'upstream_stream_error');
      if (chunk.model !== undefined && !started) responseModel = chunk.model;
      let out = start();
      if (chunk.content !== undefined && chunk.content !== '') out += append('text', chunk.content);
      if (chunk.refusal !== undefined && chunk.refusal !== '') out += append('refusal', chunk.refusal);
      return out;
    },
    end: ({ usage, finishReason }) => {
      const { status, incompleteDetails } = statusOf(finishReason);
      // An answer with no output still has its (empty) text part.
      let out = start() + (parts.length === 0 ? openPart('text') : '');
      out += closePart(parts.length - 1);
      const item = outputMessage(itemId, parts, status);
      const response = responseObject({
        id,
        createdAt,
        model: responseModel,
        status,
        incompleteDetails,
        output: [item],
        echo,
        ...(usage !== undefined ? { usage } : {}),
      });
      return (
        out +
        next('response.output_item.done', { output_index: 0, item }) +
        next(status === 'completed' ? 'response.completed' : 'response.incomplete', { response })
      );
    },
    error: (message, type) => {
      let out = '';
      if (started) {
        const response = responseObject({
          id,
          createdAt,
          model: responseModel,
          status: 'failed',
          output: [],
          echo,
          error: { code: 'server_error', message },
        });
        out += next('response.failed', { response });
      }
      return out + responsesStreamError(sequence++, message, type);
    },
    // Text and refusals: reasoning and tool calls of the upstream are not translated.
    relaysOutput: (chunk) =>
      (chunk.content !== undefined && chunk.content !== '') || (chunk.refusal !== undefined && chunk.refusal !== ''),
  };
  return encoder;
}

/** Responses API events whose `delta` is generated output: the first of them is the first token. */
const RESPONSES_OUTPUT_EVENTS: ReadonlyMap<string, GeneratedOutput> = new Map([
  ['response.output_text.delta', 'text'],
  ['response.refusal.delta', 'refusal'],
  ['response.reasoning_text.delta', 'reasoning'],
  ['response.reasoning_summary_text.delta', 'reasoning_summary'],
  ['response.function_call_arguments.delta', 'tool_call'],
  ['response.custom_tool_call_input.delta', 'tool_call'],
]);

/**
 * Parse one event of an upstream Responses API stream (the native path): generated output, the
 * final usage and finish reason (`response.completed` / `response.incomplete`), failures (with the
 * usage a `response.failed` reports).
 */
export function parseResponsesEvent(data: string, name: string | undefined): CompletionChunk | undefined {
  let json: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    json = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const type = typeof json['type'] === 'string' ? json['type'] : name;
  const chunk: CompletionChunk = { raw: data, json, usageOnly: false, ...(type !== undefined ? { event: type } : {}) };
  const response = json['response'] as
    { id?: unknown; model?: unknown; usage?: unknown; error?: { message?: unknown } | null } | undefined;
  if (typeof response?.model === 'string') chunk.model = response.model;
  if (typeof response?.id === 'string') chunk.id = response.id;
  const delta = json['delta'];
  const output =
    type !== undefined && typeof delta === 'string' && delta !== '' ? RESPONSES_OUTPUT_EVENTS.get(type) : undefined;
  if (output !== undefined) chunk.output = output;
  switch (type) {
    case 'response.output_text.delta':
      if (typeof json['delta'] === 'string') chunk.content = json['delta'];
      break;
    case 'response.completed':
    case 'response.incomplete': {
      const usage = usageFromOpenAi(response?.usage);
      if (usage !== undefined) chunk.usage = usage;
      chunk.finishReason = responsesFinishReason(response, type === 'response.completed' ? 'completed' : 'incomplete');
      chunk.finishReasons = [[0, chunk.finishReason]];
      chunk.final = true;
      break;
    }
    case 'response.failed': {
      // A failed response may still report the tokens it used (billed by the provider).
      const usage = usageFromOpenAi(response?.usage);
      if (usage !== undefined) chunk.usage = usage;
      chunk.failure =
        typeof response?.error?.message === 'string' ? response.error.message : 'The upstream response failed';
      break;
    }
    case 'error': {
      const nested = json['error'] as { message?: unknown } | undefined;
      const message = typeof json['message'] === 'string' ? json['message'] : nested?.message;
      chunk.failure = typeof message === 'string' ? message : 'The upstream stream failed';
      break;
    }
  }
  return chunk;
}

/** Relay an upstream Responses API stream as it came; a failure of the gateway's own continues its sequence numbers. */
export function responsesPassthroughEncoder(): StreamEncoder {
  let lastSequence = -1;
  return {
    chunk: (chunk) => {
      const sequence = chunk.json['sequence_number'];
      if (typeof sequence === 'number') lastSequence = sequence;
      return `event: ${chunk.event ?? 'message'}\n${dataEvent(chunk.raw)}`;
    },
    end: () => '',
    error: (message, type) => responsesStreamError(lastSequence + 1, message, type),
  };
}
