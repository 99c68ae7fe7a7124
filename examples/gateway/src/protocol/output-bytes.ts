import type { CompletionChunk } from './stream-encoder.js';

/**
 * UTF-8 bytes of the generated output one upstream stream event carries: every string of each
 * choice's `delta` of a chat chunk but its `role` (text, refusal, reasoning, tool call names and
 * arguments, and a tool call's id and type, which only make the count larger), or the `delta` of a
 * Responses API `*.delta` event. For byte-level BPE tokenizers every token is at least one byte, so
 * the sum over a stream bounds the output tokens received from above (not those the provider kept
 * hidden, such as reasoning it does not stream).
 */
export function generatedOutputBytes(chunk: CompletionChunk): number {
  if (chunk.event !== undefined) {
    const delta = chunk.json['delta'];
    return typeof delta === 'string' && chunk.event.endsWith('.delta') ? Buffer.byteLength(delta, 'utf8') : 0;
  }
  const choices = chunk.json['choices'];
  if (!Array.isArray(choices)) return 0;
  let bytes = 0;
  for (const choice of choices as unknown[]) {
    if (typeof choice === 'object' && choice !== null) bytes += stringBytes((choice as { delta?: unknown }).delta);
  }
  return bytes;
}

/** UTF-8 bytes of every string in `value` (objects and arrays walked), leaving out `role`. */
function stringBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value !== 'object' || value === null) return 0;
  let bytes = 0;
  if (Array.isArray(value)) {
    for (const item of value) bytes += stringBytes(item);
    return bytes;
  }
  for (const [key, item] of Object.entries(value)) if (key !== 'role') bytes += stringBytes(item);
  return bytes;
}
