import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError } from '../src/api-keys/json-syntax-error.js';

const VALID = [
  '[{"name":"a","key":"k-1","plan":"paid","budget_usd":1.5e2}]',
  ' {"a":[1,-0.5,2E-3,true,false,null,{}],"b":{"c":"\\u00e9\\n\\"x\\""}} ',
  ' []',
  '"text"',
  '0',
  '[[],[[]],{"":{}}]',
];

/** A deterministic generator (mulberry32), so a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('findJsonSyntaxError', () => {
  it('agrees with JSON.parse on valid texts and on thousands of single-character edits of them', () => {
    for (const text of VALID) expect(findJsonSyntaxError(text), text).toBeUndefined();
    const next = random(19);
    const alphabet = '{}[],:"\\ 0123456789-+.eEtrufalsn\'x\n';
    let invalid = 0;
    for (let round = 0; round < 6000; round++) {
      const base = VALID[round % VALID.length] as string;
      const at = Math.floor(next() * (base.length + 1));
      const char = alphabet[Math.floor(next() * alphabet.length)] as string;
      const kind = Math.floor(next() * 3);
      const text =
        kind === 0
          ? base.slice(0, at) + char + base.slice(at)
          : kind === 1
            ? base.slice(0, at) + base.slice(at + 1)
            : base.slice(0, at) + char + base.slice(at + 1);
      const found = findJsonSyntaxError(text);
      expect(found === undefined, JSON.stringify(text)).toBe(parses(text));
      if (found !== undefined) {
        invalid += 1;
        const lines = text.split('\n');
        expect(found.line, JSON.stringify(text)).toBeLessThanOrEqual(lines.length);
        expect(found.column, JSON.stringify(text)).toBeLessThanOrEqual((lines[found.line - 1] as string).length + 1);
      }
    }
    expect(invalid).toBeGreaterThan(1000);
  });

  it('points at the character that breaks the grammar', () => {
    expect(findJsonSyntaxError('\ufeff[]')).toMatchObject({ line: 1, column: 1 });
    expect(findJsonSyntaxError('[1,\n 2,\n]')).toEqual({
      problem: 'a closing bracket right after a comma',
      line: 3,
      column: 1,
    });
    expect(findJsonSyntaxError('{"a" 1}')).toMatchObject({
      problem: 'a missing colon after a property name',
      column: 6,
    });
    expect(findJsonSyntaxError('{"a":1 "b":2}')).toMatchObject({ line: 1, column: 8 });
    expect(findJsonSyntaxError('[1] 2')).toMatchObject({ problem: 'more text after the JSON value', column: 5 });
    expect(findJsonSyntaxError('{"a":"x\ny"}')).toMatchObject({
      problem: 'an unexpected character where a value belongs (strings need double quotes)',
      line: 1,
      column: 6,
    });
  });
});
