import CircuitBreaker from 'opossum';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../src/config.js';
import type { ProviderRuntime } from '../src/providers/provider-router.js';
import { providerChain } from '../src/request/provider-chain.js';

type Breaker = ProviderRuntime['breaker'];
const breakers: Breaker[] = [];
afterAll(() => {
  for (const breaker of breakers.splice(0)) breaker.shutdown();
});

/** A real opossum breaker, closed or (as a gateway would restore one) half-open. */
const breaker = (state: 'closed' | 'half_open' = 'closed'): Breaker => {
  const created: Breaker = new CircuitBreaker<[() => Promise<unknown>], unknown>((action) => action(), {
    timeout: false,
    ...(state === 'half_open' ? { state: { closed: false, halfOpen: true } } : {}),
  });
  breakers.push(created);
  return created;
};

/** The chain reads each runtime's configuration and its breaker's state. */
const runtime = (config: ProviderConfig, circuit: Breaker = breaker()): ProviderRuntime =>
  ({ config, breaker: circuit }) as ProviderRuntime;

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

  it('puts a provider whose half-open breaker awaits its trial call first, whatever its score', async () => {
    const halfOpen = breaker('half_open');
    const runtimes = [
      runtime({ name: 'a', baseUrl: 'http://a', models: ['m1'] }),
      runtime({ name: 'b', baseUrl: 'http://b', models: ['m1'] }, halfOpen),
      runtime({ name: 'c', baseUrl: 'http://c', models: ['m1'] }),
    ];
    const scores: Record<string, number> = { a: 0.9, b: 0.15, c: 0.7 };
    expect(halfOpen.halfOpen && halfOpen.pendingClose).toBe(true);
    expect(names(providerChain(runtimes, 'm1', 'chat', (name) => scores[name]))).toEqual(['b', 'a', 'c']);
    // The trial call is in flight (opossum admits one): the breaker refuses every other call until
    // it ends, so the provider ranks by its score again.
    let endTrial = (): void => {};
    const trial = halfOpen.fire(() => new Promise<void>((resolve) => (endTrial = resolve)));
    expect(halfOpen.halfOpen && !halfOpen.pendingClose).toBe(true);
    expect(names(providerChain(runtimes, 'm1', 'chat', (name) => scores[name]))).toEqual(['a', 'c', 'b']);
    endTrial();
    await trial;
    expect(halfOpen.closed).toBe(true);
    expect(names(providerChain(runtimes, 'm1', 'chat', (name) => scores[name]))).toEqual(['a', 'c', 'b']);
  });
});
