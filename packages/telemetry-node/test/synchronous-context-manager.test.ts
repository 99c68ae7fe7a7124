import { EventEmitter } from 'node:events';
import { ROOT_CONTEXT, createContextKey, type Context } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { SynchronousContextManager } from '../src/index.js';

const KEY = createContextKey('test');
const withValue = (value: string): Context => ROOT_CONTEXT.setValue(KEY, value);
const valueOf = (manager: SynchronousContextManager): unknown => manager.active().getValue(KEY);

describe('SynchronousContextManager', () => {
  it('makes the context active for the synchronous run of with(), nested, and restores it', () => {
    const manager = new SynchronousContextManager().enable();
    expect(manager.active()).toBe(ROOT_CONTEXT);
    const seen: unknown[] = [];
    const result = manager.with(withValue('outer'), () => {
      seen.push(valueOf(manager));
      manager.with(withValue('inner'), () => seen.push(valueOf(manager)));
      seen.push(valueOf(manager));
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toEqual(['outer', 'inner', 'outer']);
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('restores the previous context when the callback throws', () => {
    const manager = new SynchronousContextManager();
    expect(() =>
      manager.with(withValue('outer'), () =>
        manager.with(withValue('inner'), () => {
          throw new Error('boom');
        }),
      ),
    ).toThrow('boom');
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('passes thisArg and arguments through', () => {
    const manager = new SynchronousContextManager();
    const target = { factor: 3 };
    const product = manager.with(
      withValue('x'),
      function (this: typeof target, a: number, b: number) {
        return this.factor * a * b;
      },
      target,
      2,
      5,
    );
    expect(product).toBe(30);
  });

  it('does not carry the context across an await (callers pass it on themselves)', async () => {
    const manager = new SynchronousContextManager();
    const after = await manager.with(withValue('request'), async () => {
      expect(valueOf(manager)).toBe('request');
      await new Promise((resolve) => setTimeout(resolve, 1));
      return valueOf(manager);
    });
    expect(after).toBeUndefined();
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('bind() runs a function with the bound context, keeps its this and length; other targets pass through', () => {
    const manager = new SynchronousContextManager();
    const bound = manager.bind(withValue('bound'), function (this: { tag: string }, suffix: string) {
      return `${this.tag}:${String(valueOf(manager))}:${suffix}`;
    });
    expect(bound.length).toBe(1);
    expect(bound.call({ tag: 't' }, 's')).toBe('t:bound:s');
    expect(manager.active()).toBe(ROOT_CONTEXT);
    const emitter = new EventEmitter();
    expect(manager.bind(withValue('x'), emitter)).toBe(emitter);
  });

  it('disable() makes the root context active again', () => {
    const manager = new SynchronousContextManager();
    manager.with(withValue('x'), () => {
      manager.disable();
      expect(manager.active()).toBe(ROOT_CONTEXT);
    });
  });
});
