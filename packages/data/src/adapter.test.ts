import { describe, expect, it } from 'vitest';
import { ConfigError } from '@chainz/core';
import { defineAdapter, getAdapter, hasAdapter, listAdapters, registerAdapter, type LoadedDataset } from './adapter';

const fake = (name: string) =>
  defineAdapter({
    name,
    describe: () => ({ name, title: name, task: 'classification', modality: 'tabular', source: 'test', builtIn: false }),
    load: async () => ({}) as LoadedDataset,
  });

describe('adapter registry', () => {
  it('defineAdapter adds the spec version and rejects bad names with ConfigError', () => {
    expect(fake('reg-a').specificationVersion).toBe(1);
    expect(() => fake('Bad Name')).toThrow(ConfigError);
    expect(() => fake('Bad Name')).toThrow("option name: adapter name must be lower-case letters, digits and '-', got 'Bad Name'");
  });

  it('registers, looks up and lists adapters', () => {
    const a = fake('reg-b');
    expect(hasAdapter('reg-b')).toBe(false);
    registerAdapter(a);
    registerAdapter(a); // same object again: no-op
    expect(hasAdapter('reg-b')).toBe(true);
    expect(getAdapter('reg-b')).toBe(a);
    const names = listAdapters().map((x) => x.name);
    expect(names).toContain('reg-b');
    expect(names).toEqual([...names].sort());
  });

  it('refuses a duplicate name unless replace is set', () => {
    registerAdapter(fake('reg-c'));
    const other = fake('reg-c');
    expect(() => registerAdapter(other)).toThrow(ConfigError);
    expect(() => registerAdapter(other)).toThrow("option name: an adapter named 'reg-c' is already registered");
    try {
      registerAdapter(other);
    } catch (e) {
      expect((e as ConfigError).hint).toMatch(/replace: true/);
    }
    registerAdapter(other, { replace: true });
    expect(getAdapter('reg-c')).toBe(other);
  });

  it('names the registered datasets for an unknown name', () => {
    registerAdapter(fake('reg-d'));
    expect(() => getAdapter('nope')).toThrow(ConfigError);
    expect(() => getAdapter('nope')).toThrow(/^option dataset: unknown dataset 'nope'; registered datasets: .*reg-d/);
  });
});
