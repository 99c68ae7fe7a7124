import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { sampleSum, sendOnFreshConnection } from './harness.js';

/*
 * A worker SIGKILLed (or killed out of memory) with requests in flight: they were sent to the
 * provider, which bills them, but the worker never reports their cost. The primary dropped their
 * holds, so the key was admitted that much again: with a 0.4 USD budget and 0.04 USD images, 14
 * images were billed where 10 fit. Real cluster, demo providers answering images after 2 s.
 */

const IMAGES_KEY = `gwz-killed-${randomBytes(12).toString('hex')}`;
const DRAINED_KEY = `gwz-drained-${randomBytes(12).toString('hex')}`;
const CHARGED = 'worker exited with requests in progress; their budget holds are charged as spent';

const workerPids = (output: string): number[] =>
  output
    .split('\n')
    .filter((line) => line.includes('"msg":"worker listening"'))
    .map((line) => Number((JSON.parse(line) as { pid: number }).pid));

const chargeLines = (output: string): Array<Record<string, unknown>> =>
  output
    .split('\n')
    .filter((line) => line.includes(CHARGED))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a cluster worker killed with requests in flight (GATEWAY_WORKERS=2)', () => {
  let gateway: GatewayProcess | undefined;
  let directory: string | undefined;

  afterAll(async () => {
    await gateway?.terminate();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  /** Status of an image request on its own connection (spread over the workers); 0 when the connection broke. */
  const image = async (key: string): Promise<number> => {
    try {
      const answer = await sendOnFreshConnection(
        gateway as GatewayProcess,
        'POST',
        '/v1/images/generations',
        { model: 'gpt-image-1', prompt: 'a lighthouse' },
        { authorization: `Bearer ${key}` },
      );
      return answer.status;
    } catch {
      return 0;
    }
  };
  const images = (count: number, key = IMAGES_KEY): Promise<number[]> =>
    Promise.all(Array.from({ length: count }, () => image(key)));

  it("charges the killed worker's in-flight holds: the key is refused past its budget", async () => {
    directory = mkdtempSync(join(tmpdir(), 'gateway-killed-holds-'));
    const keysFile = join(directory, 'keys.json');
    writeFileSync(
      keysFile,
      JSON.stringify([
        { name: 'images', key: IMAGES_KEY, plan: 'paid', budget_usd: 0.4 },
        { name: 'drained', key: DRAINED_KEY, plan: 'paid', budget_usd: 10 },
      ]),
    );
    gateway = await startGatewayProcess({
      GATEWAY_WORKERS: '2',
      GATEWAY_API_KEYS_FILE: keysFile,
      DEMO_LATENCY_MS: '2000',
      DEMO_ERROR_RATE: '0',
    });
    const running = gateway;
    await until(() => workerPids(running.output()).length === 2, 'both workers to log');
    const [victim] = workerPids(running.output());

    // The whole budget held by 10 images in flight on both workers; one worker is killed mid-way.
    const inFlight = images(10);
    await sleep(700);
    process.kill(victim as number, 'SIGKILL');
    const statuses = await inFlight;
    const cut = statuses.filter((status) => status === 0).length;
    expect(cut, JSON.stringify(statuses)).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10 - cut);

    // Before: the cut requests' holds were dropped and as many images were served again.
    const after = await images(10);
    expect(after.filter((status) => status === 200)).toHaveLength(0);
    expect(after.filter((status) => status === 429)).toHaveLength(10);
    const [charged] = chargeLines(running.output());
    expect(charged).toMatchObject({ level: 'warn', role: 'cluster-primary', signal: 'SIGKILL', holds: cut });
    expect(charged?.['charged_usd']).toBeCloseTo(cut * 0.04, 12);
    await sleep(200);
    const text = await (await fetch(`${running.url}/metrics`)).text();
    expect(sampleSum(text, 'gatewayz_api_key_budget_remaining_usd', { api_key_name: 'images' })).toBeCloseTo(0, 12);

    // Workers that drain on SIGTERM release their holds before they exit: nothing more is charged.
    await until(() => workerPids(running.output()).length === 3, 'a replacement worker');
    const draining = images(4, DRAINED_KEY);
    await sleep(500);
    const exitCode = await running.terminate();
    expect(await draining).toEqual([200, 200, 200, 200]);
    expect(exitCode, running.output()).toBe(0);
    expect(chargeLines(running.output())).toHaveLength(1);
  }, 60_000);
});
