import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ env: { MAX_BODY_BYTES: '65536' } });
});
afterAll(async () => {
  await gw.close();
});

const MODELS = ['gpt-4o-mini', 'claude-3-5-haiku', 'gpt-image-1', 'unknown-model', '', 'x'.repeat(300)];

/** Bodies from plausible to hostile: valid requests with random extras, wrong types, random JSON, garbage text. */
const body = fc.oneof(
  fc
    .record(
      {
        model: fc.oneof(fc.constantFrom(...MODELS), fc.string(), fc.integer(), fc.constant(null)),
        messages: fc.oneof(
          fc.array(
            fc.record({
              role: fc.oneof(fc.constantFrom('user', 'system', 'assistant'), fc.string()),
              content: fc.oneof(
                fc.string(),
                fc.constant(null),
                fc.integer(),
                fc.array(fc.record({ type: fc.constant('text'), text: fc.string() })),
              ),
            }),
            { maxLength: 4 },
          ),
          fc.string(),
          fc.constant(null),
        ),
        stream: fc.oneof(fc.boolean(), fc.string(), fc.constant(null)),
        max_tokens: fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.double(), fc.string()),
        prompt: fc.oneof(fc.string(), fc.integer()),
        n: fc.oneof(fc.integer({ min: -2, max: 20 }), fc.string()),
        system: fc.oneof(fc.string(), fc.array(fc.record({ type: fc.string(), text: fc.string() }))),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc.json(),
  fc.string(),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
];

async function assertWellFormedError(response: Response): Promise<void> {
  const text = await response.text();
  expect(response.status, text).not.toBe(500);
  if (response.status >= 400 && !(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    expect(typeof parsed.error?.message).toBe('string');
  }
}

describe('property: no generated request makes the gateway fail or hang', () => {
  for (const path of [
    '/v1/chat/completions',
    '/v1/messages',
    '/v1/responses',
    '/v1/embeddings',
    '/v1/images/generations',
  ]) {
    it(`POST ${path} answers every generated body with a success or an OpenAI-style client error`, async () => {
      await fc.assert(
        fc.asyncProperty(body, fc.constantFrom(...CONTENT_TYPES), async (payload, contentType) => {
          const response = await fetch(`${gw.url}${path}`, {
            method: 'POST',
            headers: contentType === '' ? {} : { 'content-type': contentType },
            body: payload,
            signal: AbortSignal.timeout(5000),
          });
          expect([200, 400, 404, 413, 415, 502, 503]).toContain(response.status);
          await assertWellFormedError(response);
        }),
        { numRuns: 120 },
      );
    });
  }

  const query = fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('provider', 'status', 'limit', 'offset', 'error_threshold', 'min_calls', 'category'),
        fc.string({ maxLength: 8 }),
      ),
      fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.double().map(String)),
    ),
    { maxLength: 3 },
  );
  const paths = fc.constantFrom(
    '/v1/model-health',
    '/v1/model-health/unhealthy',
    '/v1/model-health/stats',
    '/v1/model-health/providers',
    '/v1/model-health/provider/openai/summary',
    '/v1/model-health/openai/gpt-4o-mini',
    '/v1/model-health/%ZZ/x',
    '/prometheus/metrics/summary',
    '/prometheus/metrics/providers',
    '/prometheus/metrics/nope',
    '/metrics',
  );

  it('GET model-health and metrics endpoints answer every generated query with 200, 400 or 404', async () => {
    await fc.assert(
      fc.asyncProperty(paths, query, fc.constantFrom('GET', 'POST', 'DELETE'), async (path, parameters, method) => {
        const url = new URL(path, gw.url);
        for (const [name, value] of parameters) url.searchParams.append(name, value);
        const response = await fetch(url, { method, signal: AbortSignal.timeout(5000) });
        expect([200, 400, 404, 405]).toContain(response.status);
        if (response.status !== 200) await assertWellFormedError(response);
        else await response.arrayBuffer();
      }),
      { numRuns: 200 },
    );
  });
});
