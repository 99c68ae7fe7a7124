import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamStatusFailure } from '../src/providers/upstream.js';
import { sampleSum } from './harness.js';
import {
  MISBEHAVIOURS,
  post,
  startGoodUpstream,
  startLoggedGateway,
  startMisbehavingUpstream,
  type LoggedGateway,
  type LoopbackUpstream,
} from './misbehaving-upstream.js';

/*
 * A provider whose base URL is out of date answers every request with a redirect (an http:// base
 * URL the server sends to https://). The gateway does not follow redirects: it used to pass the 301
 * or 307 to the client as an "invalid request" (no Location, no failover) while counting it against
 * the provider, whose breaker then opened for every model. A redirect is the provider's
 * configuration's fault: the next provider is tried, and the operator is told where it points.
 */

const { moved, redirected, notModified } = MISBEHAVIOURS;
const chat = (model: string, stream: boolean): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'hi' }],
  ...(stream ? { stream: true } : {}),
});

let odd: LoopbackUpstream;
let backup: LoopbackUpstream;
const gateways: LoggedGateway[] = [];

beforeAll(async () => {
  odd = await startMisbehavingUpstream();
  backup = await startGoodUpstream();
});
afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await odd.close();
  await backup.close();
});

/** A gateway with the redirecting provider first and, with `withBackup`, a healthy one after it. */
async function gatewayFor(withBackup: boolean, env: Record<string, string> = {}): Promise<LoggedGateway> {
  const models = [moved, redirected, notModified];
  const gateway = await startLoggedGateway(
    [
      { name: 'odd', baseUrl: odd.baseUrl, models },
      ...(withBackup ? [{ name: 'backup', baseUrl: backup.baseUrl, models }] : []),
    ],
    { BREAKER_VOLUME_THRESHOLD: '1000', ...env },
  );
  gateways.push(gateway);
  return gateway;
}

describe('an upstream redirect', () => {
  it('fails a 301 and a 307 over to the next provider, JSON and streamed, counted against the provider', async () => {
    const gateway = await gatewayFor(true);
    for (const model of [moved, redirected]) {
      const before = odd.received.get(model) ?? 0;
      const answer = await post(gateway.url, '/v1/chat/completions', chat(model, false));
      expect(answer.status).toBe(200);
      expect(
        ((await answer.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content,
      ).toBe('from backup');
      const streamed = await post(gateway.url, '/v1/chat/completions', chat(model, true));
      expect(streamed.status).toBe(200);
      const text = await streamed.text();
      expect(text).toContain('from backup');
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(odd.received.get(model)).toBe(before + 2);
    }
    const metrics = await gateway.scrape();
    expect(sampleSum(metrics, 'model_inference_requests_total', { provider: 'odd', status: 'error' })).toBe(4);
    expect(sampleSum(metrics, 'model_inference_requests_total', { provider: 'backup', status: 'success' })).toBe(4);
    expect(
      sampleSum(metrics, 'gatewayz_failovers_total', { provider: 'odd', next_provider: 'backup', reason: 'error' }),
    ).toBe(4);
  });

  it('logs where the redirect points at warn, once per attempt, without its query', async () => {
    const gateway = await gatewayFor(true);
    expect((await post(gateway.url, '/v1/chat/completions', chat(moved, false))).status).toBe(200);
    expect((await post(gateway.url, '/v1/chat/completions', chat(redirected, true))).status).toBe(200);
    const redirects = gateway.lines.filter((line) => String(line['msg']).startsWith('provider redirected'));
    expect(redirects).toHaveLength(2);
    const origin = odd.baseUrl.replace('http://', 'https://').replace(/\/v1$/, '');
    expect(redirects[0]).toMatchObject({
      level: 'warn',
      provider: 'odd',
      http_status: 301,
      location: `${origin}/v1/chat/completions`,
    });
    expect(redirects[1]).toMatchObject({ level: 'warn', provider: 'odd', http_status: 307 });
    expect(JSON.stringify(gateway.lines)).not.toContain('secret');
  });

  it('says nothing of a redirect for a 304 that names a Location: it fails over as any provider error', async () => {
    const gateway = await gatewayFor(true);
    expect((await post(gateway.url, '/v1/chat/completions', chat(notModified, false))).status).toBe(200);
    expect(gateway.lines.filter((line) => String(line['msg']).startsWith('provider redirected'))).toEqual([]);
    const metrics = await gateway.scrape();
    expect(
      sampleSum(metrics, 'model_inference_requests_total', { provider: 'odd', model: notModified, status: 'error' }),
    ).toBe(1);
  });

  it('answers 502 (never the 3xx) when no other provider serves the model', async () => {
    const gateway = await gatewayFor(false);
    for (const [model, stream] of [
      [moved, false],
      [redirected, true],
    ] as const) {
      const answer = await post(gateway.url, '/v1/chat/completions', chat(model, stream));
      expect(answer.status).toBe(502);
      expect(answer.headers.get('location')).toBeNull();
      expect(answer.headers.get('content-type')).toContain('application/json');
      expect(await answer.json()).toMatchObject({ error: { type: 'server_error', code: 'upstream_failed' } });
    }
  });

  it("opens the redirecting provider's breaker while the requests still get the next provider's answer", async () => {
    const gateway = await gatewayFor(true, { BREAKER_VOLUME_THRESHOLD: '2', BREAKER_RESET_TIMEOUT_MS: '600000' });
    const before = odd.received.get(moved) ?? 0;
    for (let sent = 0; sent < 3; sent++) {
      expect((await post(gateway.url, '/v1/chat/completions', chat(moved, false))).status).toBe(200);
    }
    // Two redirects opened the breaker: the third request went to the backup alone.
    expect(odd.received.get(moved)).toBe(before + 2);
    const health = (await (await fetch(`${gateway.url}/health`)).json()) as {
      circuit_breakers: Record<string, string>;
    };
    expect(health.circuit_breakers).toMatchObject({ odd: 'open', backup: 'closed' });
  });
});

describe('upstreamStatusFailure', () => {
  it('calls only the statuses that point elsewhere redirects; a 304 is a provider error like any other', () => {
    for (const status of [301, 302, 303, 307, 308]) {
      expect(upstreamStatusFailure(status, undefined)).toMatchObject({ failover: true, errorType: String(status) });
      expect(upstreamStatusFailure(status, undefined).message).toContain('redirected');
    }
    const notModified = upstreamStatusFailure(304, undefined);
    expect(notModified).toMatchObject({ failover: true, errorType: '304', message: 'Upstream error (HTTP 304)' });
  });
});
