/**
 * Test helpers for vitest (subpath `@chainz/core/test`): run one suite on
 * several tfjs backends, like tfjs's own `describeWithFlags`.
 *
 * ```ts
 * import { describeBackends, onBackend } from '@chainz/core/test';
 * describeBackends(['cpu', 'wasm', 'webgpu'], ({ name, tf }) => {
 *   it('adds', async () => { expect(await tf.add(1, 2).data()).toEqual(new Float32Array([3])); });
 * });
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe } from 'vitest';
import { BackendError } from './errors';

/** What each suite of {@link describeBackends} receives. */
export interface BackendSuiteContext {
  /** The tfjs backend the suite runs on (active in all its tests). */
  readonly name: string;
  /** The tfjs-core module. */
  readonly tf: typeof tf;
}

/**
 * Declares `fn`'s tests once per backend, as `describe('<name> backend', …)`;
 * each suite activates its backend (`await tf.setBackend(name)`,
 * `await tf.ready()`) before its tests and restores the previous one after.
 * A backend that is not registered in this test process (its package was not
 * imported, e.g. `webgpu` outside the `webgpu` vitest project) gets a skipped
 * suite whose title says so; one that is registered but fails to initialise
 * fails the suite.
 *
 * @param names tfjs backend names, e.g. `['cpu', 'wasm', 'webgpu']`.
 * @param fn declares the tests (`it`, `test`, nested `describe`).
 */
export function describeBackends(names: readonly string[], fn: (ctx: BackendSuiteContext) => void): void {
  for (const name of names) {
    const ctx: BackendSuiteContext = Object.freeze({ name, tf });
    if (tf.findBackendFactory(name) == null) {
      describe.skip(`${name} backend (not registered in this test process)`, () => fn(ctx));
      continue;
    }
    describe(`${name} backend`, () => {
      let previous: string | undefined;
      beforeAll(async () => {
        previous = tf.getBackend();
        await activate(name);
      });
      afterAll(async () => {
        if (previous !== undefined && previous !== name) await activate(previous);
      });
      fn(ctx);
    });
  }
}

/**
 * Runs `fn` with backend `name` active, then restores the previous backend;
 * for computing a reference on another backend inside a test.
 * Read tensors inside `fn` (`await t.data()`): tensors created there stay
 * on `name` until they are read or moved.
 *
 * @throws BackendError when the backend does not initialise.
 */
export async function onBackend<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await activate(name);
  try {
    return await fn();
  } finally {
    if (previous !== undefined && previous !== name) await activate(previous);
  }
}

async function activate(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new BackendError(`tfjs backend '${name}' failed to initialise (see the warning above)`);
  await tf.ready();
}
