import type { AttemptCompletion, Usage } from './provider-router.js';
import type { UpstreamResponse } from './upstream.js';

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

export interface RelayOptions {
  encoder: StreamEncoder;
  /** Longest silence allowed between upstream chunks. */
  idleTimeoutMs: number;
  /** `performance.now()` when the attempt started, for time to first token. */
  attemptStartedAt: number;
  /** Called exactly once when the stream ends, however it ends. */
  onEnd: (completion: AttemptCompletion) => void;
}

function parseChunk(data: string): CompletionChunk | undefined {
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

/**
 * Relay an upstream OpenAI-style SSE stream to the client through `encoder`, measuring time to
 * first token and end of stream, enforcing an idle timeout, and reporting how the stream ended
 * (success, timeout, upstream failure, client cancel) exactly once through `onEnd`.
 */
export function relaySse(upstream: UpstreamResponse, options: RelayOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const reader = upstream.body;
  let buffer = '';
  let usage: Usage | undefined;
  let finishReason: string | undefined;
  let responseModel: string | undefined;
  let timeToFirstTokenSeconds: number | undefined;
  let ended = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  const finish = (completion: AttemptCompletion): void => {
    if (ended) return;
    ended = true;
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    options.onEnd({
      ...completion,
      ...(usage !== undefined ? { usage } : {}),
      ...(responseModel !== undefined ? { responseModel } : {}),
      ...(finishReason !== undefined ? { finishReasons: [finishReason] } : {}),
      ...(timeToFirstTokenSeconds !== undefined ? { timeToFirstTokenSeconds } : {}),
    });
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (status: AttemptCompletion['status'], errorType: string, message: string): void => {
        if (ended) return;
        try {
          controller.enqueue(encoder.encode(options.encoder.error(message, errorType)));
          controller.close();
        } catch {
          // The client is gone already.
        }
        reader.cancel();
        finish({ status, errorType, errorMessage: message });
      };
      const armIdleTimer = (): void => {
        if (idleTimer !== undefined) clearTimeout(idleTimer);
        idleTimer = setTimeout(
          () => fail('timeout', 'timeout', `Upstream stream idle for ${options.idleTimeoutMs} ms`),
          options.idleTimeoutMs,
        );
      };
      const handleEvent = (data: string): boolean => {
        if (data === '[DONE]') {
          controller.enqueue(
            encoder.encode(
              options.encoder.end({ ...(usage ? { usage } : {}), ...(finishReason ? { finishReason } : {}) }),
            ),
          );
          controller.close();
          reader.discardRest();
          finish({ status: 'success' });
          return false;
        }
        const chunk = parseChunk(data);
        if (chunk === undefined) {
          fail('error', 'invalid_response', 'Upstream sent a malformed stream chunk');
          return false;
        }
        if (chunk.usage !== undefined) usage = chunk.usage;
        if (chunk.model !== undefined) responseModel = chunk.model;
        if (chunk.finishReason !== undefined) finishReason = chunk.finishReason;
        if (timeToFirstTokenSeconds === undefined && chunk.content !== undefined && chunk.content !== '') {
          timeToFirstTokenSeconds = (performance.now() - options.attemptStartedAt) / 1000;
        }
        const text = options.encoder.chunk(chunk);
        if (text !== '') controller.enqueue(encoder.encode(text));
        return true;
      };
      const pump = async (): Promise<void> => {
        armIdleTimer();
        for (;;) {
          let result: IteratorResult<Uint8Array, undefined>;
          try {
            result = await reader.read();
          } catch {
            fail('network_error', 'network_error', 'Upstream connection failed during the stream');
            return;
          }
          if (ended) return;
          if (result.done) {
            if (finishReason !== undefined) {
              controller.enqueue(encoder.encode(options.encoder.end({ ...(usage ? { usage } : {}), finishReason })));
              controller.close();
              finish({ status: 'success' });
            } else {
              fail('network_error', 'network_error', 'Upstream stream ended before completion');
            }
            return;
          }
          armIdleTimer();
          buffer += decoder.decode(result.value, { stream: true });
          let boundary: number;
          while ((boundary = buffer.indexOf('\n\n')) !== -1) {
            const event = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            for (const line of event.split('\n')) {
              if (!line.startsWith('data:')) continue;
              if (!handleEvent(line.slice(5).trim())) return;
            }
          }
        }
      };
      void pump();
    },
    cancel() {
      reader.cancel();
      // The client hanging up says nothing about the provider, which was streaming fine.
      finish({ status: 'success', cancelled: true });
    },
  });
}

/** OpenAI passthrough: chunks as received; the usage chunk only when the client asked for it. */
export function openAiStreamEncoder(includeUsage: boolean): StreamEncoder {
  return {
    chunk: (chunk) => (chunk.usageOnly && !includeUsage ? '' : `data: ${chunk.raw}\n\n`),
    end: () => 'data: [DONE]\n\n',
    error: (message, type) => `data: ${JSON.stringify({ error: { message, type, code: type } })}\n\n`,
  };
}
