// Budget admission, side by side in one process: what a request of a key with a budget costs the
// gateway before and after budget holds. Before: the `exhausted` check on arrival and the charge at
// completion. After: the same check, the cost estimate (images: n × price; chat: the prompt walked
// for its UTF-8 bytes), the hold, the charge through it and its release. Prints ns per request;
// asserts no timings. Run: npx vitest run -c bench/vitest.config.ts bench/gateway
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { PricingTable } from '@gatewayz/telemetry/genai';
import { Bench } from 'tinybench';
import { expect, it } from 'vitest';
import { ApiKeyAccount } from '../../examples/gateway/src/api-keys/api-key-registry.js';
import { CostEstimator } from '../../examples/gateway/src/api-keys/cost-estimate.js';
import { DEMO_PROVIDERS, DEMO_PRICES } from '../../examples/gateway/src/providers/demo-providers.js';
import type { ProviderConfig } from '../../examples/gateway/src/config.js';

const SHORT = process.env['BENCH_SHORT'] === '1';

it('measures budget admission with and without holds', { timeout: 600_000 }, async () => {
  const telemetry = new GatewayTelemetry({ exportVia: 'producer' });
  const providers: ProviderConfig[] = DEMO_PROVIDERS.map((spec) => ({
    name: spec.name,
    baseUrl: 'http://127.0.0.1:1/v1',
    models: spec.models,
    imageModels: spec.imageModels,
    embeddingModels: spec.embeddingModels,
  }));
  const pricing = new PricingTable(
    Object.fromEntries(
      DEMO_PROVIDERS.map((spec) => [
        spec.name,
        Object.fromEntries(
          [...spec.models, ...spec.imageModels, ...spec.embeddingModels].map((model) => [
            model,
            DEMO_PRICES[model] ?? {},
          ]),
        ),
      ]),
    ),
  );
  const costs = new CostEstimator(providers, pricing);
  // A budget no benchmark run spends: every request is admitted.
  const before = new ApiKeyAccount('before', 'paid', 1e12, telemetry);
  const after = new ApiKeyAccount('after', 'paid', 1e12, telemetry);
  const chat = {
    model: 'gpt-4o-mini',
    max_tokens: 256,
    messages: [
      { role: 'system', content: 'You are a helpful assistant that answers briefly.' },
      { role: 'user', content: 'What does a circuit breaker do in an LLM gateway? Explain in two sentences.' },
      { role: 'assistant', content: 'It stops calls to a failing provider for a while so requests fail over quickly.' },
    ],
  };
  let sink = 0;
  const bench = new Bench({ time: SHORT ? 50 : 1000, warmupTime: SHORT ? 10 : 200 });
  bench
    .add('before: exhausted check + charge', () => {
      if (!before.exhausted) before.charge(0.04);
    })
    .add('holds, image: check + estimate + hold + charge + release', () => {
      if (after.exhausted) return;
      const hold = after.hold(costs.images('gpt-image-1', 1))!;
      hold.charge(0.04);
      hold.release();
    })
    .add('holds, chat (3 messages): check + estimate + hold + charge + release', () => {
      if (after.exhausted) return;
      const hold = after.hold(costs.chat('gpt-4o-mini', chat))!;
      hold.charge(0.0002);
      hold.release();
    })
    .add('chat estimate alone', () => {
      sink += costs.chat('gpt-4o-mini', chat);
    });
  await bench.run();
  const rows = bench.tasks.map((task) => ({
    task: task.name,
    'ns/op (mean)': Math.round((task.result as { latency: { mean: number } }).latency.mean * 1e6),
    'ns/op (p99)': Math.round((task.result as { latency: { p99: number } }).latency.p99 * 1e6),
    'ops/s': Math.round((task.result as { throughput: { mean: number } }).throughput.mean),
  }));
  console.table(rows);
  expect(sink).toBeGreaterThan(0);
  expect(after.holdCount).toBe(0);
  expect(after.heldUsd).toBe(0);
});
