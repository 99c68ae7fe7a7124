import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain-JS bench module without type declarations
import { gatewayStartFlags, parseStartFlags } from '../lib/gateway-start.mjs';

describe('gatewayStartFlags', () => {
  it("reads the example gateway's npm start flags, which the bench sections start their gateways with", () => {
    const flags = gatewayStartFlags() as string[];
    expect(flags).toContain('--no-allocation-site-pretenuring');
    for (const flag of flags) expect(flag.startsWith('--')).toBe(true);
  });

  it('takes the flags between node and dist/main.js', () => {
    expect(parseStartFlags('node dist/main.js')).toEqual([]);
    expect(parseStartFlags('  node --a --b=1   dist/main.js ')).toEqual(['--a', '--b=1']);
  });

  it('refuses a start script of another shape rather than run the gateway differently', () => {
    expect(() => parseStartFlags(undefined)).toThrow(/no "start" script/);
    expect(() => parseStartFlags('tsx src/main.ts')).toThrow(/not "node \[flags\] dist\/main.js"/);
    expect(() => parseStartFlags('node dist/other.js')).toThrow(/not "node \[flags\] dist\/main.js"/);
    expect(() => parseStartFlags('node --require x.cjs dist/main.js')).toThrow(/"x.cjs", which is not a --flag/);
  });
});
