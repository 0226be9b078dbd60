import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { describeBackends, onBackend } from './test';

const seen: string[] = [];

describeBackends(['cpu', 'wasm', 'no-such-backend'], ({ name, tf: t }) => {
  it('runs with its backend active', async () => {
    expect(t.getBackend()).toBe(name);
    seen.push(name);
    const y = t.add(t.tensor1d([1, 2]), 1);
    expect(Array.from(await y.data())).toEqual([2, 3]);
    t.dispose(y);
  });
});

it('onBackend switches for the call and restores the previous backend', async () => {
  await tf.setBackend('cpu');
  expect(await onBackend('wasm', () => tf.getBackend())).toBe('wasm');
  expect(tf.getBackend()).toBe('cpu');
  await expect(onBackend('wasm', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect(tf.getBackend()).toBe('cpu');
});

afterAll(() => {
  // Suites of registered backends ran; the unknown one was skipped, not failed.
  expect(seen).toEqual(['cpu', 'wasm']);
});
