import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../src/config.js';
import type { ProviderRuntime } from '../src/providers/provider-router.js';
import { providerChain } from '../src/request/provider-chain.js';

/** The chain only reads each runtime's configuration. */
const runtime = (config: ProviderConfig): ProviderRuntime => ({ config }) as ProviderRuntime;

const RUNTIMES = [
  runtime({ name: 'a', baseUrl: 'http://a', models: ['m1', 'm2'] }),
  runtime({ name: 'b', baseUrl: 'http://b', models: ['m1'], imageModels: ['img'] }),
  runtime({ name: 'c', baseUrl: 'http://c', models: ['m1'], imageModels: ['img'] }),
];
const names = (chain: ProviderRuntime[]): string[] => chain.map((entry) => entry.config.name);

describe('providerChain', () => {
  it('orders the providers serving the model by health score, best first', () => {
    const scores: Record<string, number> = { a: 0.5, b: 0.9, c: 0.7 };
    expect(names(providerChain(RUNTIMES, 'm1', 'chat', (name) => scores[name]))).toEqual(['b', 'c', 'a']);
  });

  it('keeps configuration order on equal scores and ranks unscored providers as healthy (1)', () => {
    expect(names(providerChain(RUNTIMES, 'm1', 'chat', () => undefined))).toEqual(['a', 'b', 'c']);
    expect(names(providerChain(RUNTIMES, 'm1', 'chat', (name) => (name === 'a' ? 0.99 : undefined)))).toEqual([
      'b',
      'c',
      'a',
    ]);
  });

  it('chooses image providers by their image models, and none for an unknown model', () => {
    expect(names(providerChain(RUNTIMES, 'img', 'image_generation', () => 1))).toEqual(['b', 'c']);
    expect(names(providerChain(RUNTIMES, 'img', 'chat', () => 1))).toEqual([]);
    expect(names(providerChain(RUNTIMES, 'nope', 'chat', () => 1))).toEqual([]);
  });
});
