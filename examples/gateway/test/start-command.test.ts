/**
 * The gateway's start commands (`npm start` here, `npm run demo` at the repository root) run Node
 * with `--no-allocation-site-pretenuring`. On Node.js 22, V8 otherwise decides within seconds of
 * sustained load that the SDK's span objects live long and allocates them straight into old space,
 * where they all die: a traced gateway then holds 20–50 MB more (docs/deployment.md, "On Node.js
 * 22"). Checked on a traced gateway process started with the commands' flags: V8 reports the
 * allocation-site feedback it processes (`--trace-pretenuring-statistics`) only while pretenuring
 * is on, and reports it, in the same run, for a process started without them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { otlpJsonGatewayEnv, startGatewayProcess } from './gateway-process.js';

const FLAG = '--no-allocation-site-pretenuring';

interface PackageJson {
  scripts: Record<string, string>;
}

function scriptOf(path: string, name: string): string {
  const json = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as PackageJson;
  const script = json.scripts[name];
  if (script === undefined) throw new Error(`${path} has no "${name}" script`);
  return script;
}

/** The flags of the `node <flags> <script>` command that ends `command`. */
function nodeFlagsOf(command: string, script: string): string[] {
  const last = command.split('&&').at(-1)!.trim().split(/\s+/);
  if (last[0] !== 'node' || last.at(-1) !== script) throw new Error(`"${command}" does not end with node … ${script}`);
  return last.slice(1, -1);
}

describe('the start commands', () => {
  const startFlags = nodeFlagsOf(scriptOf('../package.json', 'start'), 'dist/main.js');
  const demoFlags = nodeFlagsOf(scriptOf('../../../package.json', 'demo'), 'examples/gateway/dist/main.js');

  it('run node with --no-allocation-site-pretenuring, npm start and npm run demo alike', () => {
    expect(startFlags).toContain(FLAG);
    expect(demoFlags).toEqual(startFlags);
  });

  describe('a traced gateway under load', () => {
    let receiver: OtlpReceiver;

    beforeAll(async () => {
      receiver = await startOtlpReceiver();
    });

    afterAll(() => receiver.close());

    /** Serve 300 traced chat completions, 6 at a time; what V8 reported about pretenuring. */
    async function pretenuringReports(nodeFlags: readonly string[]): Promise<string[]> {
      const before = receiver.spans().length;
      const gateway = await startGatewayProcess(otlpJsonGatewayEnv(receiver), [
        ...nodeFlags,
        '--trace-pretenuring-statistics',
      ]);
      try {
        let sent = 0;
        await Promise.all(
          Array.from({ length: 6 }, async () => {
            while (sent++ < 300) {
              const response = await fetch(`${gateway.url}/v1/chat/completions`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
              });
              expect(response.status).toBe(200);
              await response.arrayBuffer();
            }
          }),
        );
      } finally {
        expect(await gateway.terminate()).toBe(0);
      }
      // The spans were recorded and exported (flushed at shutdown), so the span objects existed.
      expect(receiver.spans().length).toBeGreaterThan(before);
      return gateway
        .output()
        .split('\n')
        .filter((line) => line.includes('pretenuring:'));
    }

    it('gets no pretenuring feedback from V8 when started with the flags', async () => {
      expect(await pretenuringReports(startFlags)).toEqual([]);
    });

    it('gets it without them (the check sees V8 pretenuring)', async () => {
      expect((await pretenuringReports([])).length).toBeGreaterThan(0);
    });
  });
});
