/**
 * The gateway's start commands (`npm start` here, `npm run demo` at the repository root) run Node
 * with `--no-allocation-site-pretenuring`. On Node.js 22, V8 otherwise decides within seconds of
 * sustained load that the SDK's span objects live long and allocates them straight into old space,
 * where they all die: a traced gateway then holds 20–50 MB more (docs/deployment.md, "On Node.js
 * 22"). Checked on a traced gateway process started with the commands' flags: V8 reports the
 * allocation-site feedback it processes (`--trace-pretenuring-statistics`) only while pretenuring
 * is on, and reports it, in the same run, for a process started without them.
 *
 * They also pass `--max-semi-space-size=16`: Node.js 20 and 22's default, while Node.js 24 (V8 13)
 * lets the young generation grow to 128 MB on this machine, and an untraced gateway then holds about
 * 210 MB after sustained load instead of about 110 (docs/deployment.md, "On Node.js 24"). Checked on
 * a process started with the commands' flags that allocates as a busy gateway does.
 *
 * And `--no-maglev`: Node.js 24 compiles hot functions with V8's Maglev tier, whose compilations
 * left a gateway 23–39 MB larger after sustained load (V8's peak malloced memory about 22 MB against
 * 5 MB), for no CPU per request that side-by-side runs could see (docs/deployment.md, "On Node.js
 * 24"). Node 20 and 22 run without Maglev already. Checked on a process started with the commands'
 * flags: V8 marks no function for Maglev (`--trace-opt`), and on Node 24 it does without them.
 *
 * CI runs this file on Node.js 20, 22 and 24 (`npm run test:node22`, `npm run test:node24`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../test-support/otlp-receiver.js';
import { otlpJsonGatewayEnv, startGatewayProcess } from './gateway-process.js';

const FLAG = '--no-allocation-site-pretenuring';
const YOUNG_GENERATION_FLAG = '--max-semi-space-size=16';
const MAGLEV_FLAG = '--no-maglev';
/** Two semi-spaces of 16 MB: the new space `v8.getHeapSpaceStatistics()` reports at most. */
const CAPPED_NEW_SPACE = 32 * 1024 * 1024;
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * Allocate as a busy process does (short-lived objects, a few kept for a while) under
 * `node <nodeFlags>`, for 3 s or until the new space outgrows the cap (V8 grows it to its maximum in
 * 0.2–0.7 s here), and return the largest new space V8 grew to, in bytes.
 */
function largestNewSpace(nodeFlags: readonly string[]): number {
  const program = `
    const { getHeapSpaceStatistics } = require('node:v8');
    const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
    let kept = [];
    let largest = 0;
    const until = Date.now() + 3000;
    while (Date.now() < until && largest <= ${CAPPED_NEW_SPACE}) {
      for (let index = 0; index < 10000; index++) {
        const item = { index, text: 'x' + index };
        if (index % 50 === 0) kept.push(item);
      }
      if (kept.length > 20000) kept = kept.slice(10000);
      largest = Math.max(largest, newSpace());
    }
    process.stdout.write(String(largest));
  `;
  return Number(execFileSync(process.execPath, [...nodeFlags, '-e', program], { encoding: 'utf8' }));
}

/**
 * Run a hot function for 0.5 s under `node <nodeFlags> --trace-opt` and return the lines where V8
 * marks or compiles a function for its Maglev tier.
 */
function maglevCompilations(nodeFlags: readonly string[]): string[] {
  const program = `
    function add(a, b) { return { sum: a.x + b.x, text: String(a.y) + b.y }; }
    let total = 0;
    const until = Date.now() + 500;
    while (Date.now() < until) for (let index = 0; index < 10000; index++) total += add({ x: index, y: 'a' }, { x: 1, y: 'b' }).sum;
    if (!(total > 0)) process.exitCode = 1;
  `;
  const output = execFileSync(process.execPath, [...nodeFlags, '--trace-opt', '-e', program], { encoding: 'utf8' });
  return output.split('\n').filter((line) => line.includes('MAGLEV'));
}

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

  it('run node with --no-allocation-site-pretenuring, --max-semi-space-size=16 and --no-maglev, npm start and npm run demo alike', () => {
    expect(startFlags).toContain(FLAG);
    expect(startFlags).toContain(YOUNG_GENERATION_FLAG);
    expect(startFlags).toContain(MAGLEV_FLAG);
    expect(demoFlags).toEqual(startFlags);
  });

  describe(`Maglev on Node.js ${process.versions.node}`, () => {
    it('compiles nothing under the flags', () => {
      expect(maglevCompilations(startFlags)).toEqual([]);
    });

    it('is what V8 chooses without them: off on Node.js 20 and 22, on from 24 (the check sees it compile)', () => {
      const unflagged = maglevCompilations([]);
      if (NODE_MAJOR >= 24) expect(unflagged.length).toBeGreaterThan(0);
      else expect(unflagged).toEqual([]);
    });
  });

  describe(`the young generation on Node.js ${process.versions.node}`, () => {
    it('stays at two 16 MB semi-spaces under the flags', () => {
      expect(largestNewSpace(startFlags)).toBeLessThanOrEqual(CAPPED_NEW_SPACE);
    });

    it('is what V8 chooses without them: the same on Node.js 20 and 22, larger from 24 on (the check sees it grow)', () => {
      const uncapped = largestNewSpace([]);
      if (NODE_MAJOR >= 24) expect(uncapped).toBeGreaterThan(CAPPED_NEW_SPACE);
      else expect(uncapped).toBe(CAPPED_NEW_SPACE);
    });
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
