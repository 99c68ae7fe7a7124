import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import type { Usage } from '../request/attempt.js';
import { chatUsage } from './usage.js';
import { withFields } from '../with-fields.js';

/** One parsed upstream SSE event: an OpenAI `chat.completion.chunk`, or a Responses API event. */
export interface CompletionChunk {
  raw: string;
  /** The parsed JSON of `raw`. */
  json: Record<string, unknown>;
  /** The SSE `event:` name, when the upstream sent one (Responses API). */
  event?: string;
  id?: string;
  model?: string;
  /** `created` of a chat chunk (Unix seconds). */
  created?: number;
  /** The answer's `service_tier`, when the event carries one (a chat chunk's, a Responses event's `response`). */
  serviceTier?: string;
  /** A chat chunk's `system_fingerprint`. */
  systemFingerprint?: string;
  content?: string;
  /** The first choice's refusal text in this event (OpenAI's `delta.refusal`), if any. */
  refusal?: string;
  /**
   * The kind of generated output the event carries, if any: text, a refusal, reasoning
   * (`reasoning_content` / `reasoning` deltas, Responses reasoning text), a reasoning summary or a
   * tool call. Role-only, empty, usage-only and finish chunks carry none. The first such event is
   * the first token.
   */
  output?: GeneratedOutput;
  /** The finish reason of the first choice in the event (what a translating encoder reports). */
  finishReason?: string;
  /** Every finish reason in the event, by choice index (`n` > 1 streams one per choice). */
  finishReasons?: ReadonlyArray<readonly [index: number, reason: string]>;
  usage?: Usage;
  /** The usage chunk: `choices: []` with a `usage` (a chunk without choices nor usage is not one). */
  usageOnly: boolean;
  /** The upstream's last event (Responses API `response.completed`): the stream ends after it. */
  final?: boolean;
  /**
   * The upstream reported a failure inside the stream (a chat stream's `{"error":{...}}` event,
   * Responses API `error`, `response.failed`): the stream ends after it.
   */
  failure?: string;
}

/**
 * Generated output in a stream event: what counts as a token for time to first token.
 * `reasoning` is the model's reasoning itself; `reasoning_summary` a summary of reasoning the
 * provider keeps hidden (Responses API), whose tokens are not the reasoning tokens of the usage.
 */
export type GeneratedOutput = 'text' | 'refusal' | 'reasoning' | 'reasoning_summary' | 'tool_call';

/** Parses the data (and `event:` name) of one upstream SSE event: a chunk, `done` (chat `[DONE]`), or `undefined` when malformed. */
export type StreamParser = (data: string, event: string | undefined) => CompletionChunk | 'done' | undefined;

/** Turns upstream chunks into what the client receives (OpenAI passthrough, Anthropic or Responses events). */
export interface StreamEncoder {
  chunk(chunk: CompletionChunk): string;
  /**
   * Whether the client receives the generated output of `chunk` (its `output`); default yes. A
   * translating encoder that passes on text only says no for reasoning and tool calls, so the
   * server's time to first token runs to the first output its client actually got.
   */
  relaysOutput?(chunk: CompletionChunk): boolean;
  /**
   * Checked when the upstream finished normally, before `end`: why the answer cannot be carried to
   * the client (tool call arguments that are not a JSON object, for Anthropic's `tool_use`), or
   * `undefined`. The stream then ends with `error` instead, and the attempt fails as `invalid_response`.
   */
  untranslatable?(): string | undefined;
  /** Text written when the upstream finished normally. */
  end(completion: { usage?: Usage; finishReason?: string }): string;
  /** Text written when the stream fails midway; `type` is the gateway's error type (`timeout`, `network_error`, ...). */
  error(message: string, type: string): string;
}

function parseObject(data: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

type ChatDelta = {
  content?: unknown;
  refusal?: unknown;
  reasoning_content?: unknown;
  reasoning?: unknown;
  tool_calls?: unknown;
  function_call?: unknown;
} | null;
type ChatChoice = { index?: unknown; delta?: ChatDelta; finish_reason?: unknown } | null;

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value !== '';

/** The generated output in one choice's delta, if any. */
function outputOf(delta: ChatDelta | undefined): GeneratedOutput | undefined {
  if (delta === null || typeof delta !== 'object') return undefined;
  if (nonEmpty(delta.content)) return 'text';
  if (nonEmpty(delta.refusal)) return 'refusal';
  // DeepSeek's `reasoning_content`, OpenRouter's `reasoning`.
  if (nonEmpty(delta.reasoning_content) || nonEmpty(delta.reasoning)) return 'reasoning';
  if (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) return 'tool_call';
  if (typeof delta.function_call === 'object' && delta.function_call !== null) return 'tool_call';
  return undefined;
}

/**
 * The message of an error sent as a stream event: OpenAI's `{"error":{"message":...}}`, or
 * OpenRouter's chunk with a top-level `error` beside a choice with `finish_reason: "error"`.
 */
function streamErrorMessage(json: Record<string, unknown>): string | undefined {
  const error = json['error'];
  if (error === null || error === undefined || error === false) return undefined;
  const message = typeof error === 'object' ? (error as { message?: unknown }).message : error;
  return typeof message === 'string' && message !== '' ? message : 'The upstream stream failed';
}

/** Parse the data of one upstream chat SSE event; `done` for `[DONE]`, `undefined` when it is not a JSON object. */
export function parseCompletionChunk(data: string): CompletionChunk | 'done' | undefined {
  if (data === '[DONE]') return 'done';
  const json = parseObject(data);
  if (json === undefined) return undefined;
  const choices = json['choices'];
  const list: ChatChoice[] = Array.isArray(choices) ? (choices as ChatChoice[]) : [];
  const first = list[0];
  let output: GeneratedOutput | undefined;
  const finishReasons: Array<readonly [number, string]> = [];
  list.forEach((choice, position) => {
    output ??= outputOf(choice?.delta);
    if (typeof choice?.finish_reason === 'string') {
      const index = typeof choice.index === 'number' && Number.isInteger(choice.index) ? choice.index : position;
      finishReasons.push([index, choice.finish_reason]);
    }
  });
  const usage = usageFromOpenAi(json['usage']);
  const failure = streamErrorMessage(json);
  return {
    raw: data,
    json,
    ...(typeof json['id'] === 'string' ? { id: json['id'] } : {}),
    ...(typeof json['model'] === 'string' ? { model: json['model'] } : {}),
    ...(typeof json['created'] === 'number' ? { created: json['created'] } : {}),
    ...(typeof json['service_tier'] === 'string' ? { serviceTier: json['service_tier'] } : {}),
    ...(typeof json['system_fingerprint'] === 'string' ? { systemFingerprint: json['system_fingerprint'] } : {}),
    ...(typeof first?.delta?.content === 'string' ? { content: first.delta.content } : {}),
    ...(typeof first?.delta?.refusal === 'string' ? { refusal: first.delta.refusal } : {}),
    ...(output !== undefined ? { output } : {}),
    ...(typeof first?.finish_reason === 'string' ? { finishReason: first.finish_reason } : {}),
    ...(finishReasons.length > 0 ? { finishReasons } : {}),
    ...(usage !== undefined ? { usage } : {}),
    ...(failure !== undefined ? { failure } : {}),
    // No choices and the usage. A chunk without choices that carries no usage (Azure OpenAI's first
    // chunk, with its `prompt_filter_results`) is an ordinary chunk.
    usageOnly: Array.isArray(choices) && choices.length === 0 && json['usage'] !== null && json['usage'] !== undefined,
  };
}

/**
 * One SSE event carrying `data`: a `data:` field per line, so data the upstream sent on several
 * lines (which SSE joins with line feeds) reaches the client whole.
 */
export function dataEvent(data: string): string {
  return `${data
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}

/** A mid-stream error in OpenAI's shape; the official SDKs raise it as an `APIError`. */
export function openAiStreamError(message: string, type: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: type } })}\n\n`;
}

/**
 * OpenAI passthrough, with `stream_options.include_usage` honoured as OpenAI does: the gateway
 * always asks the upstream for usage (to record it), but the client gets a usage field only when
 * it asked, and then as a final `choices: []` chunk before `[DONE]` (made here if the upstream
 * reported usage elsewhere, with `usage: null` on the chunk that carried it).
 */
export function openAiStreamEncoder(includeUsage: boolean): StreamEncoder {
  let usageChunkSent = false;
  let last: { id?: string; model?: string; created?: number } = {};
  return {
    chunk: (chunk) => {
      last = { id: chunk.id ?? last.id, model: chunk.model ?? last.model, created: chunk.created ?? last.created };
      if (chunk.usageOnly) {
        if (!includeUsage) return '';
        usageChunkSent = true;
        return dataEvent(chunk.raw);
      }
      if (!includeUsage && 'usage' in chunk.json) {
        const { usage: _usage, ...withoutUsage } = chunk.json;
        return `data: ${JSON.stringify(withoutUsage)}\n\n`;
      }
      if (includeUsage && chunk.json['usage'] !== null && chunk.json['usage'] !== undefined) {
        // An upstream that puts usage on a content or finish chunk: OpenAI's clients find it
        // null there and in the usage chunk at the end (made in `end`), never twice.
        return `data: ${JSON.stringify(withFields(chunk.json, { usage: null }))}\n\n`;
      }
      return dataEvent(chunk.raw);
    },
    end: ({ usage }) => {
      if (!includeUsage || usageChunkSent || usage === undefined) return 'data: [DONE]\n\n';
      const usageChunk = {
        id: last.id ?? 'chatcmpl-gateway',
        object: 'chat.completion.chunk',
        created: last.created ?? Math.floor(Date.now() / 1000),
        model: last.model ?? '',
        choices: [],
        usage: chatUsage(usage),
      };
      return `data: ${JSON.stringify(usageChunk)}\n\ndata: [DONE]\n\n`;
    },
    error: openAiStreamError,
  };
}
