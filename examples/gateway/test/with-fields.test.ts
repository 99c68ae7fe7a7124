import { describe, expect, it } from 'vitest';
import { withFields } from '../src/with-fields.js';

describe('withFields', () => {
  it('is { ...base, ...fields }: same keys, same order, fields win, inputs untouched', () => {
    const base = { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const fields = { stream: false, store: false };
    const made = withFields(base, fields);
    expect(made).toEqual({ ...base, ...fields });
    expect(JSON.stringify(made)).toBe(JSON.stringify({ ...base, ...fields }));
    expect(Object.keys(made)).toEqual(['model', 'stream', 'messages', 'store']);
    expect(made).not.toBe(base);
    expect(base.stream).toBe(true);
    expect(made.messages).toBe(base.messages); // a shallow copy, as a spread is
  });

  it('copies symbol keys and leaves the prototype plain, as a spread does', () => {
    const tag = Symbol('tag');
    const base = Object.assign(Object.create({ inherited: 1 }) as object, { own: 1, [tag]: 'x' });
    const made = withFields(base, {});
    expect(made).toEqual({ own: 1, [tag]: 'x' });
    expect(Object.getPrototypeOf(made)).toBe(Object.prototype);
    expect('inherited' in made).toBe(false);
  });
});
