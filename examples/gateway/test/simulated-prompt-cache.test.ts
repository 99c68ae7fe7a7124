import { describe, expect, it } from 'vitest';
import { SIMULATED_PROMPT_CACHE_ENTRIES, startSimulatedProvider } from '../src/providers/simulated-provider.js';

/*
 * The demo's simulated provider reports a repeated prompt as read from its prompt cache. Clients
 * choose the prompts, so the cache keeps the most recently used ones only: it used to keep every
 * distinct prompt for the life of the process (about 460 B each).
 */

describe('the simulated prompt cache', () => {
  it('keeps the most recently used prompts, not every prompt ever sent', async () => {
    const provider = await startSimulatedProvider({ name: 'p', models: ['m'], latencyMs: 0, errorRate: 0 });
    const cached = async (content: string): Promise<number> => {
      const response = await fetch(`${provider.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }),
      });
      const body = (await response.json()) as { usage: { prompt_tokens_details?: { cached_tokens?: number } } };
      return body.usage.prompt_tokens_details?.cached_tokens ?? 0;
    };
    try {
      const prompt = 'a prompt the cache sees first and then not for a long time';
      expect(await cached(prompt)).toBe(0);
      expect(await cached(prompt)).toBeGreaterThan(0);
      const kept = 'a prompt used again and again';
      for (let index = 0; index < SIMULATED_PROMPT_CACHE_ENTRIES; index++) {
        await cached(`distinct prompt number ${index}, long enough to count some tokens`);
        if (index % 100 === 0) await cached(kept);
      }
      // Pushed out by a thousand newer prompts; the one in use stayed.
      expect(await cached(prompt)).toBe(0);
      expect(await cached(kept)).toBeGreaterThan(0);
    } finally {
      await provider.close();
    }
  });
});
