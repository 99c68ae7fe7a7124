import fc from 'fast-check';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouteTemplates, routeLabelOf } from '../src/middleware/route-templates.js';
import { SpanRecorder, startTestGateway, type TestGateway } from './harness.js';

/**
 * The route labels the gateway used before they came from Hono: its hand-written table. Every
 * path must keep the label this table gave it.
 */
const LEGACY_ROUTES: ReadonlyArray<[RegExp, string]> = [
  [/^\/v1\/chat\/completions\/?$/, '/v1/chat/completions'],
  [/^\/v1\/messages\/?$/, '/v1/messages'],
  [/^\/v1\/responses\/?$/, '/v1/responses'],
  [/^\/v1\/embeddings\/?$/, '/v1/embeddings'],
  [/^\/v1\/images\/generations\/?$/, '/v1/images/generations'],
  [/^\/v1\/models\/?$/, '/v1/models'],
  [/^\/health\/?$/, '/health'],
  [/^\/dashboard\/?$/, '/dashboard'],
  [/^\/v1\/model-health\/?$/, '/v1/model-health'],
  [/^\/v1\/model-health\/(?:unhealthy|stats|providers)\/?$/, '/v1/model-health/:query'],
  [/^\/v1\/model-health\/provider\/[^/]+\/summary\/?$/, '/v1/model-health/provider/:provider/summary'],
  [/^\/v1\/model-health\/.+$/, '/v1/model-health/:provider/:model'],
  [/^\/metrics\/?$/, '/metrics'],
  [/^\/prometheus\/metrics\/[a-z_]+\/?$/, '/prometheus/metrics/:category'],
];
function legacyRouteOf(pathname: string): string {
  for (const [pattern, template] of LEGACY_ROUTES) if (pattern.test(pathname)) return template;
  return 'other';
}

describe('routeLabelOf', () => {
  it('drops parameter constraints and optional marks from a registered path', () => {
    expect(routeLabelOf('/v1/chat/completions')).toBe('/v1/chat/completions');
    expect(routeLabelOf('/prometheus/metrics/:category{[a-z_]+}')).toBe('/prometheus/metrics/:category');
    expect(routeLabelOf('/v1/model-health/:provider{[^/]*}/:model{.+}?')).toBe('/v1/model-health/:provider/:model');
    expect(routeLabelOf('/a/:b?/c')).toBe('/a/:b/c');
  });
});

describe('RouteTemplates on a small app', () => {
  const app = new Hono();
  const routes = new RouteTemplates(app);
  let seen = '';
  app.use('*', async (c, next) => {
    seen = routes.of(c.req.method, c.req.path);
    await next();
  });
  app.get('/items/:id{[0-9]+}', (c) => c.text('item'));
  app.all('/files/*', (c) => c.text('file'));
  routes.learn(['/files/:name']);
  app.get('/late', (c) => c.text('late'));

  it.each([
    ['GET', '/items/42', '/items/:id'],
    ['POST', '/items/42', '/items/:id'],
    ['GET', '/items/42/', '/items/:id'],
    ['GET', '/items/abc', 'other'],
    ['GET', '/files/a', '/files/:name'],
    ['GET', '/files/a/b', 'other'],
    ['GET', '/late', 'other'],
    ['GET', '/nowhere', 'other'],
  ])('%s %s is labelled %s', async (method, path, label) => {
    await app.request(path, { method });
    expect(seen).toBe(label);
  });
});

describe('route labels of the gateway', () => {
  let gw: TestGateway;
  const recorder = new SpanRecorder();

  beforeAll(async () => {
    gw = await startTestGateway({ spanProcessors: [recorder] });
  });
  afterAll(async () => {
    await gw.close();
  });

  /** `http.route` of the server span of one request, answered by the app in this process. */
  async function routeOf(method: string, path: string): Promise<string> {
    recorder.clear();
    const response = await gw.gateway.app.request(path, { method });
    await response.arrayBuffer();
    const server = recorder.spans.find((span) => span.attributes['http.route'] !== undefined);
    return String(server?.attributes['http.route']);
  }

  const KNOWN = [
    '/v1/chat/completions',
    '/v1/messages',
    '/v1/responses',
    '/v1/embeddings',
    '/v1/images/generations',
    '/v1/models',
    '/health',
    '/dashboard',
    '/v1/model-health',
    '/v1/model-health/unhealthy',
    '/v1/model-health/stats',
    '/v1/model-health/providers',
    '/v1/model-health/provider/openai/summary',
    '/v1/model-health/openai/gpt-4o-mini',
    '/v1/model-health/openrouter/meta/llama-3.1-8b-instruct',
    '/v1/model-health/openai',
    '/v1/model-health/provider',
    '/v1/model-health/provider/openai',
    '/v1/model-health//x',
    '/v1/model-health/x//',
    '/v1/model-health/%0A',
    '/v1/model-health/a/%0A',
    '/v1/model-health/provider/%0A/summary',
    '/metrics',
    '/prometheus/metrics/summary',
    '/prometheus/metrics/providers',
    '/prometheus/metrics/NOPE',
    '/prometheus/metrics/a/b',
    '/',
    '/v2/whatever',
    '/healthz',
    '/v1',
  ];

  it('gives known paths, their trailing-slash forms and any method the label of the old table', async () => {
    for (const path of KNOWN) {
      for (const variant of path === '/' ? [path] : [path, `${path}/`, `${path}//`]) {
        for (const method of ['GET', 'POST', 'DELETE']) {
          const expected = legacyRouteOf(variant.replace(/%0A/g, '\n'));
          expect(`${method} ${variant} → ${await routeOf(method, variant)}`).toBe(`${method} ${variant} → ${expected}`);
        }
      }
    }
  });

  it('gives generated paths the label of the old table', async () => {
    const segment = fc.constantFrom(
      '',
      'v1',
      'model-health',
      'provider',
      'summary',
      'stats',
      'unhealthy',
      'providers',
      'openai',
      'prometheus',
      'metrics',
      'summary_x',
      'chat',
      'completions',
      'health',
      '%0A',
      'A',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('GET', 'POST'),
        async (segments, method) => {
          const path = `/${segments.join('/')}`;
          const expected = legacyRouteOf(path.replace(/%0A/g, '\n'));
          expect(`${method} ${path} → ${await routeOf(method, path)}`).toBe(`${method} ${path} → ${expected}`);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('names the method and path asked for: 404 for an unknown path, 405 with Allow for a known one', async () => {
    const unknown = await gw.gateway.app.request('/v1/nope', { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error).toEqual({
      message: 'Unknown route: POST /v1/nope',
      type: 'invalid_request_error',
      param: null,
      code: 'not_found',
    });
    const wrongMethod = await gw.gateway.app.request('/v1/chat/completions');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect((await wrongMethod.json()).error).toMatchObject({
      message: 'Method not allowed: GET /v1/chat/completions (allowed: POST)',
      code: 'method_not_allowed',
    });
    const health = await gw.gateway.app.request('/health', { method: 'DELETE' });
    expect(health.status).toBe(405);
    expect(health.headers.get('allow')).toBe('GET, HEAD');
    const trailingSlash = await gw.gateway.app.request('/v1/responses/', { method: 'POST' });
    expect(trailingSlash.status).toBe(404);
    const long = await gw.gateway.app.request(`/${'x'.repeat(1000)}`);
    expect((await long.json()).error.message).toBe(`Unknown route: GET /${'x'.repeat(255)}…`);
  });

  it("answers in Anthropic's error shape under /v1/messages, where Anthropic's SDK reads it", async () => {
    const wrongMethod = await gw.gateway.app.request('/v1/messages');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(await wrongMethod.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'Method not allowed: GET /v1/messages (allowed: POST)' },
    });
    const unknown = await gw.gateway.app.request('/v1/messages/count_tokens', { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: 'Unknown route: POST /v1/messages/count_tokens' },
    });
    // Paths that only begin like it stay in OpenAI's shape.
    const other = await gw.gateway.app.request('/v1/messagesx', { method: 'POST' });
    expect((await other.json()).error.code).toBe('not_found');
  });
});
