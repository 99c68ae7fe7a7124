import type { Usage } from '../request/attempt.js';

/** One parsed OpenAI `chat.completion.chunk`. */
export interface CompletionChunk {
  raw: string;
  id?: string;
  model?: string;
  content?: string;
  finishReason?: string;
  usage?: Usage;
  /** A usage-only chunk (`choices: []`). */
  usageOnly: boolean;
}

/** Turns upstream chunks into what the client receives (OpenAI passthrough or Anthropic events). */
export interface StreamEncoder {
  chunk(chunk: CompletionChunk): string;
  /** Text written when the upstream finished normally. */
  end(completion: { usage?: Usage; finishReason?: string }): string;
  /** Text written when the stream fails midway. */
  error(message: string, type: string): string;
}

/** Parse the data of one upstream SSE event; `undefined` when it is not JSON. */
export function parseCompletionChunk(data: string): CompletionChunk | undefined {
  let parsed: {
    id?: string;
    model?: string;
    choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
    usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  };
  try {
    parsed = JSON.parse(data) as typeof parsed;
  } catch {
    return undefined;
  }
  const choice = parsed.choices?.[0];
  const usage =
    parsed.usage && typeof parsed.usage.prompt_tokens === 'number' && typeof parsed.usage.completion_tokens === 'number'
      ? { inputTokens: parsed.usage.prompt_tokens, outputTokens: parsed.usage.completion_tokens }
      : undefined;
  return {
    raw: data,
    ...(parsed.id !== undefined ? { id: parsed.id } : {}),
    ...(parsed.model !== undefined ? { model: parsed.model } : {}),
    ...(typeof choice?.delta?.content === 'string' ? { content: choice.delta.content } : {}),
    ...(typeof choice?.finish_reason === 'string' ? { finishReason: choice.finish_reason } : {}),
    ...(usage !== undefined ? { usage } : {}),
    usageOnly: Array.isArray(parsed.choices) && parsed.choices.length === 0,
  };
}

/** OpenAI passthrough: chunks as received; the usage chunk only when the client asked for it. */
export function openAiStreamEncoder(includeUsage: boolean): StreamEncoder {
  return {
    chunk: (chunk) => (chunk.usageOnly && !includeUsage ? '' : `data: ${chunk.raw}\n\n`),
    end: () => 'data: [DONE]\n\n',
    error: (message, type) => `data: ${JSON.stringify({ error: { message, type, code: type } })}\n\n`,
  };
}
