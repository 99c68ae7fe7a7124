import type { ServerResponse } from 'node:http';

/** What a simulated provider generated for one request. */
export interface SimulatedCompletion {
  id: string;
  model: string;
  created: number;
  text: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  /** Every output token, `reasoningTokens` included. */
  completionTokens: number;
  cachedTokens: number;
  /** Prompt tokens written to the prompt cache (reported by providers that charge for it). */
  cacheWriteTokens: number;
  /** Output tokens spent on reasoning (reasoning models). */
  reasoningTokens: number;
}

/** Characters of the text a Responses API request sends the model (`instructions` and `input`). */
export function responsesPromptCharacters(body: Record<string, unknown>): number {
  let characters = typeof body['instructions'] === 'string' ? body['instructions'].length : 0;
  const input = body['input'];
  if (typeof input === 'string') return characters + input.length;
  for (const item of Array.isArray(input) ? (input as Array<{ content?: unknown } | null>) : []) {
    const content = item?.content;
    if (typeof content === 'string') characters += content.length;
    else if (Array.isArray(content)) {
      for (const part of content as Array<{ text?: unknown } | null>)
        if (typeof part?.text === 'string') characters += part.text.length;
    }
  }
  return characters;
}

function response(completion: SimulatedCompletion, body: Record<string, unknown>, done: boolean) {
  const incomplete = completion.finishReason === 'length';
  return {
    id: `resp_${completion.id}`,
    object: 'response',
    created_at: completion.created,
    status: done ? (incomplete ? 'incomplete' : 'completed') : 'in_progress',
    error: null,
    incomplete_details: done && incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: body['instructions'] ?? null,
    max_output_tokens: body['max_output_tokens'] ?? null,
    model: completion.model,
    output: done ? [message(completion, 'completed')] : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    store: body['store'] ?? true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: done
      ? {
          input_tokens: completion.promptTokens,
          input_tokens_details: {
            cached_tokens: completion.cachedTokens,
            ...(completion.cacheWriteTokens > 0 ? { cache_write_tokens: completion.cacheWriteTokens } : {}),
          },
          output_tokens: completion.completionTokens,
          output_tokens_details: { reasoning_tokens: completion.reasoningTokens },
          total_tokens: completion.promptTokens + completion.completionTokens,
        }
      : null,
    metadata: {},
  };
}

function message(completion: SimulatedCompletion, status: 'in_progress' | 'completed') {
  return {
    id: `msg_${completion.id}`,
    type: 'message',
    status,
    role: 'assistant',
    content: status === 'completed' ? [{ type: 'output_text', text: completion.text, annotations: [] }] : [],
  };
}

/** The Response object of a simulated non-streamed `/v1/responses` call. */
export function simulatedResponse(completion: SimulatedCompletion, body: Record<string, unknown>): unknown {
  return response(completion, body, true);
}

/**
 * Drop the connection of a simulated stream midway, once what was written has left: the headers and
 * the first words arrive, then the connection closes without the body's end. Not at once: Node.js
 * 24 sends a response's writes on the next tick, and a socket ended in the same tick went without
 * them, so the client saw a connection closed before any answer (Node 20 and 22 had sent them).
 */
export function cutStream(out: ServerResponse): void {
  setImmediate(() => out.socket?.end());
}

/**
 * Write a simulated `/v1/responses` stream, as OpenAI sends it; `afterWords` is awaited between
 * text deltas (chunk delay), and `cutAfter` (words) drops the connection midway.
 */
export async function writeSimulatedResponseStream(
  out: ServerResponse,
  completion: SimulatedCompletion,
  body: Record<string, unknown>,
  afterWord: () => Promise<void>,
  cutAfter?: number,
): Promise<void> {
  let sequence = 0;
  const send = (type: string, fields: Record<string, unknown>): void => {
    out.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`);
  };
  const position = { item_id: `msg_${completion.id}`, output_index: 0, content_index: 0 };
  send('response.created', { response: response(completion, body, false) });
  send('response.in_progress', { response: response(completion, body, false) });
  send('response.output_item.added', { output_index: 0, item: message(completion, 'in_progress') });
  send('response.content_part.added', { ...position, part: { type: 'output_text', text: '', annotations: [] } });
  const words = completion.text.split(' ');
  for (let index = 0; index < words.length; index++) {
    if (cutAfter !== undefined && index === cutAfter) {
      cutStream(out);
      return;
    }
    send('response.output_text.delta', {
      ...position,
      delta: index === 0 ? words[index] : ` ${words[index]}`,
      logprobs: [],
    });
    await afterWord();
  }
  send('response.output_text.done', { ...position, text: completion.text, logprobs: [] });
  const part = { type: 'output_text', text: completion.text, annotations: [] };
  send('response.content_part.done', { ...position, part });
  send('response.output_item.done', { output_index: 0, item: message(completion, 'completed') });
  const final = response(completion, body, true);
  send(final.status === 'completed' ? 'response.completed' : 'response.incomplete', { response: final });
  out.end();
}
