// The node flags the example gateway is started with, read from its `npm start` script, so the
// benchmark sections run the gateway the way its users do (examples/gateway/test/start-command.test.ts
// checks that `npm start` and `npm run demo` agree on them).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE_JSON = fileURLToPath(new URL('../../examples/gateway/package.json', import.meta.url));

/**
 * The flags between `node` and `dist/main.js` in a `start` script such as
 * `node --no-allocation-site-pretenuring dist/main.js`. Throws when the script has another shape
 * (a wrapper, an environment assignment, another entry point): the bench would otherwise run the
 * gateway some other way than `npm start` does without saying so.
 */
export function parseStartFlags(script) {
  if (typeof script !== 'string') throw new TypeError('the example gateway has no "start" script');
  const words = script.trim().split(/\s+/);
  const last = words.at(-1);
  if (words[0] !== 'node' || last !== 'dist/main.js')
    throw new Error(
      `the example gateway's "start" script is not "node [flags] dist/main.js": ${JSON.stringify(script)}`,
    );
  const flags = words.slice(1, -1);
  const stray = flags.find((word) => !word.startsWith('--'));
  if (stray !== undefined)
    throw new Error(
      `the example gateway's "start" script passes ${JSON.stringify(stray)}, which is not a --flag: ${JSON.stringify(script)}`,
    );
  return flags;
}

/** The node flags of the example gateway's `npm start`, read from examples/gateway/package.json. */
export function gatewayStartFlags() {
  const manifest = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8'));
  return parseStartFlags(manifest.scripts?.start);
}
