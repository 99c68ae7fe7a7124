import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { GatewayTelemetry } from '@gatewayz/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyRegistry, type ApiKeyAccount } from '../src/api-keys/api-key-registry.js';
import { budgetRefusal } from '../src/api-keys/authenticate.js';
import { findJsonSyntaxError } from '../src/api-keys/json-syntax-error.js';
import {
  GatewayConfigError,
  loadGatewaySettings,
  loadHealthServiceUrl,
  loadWorkerCount,
  parseProviders,
} from '../src/config.js';
import { resolveProviders } from '../src/server/run-gateway.js';
import { sampleSum, startTestGateway } from './harness.js';
import { SimulatedRateLimit } from '../src/providers/simulated-rate-limit.js';
import { postUpstream, readUpstreamJson, UpstreamFailure } from '../src/providers/upstream.js';

/*
 * What a user sees of the upstream client, the API keys and the configuration, at the edges the
 * other tests leave open: a 2xx other than 200, where a redirect points (bounded in the logs),
 * how keys are presented and counted, and the settings' bounds.
 */

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A loopback upstream whose answer each test sets. */
let server: Server;
let baseUrl: string;
let handler: Handler;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => handler(request, response));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const post = () =>
  postUpstream({ url: `${baseUrl}/v1/chat/completions`, body: { model: 'm' }, headers: {}, timeoutMs: 2_000 });

/** The UpstreamFailure a promise rejects with. */
async function failureOf(promise: Promise<unknown>): Promise<UpstreamFailure> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(UpstreamFailure);
  return error as UpstreamFailure;
}

describe('postUpstream', () => {
  it('takes any 2xx as an answer: a 201 Created body is read like a 200', async () => {
    handler = (_request, response) =>
      response.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"created-1"}');
    const response = await post();
    expect(response.status).toBe(201);
    expect(await readUpstreamJson(response)).toEqual({ id: 'created-1' });
  });

  it('fails a JSON null answer as invalid_response (failover), never handing null on', async () => {
    handler = (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('null');
    const failure = await failureOf(readUpstreamJson(await post()));
    expect(failure.errorType).toBe('invalid_response');
    expect(failure.message).toBe('Upstream returned a non-object JSON body');
    expect(failure.failover).toBe(true);
  });

  it('keeps at most 200 characters of where a redirect points (origin and path)', async () => {
    const path = `/${'a'.repeat(300)}`;
    handler = (_request, response) => response.writeHead(308, { location: `${path}?token=secret` }).end();
    const failure = await failureOf(post());
    expect(failure.failover).toBe(true);
    expect(failure.redirectedTo).toBe(`${baseUrl}${path}`.slice(0, 200));
    expect(failure.redirectedTo).toHaveLength(200);
  });
});

describe("a simulated provider's rate-limit headers", () => {
  /** The headers `admit` sets, by name. */
  function admitted(limit: SimulatedRateLimit, tokens: number): Record<string, string> {
    const headers: Record<string, string> = {};
    const response = { setHeader: (name: string, value: string) => (headers[name] = value) };
    limit.admit(response as unknown as ServerResponse, 1, tokens);
    return headers;
  }

  it('reports 0 tokens remaining, never a negative count, after a request larger than the token budget', () => {
    const headers = admitted(
      new SimulatedRateLimit(
        'openai',
        () => 0,
        () => 0,
      ),
      10_000,
    );
    expect(headers['x-ratelimit-limit-tokens']).toBe('4000');
    expect(headers['x-ratelimit-remaining-tokens']).toBe('0');
    expect(headers['x-ratelimit-remaining-requests']).toBe('0');
  });
});

describe('providers files', () => {
  const entry = { name: 'p', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'] };
  const parse = (entries: unknown[], env: NodeJS.ProcessEnv = {}) =>
    parseProviders(JSON.stringify(entries), 'GATEWAY_PROVIDERS_FILE test.json', env);

  it('drops every trailing slash of a base URL, not just one', () => {
    expect(parse([{ ...entry, baseUrl: 'http://127.0.0.1:9/v1///' }])[0]?.baseUrl).toBe('http://127.0.0.1:9/v1');
  });

  it('leaves cancelStopsBilling off unless the entry sets it', () => {
    expect(parse([entry])[0]?.cancelStopsBilling).toBe(false);
  });

  it('refuses an apiKeyEnv naming a variable that is set but empty', () => {
    expect(() => parse([{ ...entry, apiKeyEnv: 'P_KEY' }], { P_KEY: '' })).toThrow(
      'GATEWAY_PROVIDERS_FILE test.json, provider 0: the variable P_KEY named by "apiKeyEnv" is not set',
    );
    expect(parse([{ ...entry, apiKeyEnv: 'P_KEY' }], { P_KEY: 'sk-1' })[0]?.apiKey).toBe('sk-1');
  });

  it('takes a provider name of 64 characters, and refuses 65', () => {
    expect(parse([{ ...entry, name: 'p'.repeat(64) }])[0]?.name).toBe('p'.repeat(64));
    expect(() => parse([{ ...entry, name: 'p'.repeat(65) }])).toThrow(/"name" must be a lowercase identifier/);
  });
});

describe('UPSTREAM_* providers', () => {
  const env = { UPSTREAM_BASE_URL: 'https://api.openai.com/v1/', UPSTREAM_MODELS: 'gpt-4o-mini' };

  it('drops the trailing slash of UPSTREAM_BASE_URL, and takes a blank UPSTREAM_API_KEY as none', async () => {
    expect((await resolveProviders({ ...env, UPSTREAM_API_KEY: '  ' })).providers).toEqual([
      { name: 'openai', baseUrl: 'https://api.openai.com/v1', models: ['gpt-4o-mini'] },
    ]);
  });
});

describe('settings at the ends of their ranges', () => {
  it('takes 256 workers, the most there may be', () => {
    expect(loadWorkerCount({ GATEWAY_WORKERS: '256' }, 8)).toBe(256);
  });

  it('takes PORT=65535', () => {
    expect(loadGatewaySettings({ PORT: '65535' }).port).toBe(65535);
  });

  it('takes a blank CREDITS_PER_USD as unset (1 credit per USD), not as 0', () => {
    expect(loadGatewaySettings({ CREDITS_PER_USD: '  ' }).creditsPerUsd).toBe(1);
  });

  it('refuses a HEALTH_SERVICE_URL with a fragment, as with a query', () => {
    expect(() => loadHealthServiceUrl({ HEALTH_SERVICE_URL: 'http://health-service:8000/#x' })).toThrow(
      GatewayConfigError,
    );
  });
});

describe('API key accounts', () => {
  it("tells its listener of every charge (a cluster worker shares the key's spend through it), and refuses with the cost to 6 digits", () => {
    const registry = new ApiKeyRegistry({
      config: { keys: [{ name: 'k', key: 'key-k', plan: 'paid', budgetUsd: 1 }], required: true },
      telemetry: new GatewayTelemetry({ exportVia: 'producer' }),
    });
    try {
      const account = registry.account('k') as ApiKeyAccount;
      const heard: number[] = [];
      account.onChange = (changed) => heard.push(changed.ownSpentUsd);
      account.charge(0.25);
      expect(heard).toEqual([0.25]);
      expect(budgetRefusal(account, 0.123456789).message).toBe(
        'The API key "k" has too little of its budget of 1 USD left for this request, which may cost up to 0.123457 USD ' +
          '(its requests in progress hold part of the budget until they finish)',
      );
    } finally {
      registry.close();
    }
  });
});

describe('API keys over HTTP', () => {
  const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
  const messages = { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

  it("refuses a missing key with 401 and WWW-Authenticate, reads x-api-key only on /v1/messages, and answers there in Anthropic's shape", async () => {
    const gateway = await startTestGateway({
      apiKeys: { keys: [{ name: 'team', key: 'gwz-team', plan: 'paid' }], required: true },
    });
    try {
      const missing = await gateway.post('/v1/chat/completions', body, { 'x-api-key': 'gwz-team' });
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      expect(await missing.json()).toEqual({
        error: {
          message: 'Missing API key: send it as "Authorization: Bearer <key>"',
          type: 'invalid_request_error',
          param: null,
          code: 'missing_api_key',
        },
      });
      expect((await gateway.post('/v1/messages', messages, { 'x-api-key': 'gwz-team' })).status).toBe(200);
      const unknown = await gateway.post('/v1/messages', messages, { 'x-api-key': 'gwz-other' });
      expect(unknown.status).toBe(401);
      expect(await unknown.json()).toEqual({
        type: 'error',
        error: { type: 'authentication_error', message: 'Invalid API key' },
      });
    } finally {
      await gateway.close();
    }
  });

  it('counts a key whose budget is spent in active_api_keys, though its request is refused with 429', async () => {
    const gateway = await startTestGateway({
      apiKeys: { keys: [{ name: 'spent', key: 'gwz-spent', plan: 'trial', budgetUsd: 0 }], required: true },
    });
    try {
      const refused = await gateway.post('/v1/chat/completions', body, { authorization: 'Bearer gwz-spent' });
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
        'The API key "spent" has spent its budget of 0 USD',
      );
      expect(sampleSum(await gateway.scrape(), 'active_api_keys')).toBe(1);
    } finally {
      await gateway.close();
    }
  });
});

describe('findJsonSyntaxError', () => {
  it('reads CRLF line ends as whitespace, locating the real mistake of a file saved on Windows', () => {
    expect(findJsonSyntaxError('[\r\n  1,\r\n]')).toEqual({
      problem: 'a closing bracket right after a comma',
      line: 3,
      column: 1,
    });
  });
});
