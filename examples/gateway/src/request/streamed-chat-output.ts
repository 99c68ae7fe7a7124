import type { GenAiMessagePart, GenAiOutputMessage } from '@gatewayz/telemetry/genai';
import { finishReasonOf, reasoningOf, toolArguments } from '../protocol/chat-content.js';
import { isObject } from '../protocol/json.js';

/*
 * The generated output of a streamed chat answer, put together from its deltas for
 * `gen_ai.output.messages`: made only when content capture is on, one per streamed attempt.
 */

/** What a streamed attempt puts its answer's content together with (content capture on). */
export interface StreamedOutput {
  /** Take one upstream event (its parsed JSON). */
  add(event: Record<string, unknown>): void;
  /** The answer so far, one message per choice. */
  messages(): GenAiOutputMessage[];
}

/**
 * Text put together from pieces, holding at most `limit + 1` characters: enough for
 * `endGenAiSpan()` to see that it is longer than the limit and cut it exactly as it would cut the
 * whole text, so a long answer costs no more memory than the limit.
 */
export class BoundedText {
  text = '';
  constructor(private readonly limit: number | undefined) {}

  append(piece: unknown): void {
    if (typeof piece !== 'string' || piece === '') return;
    if (this.limit === undefined) this.text += piece;
    else if (this.text.length <= this.limit) this.text += piece.slice(0, this.limit + 1 - this.text.length);
  }

  get cut(): boolean {
    return this.limit !== undefined && this.text.length > this.limit;
  }
}

interface ToolCallOutput {
  id: string | null;
  name: string;
  arguments: BoundedText;
}

interface ChoiceOutput {
  role: string;
  reasoning: BoundedText;
  text: BoundedText;
  refusal: BoundedText;
  /** By the delta's tool call `index`. */
  toolCalls: Map<number, ToolCallOutput>;
  finishReason?: unknown;
}

/**
 * The output of one streamed chat attempt, by choice: reasoning, text, refusal and tool calls (name,
 * id, arguments) from the chunks' deltas, and each choice's finish reason. Each text and tool
 * argument string holds at most `maxLength + 1` characters (see `GatewayTelemetry.genAiContent`).
 *
 * @example
 * ```ts
 * const output = new StreamedChatOutput(4096);
 * output.add({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' } }] });
 * output.add({ choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'stop' }] });
 * output.messages(); // [{ role: 'assistant', parts: [{ type: 'text', content: 'Hello' }], finish_reason: 'stop' }]
 * ```
 */
export class StreamedChatOutput implements StreamedOutput {
  private readonly choices = new Map<number, ChoiceOutput>();

  constructor(private readonly maxLength: number | undefined) {}

  /** Take the deltas of one chat chunk (its parsed JSON). */
  add(chunk: Record<string, unknown>): void {
    const choices = chunk['choices'];
    if (!Array.isArray(choices)) return;
    choices.forEach((choice: unknown, position) => {
      if (!isObject(choice)) return;
      const index = typeof choice['index'] === 'number' ? choice['index'] : position;
      const output = this.choice(index);
      const delta = isObject(choice['delta']) ? choice['delta'] : {};
      if (typeof delta['role'] === 'string') output.role = delta['role'];
      output.reasoning.append(reasoningOf(delta));
      output.text.append(delta['content']);
      output.refusal.append(delta['refusal']);
      const calls = Array.isArray(delta['tool_calls']) ? delta['tool_calls'] : [];
      calls.forEach((call: unknown, callPosition) => {
        if (!isObject(call)) return;
        const callIndex = typeof call['index'] === 'number' ? call['index'] : callPosition;
        let toolCall = output.toolCalls.get(callIndex);
        if (toolCall === undefined) {
          toolCall = { id: null, name: '', arguments: new BoundedText(this.maxLength) };
          output.toolCalls.set(callIndex, toolCall);
        }
        if (typeof call['id'] === 'string') toolCall.id = call['id'];
        const fn = isObject(call['function']) ? call['function'] : {};
        if (typeof fn['name'] === 'string') toolCall.name += fn['name'];
        toolCall.arguments.append(fn['arguments']);
      });
      if (choice['finish_reason'] !== undefined && choice['finish_reason'] !== null)
        output.finishReason = choice['finish_reason'];
    });
  }

  /**
   * One message per choice seen, in choice order. A choice the stream left without a finish
   * reason (cut, failed, or left by the client) ends with `error`. Tool arguments are parsed as
   * JSON when whole; arguments longer than the limit stay text, which `endGenAiSpan()` cuts.
   */
  messages(): GenAiOutputMessage[] {
    return [...this.choices]
      .sort(([a], [b]) => a - b)
      .map(([, choice]) => {
        const parts: GenAiMessagePart[] = [];
        if (choice.reasoning.text !== '') parts.push({ type: 'reasoning', content: choice.reasoning.text });
        if (choice.text.text !== '') parts.push({ type: 'text', content: choice.text.text });
        if (choice.refusal.text !== '') parts.push({ type: 'refusal', content: choice.refusal.text });
        for (const [, call] of [...choice.toolCalls].sort(([a], [b]) => a - b)) {
          const text = call.arguments.text;
          parts.push({
            type: 'tool_call',
            id: call.id,
            name: call.name,
            arguments: call.arguments.cut ? text : toolArguments(text),
          });
        }
        return { role: choice.role, parts, finish_reason: finishReasonOf(choice.finishReason) };
      });
  }

  private choice(index: number): ChoiceOutput {
    let output = this.choices.get(index);
    if (output === undefined) {
      output = {
        role: 'assistant',
        reasoning: new BoundedText(this.maxLength),
        text: new BoundedText(this.maxLength),
        refusal: new BoundedText(this.maxLength),
        toolCalls: new Map(),
      };
      this.choices.set(index, output);
    }
    return output;
  }
}
