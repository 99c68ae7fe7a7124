import { createHash } from 'node:crypto';

/** Dimension of a simulated embedding when the request names none. */
export const SIMULATED_EMBEDDING_DIMENSIONS = 256;

/**
 * A deterministic unit vector for `text`: the same text always gets the same vector (seeded by
 * its SHA-256), so tests can compare what the gateway relayed with what the provider made.
 */
export function simulatedEmbedding(text: string, dimensions = SIMULATED_EMBEDDING_DIMENSIONS): number[] {
  let seed = createHash('sha256').update(text).digest().readUInt32LE(0);
  const next = (): number => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) >>> 0;
    let value = seed;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const vector = Array.from({ length: dimensions }, () => next() * 2 - 1);
  const norm = Math.hypot(...vector) || 1;
  // Rounded to float32, as the vector travels in base64 too.
  return vector.map((value) => Math.fround(value / norm));
}

/** The texts of an embeddings `input` (token arrays read as their numbers joined by spaces), with their token counts. */
function inputsOf(input: unknown): Array<{ text: string; tokens: number }> {
  const one = (item: unknown): { text: string; tokens: number } =>
    Array.isArray(item)
      ? { text: item.join(' '), tokens: item.length }
      : { text: String(item), tokens: Math.max(1, Math.ceil(String(item).length / 4)) };
  if (Array.isArray(input) && input.length > 0 && !input.every((item) => typeof item === 'number'))
    return input.map(one);
  return [one(input)];
}

/** The answer of a simulated `/v1/embeddings` call, in OpenAI's shape. */
export function simulatedEmbeddings(body: Record<string, unknown>, model: string): Record<string, unknown> {
  const dimensions = typeof body['dimensions'] === 'number' ? body['dimensions'] : SIMULATED_EMBEDDING_DIMENSIONS;
  const base64 = body['encoding_format'] === 'base64';
  const inputs = inputsOf(body['input']);
  const promptTokens = inputs.reduce((sum, input) => sum + input.tokens, 0);
  return {
    object: 'list',
    data: inputs.map((input, index) => {
      const vector = simulatedEmbedding(input.text, dimensions);
      return {
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(Float32Array.from(vector).buffer).toString('base64') : vector,
      };
    }),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
