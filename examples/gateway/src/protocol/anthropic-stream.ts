import type { Usage } from '../request/attempt.js';
import { stopReason, toolInput, toolUseId, UntranslatableAnswer } from './anthropic.js';
import { toolCallDeltas, toolCallFragment, toolCallIndexes, toolCallStart, type ToolCallDelta } from './chat-tools.js';
import type { StreamEncoder } from './stream-encoder.js';
import { anthropicUsage } from './usage.js';
import { withFields } from '../with-fields.js';

/*
 * An OpenAI chat stream as Anthropic's Messages stream, event for event as Anthropic sends it.
 */

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Translate OpenAI stream chunks into Anthropic's Messages stream: `message_start` (with the input
 * tokens when the upstream's first chunk reports them; an OpenAI upstream reports usage only at
 * the end), then a content block per run of text and per tool call, each `content_block_start`,
 * its deltas (`text_delta`; `input_json_delta` with the tool call's argument fragments) and
 * `content_block_stop` (a `ping` after the first block starts), a `message_delta` with the stop
 * reason (`tool_use` when tools were called) and the cumulative usage (input, output, cache read
 * and cache creation tokens) and `message_stop`; a failure midway is an `error` event in
 * Anthropic's error shape. Tool call fragments are expected in order, one call after the other, as
 * OpenAI streams them; a fragment of a call whose block is closed still goes to that block's index.
 */
export function anthropicStreamEncoder(model: string): StreamEncoder {
  let started = false;
  /** Content blocks started so far; the last one is `open` until the next starts or the stream ends. */
  let blocks = 0;
  let open: { kind: 'text' | 'tool' } | undefined;
  /** The block index of each tool call, by the upstream's tool call index. */
  const toolBlocks = new Map<number, number>();
  /** Each tool call's arguments so far, by the upstream's tool call index: checked at the end. */
  const toolArguments = new Map<number, string>();
  const toolCallIndex = toolCallIndexes();
  /** Whether the upstream refused (`delta.refusal`, relayed as text): the stop reason is then `refusal`. */
  let refused = false;
  const start = (id: string, usage: Usage | undefined): string => {
    if (started) return '';
    started = true;
    return event('message_start', {
      type: 'message_start',
      message: {
        id: `msg_${id}`,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: withFields(anthropicUsage(usage), { output_tokens: 0 }),
      },
    });
  };
  const close = (): string => {
    if (open === undefined) return '';
    open = undefined;
    return event('content_block_stop', { type: 'content_block_stop', index: blocks - 1 });
  };
  const begin = (block: Record<string, unknown>): string => {
    const out =
      close() + event('content_block_start', { type: 'content_block_start', index: blocks, content_block: block });
    blocks++;
    // Anthropic pings once the first block has started.
    return blocks === 1 ? out + event('ping', { type: 'ping' }) : out;
  };
  const text = (delta: string): string => {
    let out = '';
    if (open?.kind !== 'text') {
      out += begin({ type: 'text', text: '' });
      open = { kind: 'text' };
    }
    return (
      out +
      event('content_block_delta', {
        type: 'content_block_delta',
        index: blocks - 1,
        delta: { type: 'text_delta', text: delta },
      })
    );
  };
  const toolCall = (call: ToolCallDelta, position: number): string => {
    const index = toolCallIndex(call, position);
    let out = '';
    let block = toolBlocks.get(index);
    if (block === undefined) {
      const { id, name } = toolCallStart(call);
      out += begin({ type: 'tool_use', id: id ?? toolUseId(), name, input: {} });
      block = blocks - 1;
      toolBlocks.set(index, block);
      open = { kind: 'tool' };
    }
    const fragment = toolCallFragment(call);
    if (fragment !== '') {
      toolArguments.set(index, (toolArguments.get(index) ?? '') + fragment);
      out += event('content_block_delta', {
        type: 'content_block_delta',
        index: block,
        delta: { type: 'input_json_delta', partial_json: fragment },
      });
    }
    return out;
  };
  const error = (message: string, type: string): string =>
    event('error', {
      type: 'error',
      error: { type: type === 'timeout' || type === 'rate_limited' ? 'overloaded_error' : 'api_error', message },
    });
  return {
    chunk: (chunk) => {
      // The upstream's own error event ends the stream: the client gets it as Anthropic's `error`.
      if (chunk.failure !== undefined) return error(chunk.failure, 'upstream_stream_error');
      let out = start(chunk.id ?? 'stream', chunk.usage);
      if (chunk.content !== undefined && chunk.content !== '') out += text(chunk.content);
      if (chunk.refusal !== undefined && chunk.refusal !== '') {
        refused = true;
        out += text(chunk.refusal);
      }
      toolCallDeltas(chunk).forEach((call, position) => (out += toolCall(call, position)));
      return out;
    },
    // Arguments that are not a JSON object: the client could not run its tool with them (as for
    // a JSON answer, see `toolInput`). Their fragments were relayed already; the stream ends in `error`.
    untranslatable: () => {
      for (const text of toolArguments.values()) {
        try {
          toolInput(text);
        } catch (error) {
          if (error instanceof UntranslatableAnswer) return error.message;
          throw error;
        }
      }
      return undefined;
    },
    end: ({ usage, finishReason }) => {
      let out = start('stream', usage);
      // An answer with no output still has its (empty) text block, as Anthropic sends it.
      if (blocks === 0) {
        out += begin({ type: 'text', text: '' });
        open = { kind: 'text' };
      }
      return (
        out +
        close() +
        event('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: stopReason(finishReason, toolBlocks.size > 0, refused), stop_sequence: null },
          usage: anthropicUsage(usage),
        }) +
        event('message_stop', { type: 'message_stop' })
      );
    },
    // Text (a refusal's too) and tool calls reach the client; the upstream's reasoning does not.
    relaysOutput: (chunk) =>
      (chunk.content !== undefined && chunk.content !== '') ||
      (chunk.refusal !== undefined && chunk.refusal !== '') ||
      toolCallDeltas(chunk).length > 0,
    error,
  };
}
