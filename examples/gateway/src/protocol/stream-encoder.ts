import { usageFromOpenAi } from '@gatewayz/telemetry/genai';
import type { Usage } from '../request/attempt.js';
import { chatUsage } from './usage.js';

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
  content?: string;
  finishReason?: string;
  usage?: Usage;
  /** A usage-only chunk (`choices: []`). */
  usageOnly: boolean;
  /** The upstream's last event (Responses API `response.completed`): the stream ends after it. */
  final?: boolean;
  /** The upstream reported a failure inside the stream (Responses API `error`, `response.failed`). */
  failure?: string;
}

/** Parses the data (and `event:` name) of one upstream SSE event: a chunk, `done` (chat `[DONE]`), or `undefined` when malformed. */
export type StreamParser = (data: string, event: string | undefined) => CompletionChunk | 'done' | undefined;

/** Turns upstream chunks into what the client receives (OpenAI passthrough, Anthropic or Responses events). */
export interface StreamEncoder {
  chunk(chunk: CompletionChunk): string;
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

/** Parse the data of one upstream chat SSE event; `done` for `[DONE]`, `undefined` when it is not a JSON object. */
export function parseCompletionChunk(data: string): CompletionChunk | 'done' | undefined {
  if (data === '[DONE]') return 'done';
  const json = parseObject(data);
  if (json === undefined) return undefined;
  const choices = json['choices'] as
    Array<{ delta?: { content?: string | null }; finish_reason?: string | null } | null> | undefined;
  const choice = Array.isArray(choices) ? choices[0] : undefined;
  const usage = usageFromOpenAi(json['usage']);
  return {
    raw: data,
    json,
    ...(typeof json['id'] === 'string' ? { id: json['id'] } : {}),
    ...(typeof json['model'] === 'string' ? { model: json['model'] } : {}),
    ...(typeof json['created'] === 'number' ? { created: json['created'] } : {}),
    ...(typeof choice?.delta?.content === 'string' ? { content: choice.delta.content } : {}),
    ...(typeof choice?.finish_reason === 'string' ? { finishReason: choice.finish_reason } : {}),
    ...(usage !== undefined ? { usage } : {}),
    usageOnly: Array.isArray(choices) && choices.length === 0,
  };
}

/** A mid-stream error in OpenAI's shape; the official SDKs raise it as an `APIError`. */
export function openAiStreamError(message: string, type: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: type } })}\n\n`;
}

/**
 * OpenAI passthrough, with `stream_options.include_usage` honoured as OpenAI does: the gateway
 * always asks the upstream for usage (to record it), but the client gets a usage field only when
 * it asked, and then as a final `choices: []` chunk before `[DONE]` (made here if the upstream
 * reported usage elsewhere).
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
        return `data: ${chunk.raw}\n\n`;
      }
      if (!includeUsage && 'usage' in chunk.json) {
        const { usage: _usage, ...withoutUsage } = chunk.json;
        return `data: ${JSON.stringify(withoutUsage)}\n\n`;
      }
      return `data: ${chunk.raw}\n\n`;
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
