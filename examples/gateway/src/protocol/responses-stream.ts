import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import { responsesFinishReason } from './responses-outcome.js';
import type { ResponseEcho } from './responses-request.js';
import { toolCallDeltas, toolCallFragment, toolCallIndexes, toolCallStart, type ToolCallDelta } from './chat-tools.js';
import {
  contentPart,
  functionCallItem,
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

/** An output item of a translated stream, at `outputIndex`: a message with its content parts, or a function call. */
type StreamedItem = { outputIndex: number; id: string } & (
  | { kind: 'message'; parts: Array<{ kind: OutputPart['kind']; text: string }> }
  | { kind: 'function_call'; callId: string; name: string; arguments: string }
);
type StreamedMessage = StreamedItem & { kind: 'message' };
type StreamedCall = StreamedItem & { kind: 'function_call' };

/** The item as the Response and `response.output_item.*` events carry it. */
function itemObject(item: StreamedItem, status: 'in_progress' | 'completed' | 'incomplete') {
  return item.kind === 'message' ? outputMessage(item.id, item.parts, status) : functionCallItem(item.id, item, status);
}

/**
 * Translate an OpenAI chat stream into Responses API events: `response.created`,
 * `response.in_progress`, then an output item per run of text and per tool call, and
 * `response.completed` (or `response.incomplete` when the output hit `max_output_tokens`) carrying
 * the whole Response with its items and usage. A message item: `response.output_item.added`,
 * `response.content_part.added`, `response.output_text.delta`..., `response.output_text.done`,
 * `response.content_part.done`, `response.output_item.done`; a refusal (the upstream's
 * `delta.refusal`) is a `refusal` content part, `response.refusal.delta`..., `response.refusal.done`.
 * A tool call is a `function_call` item: `response.output_item.added`,
 * `response.function_call_arguments.delta`..., `response.function_call_arguments.done` (a `{}`
 * delta first when no arguments came: the SDKs parse them), `response.output_item.done`. A message
 * is done when a tool call starts; tool calls stay open, each event with its own item's
 * `output_index`, until text starts or the stream ends, as the upstream may interleave their
 * fragments (see `untranslatable`). When the output is cut, only the item that got output last is
 * `incomplete`.
 */
export function responsesStreamEncoder(model: string, echo: ResponseEcho): StreamEncoder {
  const id = responseId('resp');
  const createdAt = Math.floor(Date.now() / 1000);
  let sequence = 0;
  let started = false;
  let responseModel = model;
  /** The output items so far, by output index. */
  const items: StreamedItem[] = [];
  /** The open message, if any; a message and tool calls are never open at once. */
  let openMessage: StreamedMessage | undefined;
  /** The open tool call items, in output order. */
  let openCalls: StreamedCall[] = [];
  /** The item that got output last: the one a cut output leaves incomplete. */
  let lastItem: StreamedItem | undefined;
  /** The output item of each tool call, by the upstream's tool call index. */
  const callItems = new Map<number, StreamedCall>();
  const toolCallIndex = toolCallIndexes();
  /** A tool call fragment came after its item was done (text came between): its arguments as sent would be wrong. */
  let lateFragment = false;
  const next = (type: string, fields: Record<string, unknown>): string => event(type, sequence++, fields);
  const start = (): string => {
    if (started) return '';
    started = true;
    const response = responseObject({ id, createdAt, model: responseModel, status: 'in_progress', output: [], echo });
    return next('response.created', { response }) + next('response.in_progress', { response });
  };
  const at = (item: StreamedItem, contentIndex: number) => ({
    item_id: item.id,
    output_index: item.outputIndex,
    content_index: contentIndex,
  });
  const closePart = (item: StreamedMessage, index: number): string => {
    const part = item.parts[index] as OutputPart;
    const where = at(item, index);
    const done =
      part.kind === 'text'
        ? next('response.output_text.done', withFields(where, { text: part.text, logprobs: [] }))
        : next('response.refusal.done', withFields(where, { refusal: part.text }));
    return done + next('response.content_part.done', withFields(where, { part: contentPart(part) }));
  };
  const openPart = (item: StreamedMessage, kind: OutputPart['kind']): string => {
    item.parts.push({ kind, text: '' });
    const empty = kind === 'text' ? outputText('') : refusalPart('');
    return next('response.content_part.added', withFields(at(item, item.parts.length - 1), { part: empty }));
  };
  const itemDone = (item: StreamedItem, status: 'completed' | 'incomplete'): string =>
    next('response.output_item.done', { output_index: item.outputIndex, item: itemObject(item, status) });
  /** Close the open message, its last part first (an empty text part when it has none). */
  const closeMessage = (statusFor: (item: StreamedItem) => 'completed' | 'incomplete'): string => {
    const item = openMessage;
    if (item === undefined) return '';
    openMessage = undefined;
    let out = '';
    if (item.parts.length === 0) out += openPart(item, 'text');
    return out + closePart(item, item.parts.length - 1) + itemDone(item, statusFor(item));
  };
  /** Close the open tool calls; a call without arguments gets `{}`. */
  const closeCalls = (statusFor: (item: StreamedItem) => 'completed' | 'incomplete'): string => {
    let out = '';
    for (const item of openCalls) {
      if (item.arguments === '') {
        item.arguments = '{}';
        out += next('response.function_call_arguments.delta', {
          item_id: item.id,
          output_index: item.outputIndex,
          delta: item.arguments,
        });
      }
      out += next('response.function_call_arguments.done', {
        item_id: item.id,
        output_index: item.outputIndex,
        name: item.name,
        arguments: item.arguments,
      });
      out += itemDone(item, statusFor(item));
    }
    openCalls = [];
    return out;
  };
  const addItem = (item: StreamedItem): string => {
    items.push(item);
    lastItem = item;
    return next('response.output_item.added', {
      output_index: item.outputIndex,
      item: itemObject(item, 'in_progress'),
    });
  };
  const append = (kind: OutputPart['kind'], delta: string): string => {
    let out = closeCalls(() => 'completed');
    let item = openMessage;
    if (item === undefined) {
      item = { kind: 'message', outputIndex: items.length, id: responseId('msg'), parts: [] };
      out += addItem(item);
      openMessage = item;
    }
    lastItem = item;
    if (item.parts.at(-1)?.kind !== kind) {
      if (item.parts.length > 0) out += closePart(item, item.parts.length - 1);
      out += openPart(item, kind);
    }
    const index = item.parts.length - 1;
    (item.parts[index] as { text: string }).text += delta;
    const where = at(item, index);
    return (
      out +
      (kind === 'text'
        ? next('response.output_text.delta', withFields(where, { delta, logprobs: [] }))
        : next('response.refusal.delta', withFields(where, { delta })))
    );
  };
  const toolCall = (call: ToolCallDelta, position: number): string => {
    const index = toolCallIndex(call, position);
    let out = '';
    let item = callItems.get(index);
    if (item === undefined) {
      out += closeMessage(() => 'completed');
      const { id: callId, name } = toolCallStart(call);
      item = {
        kind: 'function_call',
        outputIndex: items.length,
        id: responseId('fc'),
        callId: callId ?? responseId('call'),
        name,
        arguments: '',
      };
      out += addItem(item);
      callItems.set(index, item);
      openCalls.push(item);
    }
    const fragment = toolCallFragment(call);
    if (fragment === '') return out;
    if (!openCalls.includes(item)) {
      lateFragment = true;
      return out;
    }
    item.arguments += fragment;
    lastItem = item;
    return (
      out +
      next('response.function_call_arguments.delta', {
        item_id: item.id,
        output_index: item.outputIndex,
        delta: fragment,
      })
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
      toolCallDeltas(chunk).forEach((call, position) => (out += toolCall(call, position)));
      return out;
    },
    // A fragment of a call whose item was done already (text came after it): the client has that call's arguments, wrong.
    untranslatable: () => (lateFragment ? 'Upstream streamed tool call arguments after the call had ended' : undefined),
    end: ({ usage, finishReason }) => {
      const { status, incompleteDetails } = statusOf(finishReason);
      let out = start();
      // An answer with no output still has its message, with an empty text part.
      if (items.length === 0) {
        openMessage = { kind: 'message', outputIndex: 0, id: responseId('msg'), parts: [] };
        out += addItem(openMessage);
      }
      const statusOfItem = (item: StreamedItem) => (item === lastItem ? status : 'completed');
      out += closeMessage(statusOfItem) + closeCalls(statusOfItem);
      const output = items.map((item) => itemObject(item, statusOfItem(item)));
      const response = responseObject({
        id,
        createdAt,
        model: responseModel,
        status,
        incompleteDetails,
        output,
        echo,
        ...(usage !== undefined ? { usage } : {}),
      });
      return out + next(status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
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
    // Text, refusals and tool calls reach the client; the upstream's reasoning does not.
    relaysOutput: (chunk) =>
      (chunk.content !== undefined && chunk.content !== '') ||
      (chunk.refusal !== undefined && chunk.refusal !== '') ||
      toolCallDeltas(chunk).length > 0,
  };
  return encoder;
}

/**
 * Responses API events whose `delta` is generated output: the first of them, or of the tool calls
 * added with their name (`namesToolCall`), is the first token.
 */
const RESPONSES_OUTPUT_EVENTS: ReadonlyMap<string, GeneratedOutput> = new Map([
  ['response.output_text.delta', 'text'],
  ['response.refusal.delta', 'refusal'],
  ['response.reasoning_text.delta', 'reasoning'],
  ['response.reasoning_summary_text.delta', 'reasoning_summary'],
  ['response.function_call_arguments.delta', 'tool_call'],
  ['response.custom_tool_call_input.delta', 'tool_call'],
]);

/** Output items calling one of the client's tools by its `name`, which they carry when added. */
const NAMED_TOOL_CALLS: ReadonlySet<string> = new Set(['function_call', 'custom_tool_call']);

/**
 * Whether `item` (of a `response.output_item.added`) is a tool call with its name: generated
 * output, as the first tool call delta of a chat stream (its id and name) is, so the same
 * generation has the same first token on either path, and a call whose arguments never come as
 * a delta has one.
 */
function namesToolCall(item: unknown): boolean {
  if (item === null || typeof item !== 'object') return false;
  const { type, name } = item as { type?: unknown; name?: unknown };
  return typeof type === 'string' && NAMED_TOOL_CALLS.has(type) && typeof name === 'string' && name !== '';
}

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
    | { id?: unknown; model?: unknown; usage?: unknown; service_tier?: unknown; error?: { message?: unknown } | null }
    | undefined;
  if (typeof response?.model === 'string') chunk.model = response.model;
  if (typeof response?.id === 'string') chunk.id = response.id;
  if (typeof response?.service_tier === 'string') chunk.serviceTier = response.service_tier;
  const delta = json['delta'];
  const output =
    type !== undefined && typeof delta === 'string' && delta !== '' ? RESPONSES_OUTPUT_EVENTS.get(type) : undefined;
  if (output !== undefined) chunk.output = output;
  else if (type === 'response.output_item.added' && namesToolCall(json['item'])) chunk.output = 'tool_call';
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
