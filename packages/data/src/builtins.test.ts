import { describe, expect, it } from 'vitest';
import { getAdapter, listAdapters, registerAdapter } from './adapter';
import { BUILTIN_ADAPTERS, registerBuiltinAdapters } from './builtins';
import { csvAdapter } from './csv/adapter';
import { pimaAdapter } from './pima/adapter';

describe('registerBuiltinAdapters', () => {
  it('registers csv and pima, idempotently, keeping a user override', async () => {
    expect(BUILTIN_ADAPTERS).toContain(csvAdapter);
    registerAdapter({ ...pimaAdapter }); // a user's own 'pima' registered first
    registerBuiltinAdapters();
    registerBuiltinAdapters();
    expect(getAdapter('csv')).toBe(csvAdapter);
    expect(getAdapter('pima')).not.toBe(pimaAdapter);
    expect(listAdapters().map((a) => a.name)).toEqual(expect.arrayContaining(['csv', 'pima']));
    expect(csvAdapter.describe()).toMatchObject({ name: 'csv', builtIn: false, task: 'classification' });
    expect(pimaAdapter.describe()).toMatchObject({ name: 'pima', builtIn: true, modality: 'tabular' });
    // every built-in says what its examples are
    const modality = Object.fromEntries(BUILTIN_ADAPTERS.map((a) => [a.name, a.describe().modality]));
    expect(modality).toMatchObject({ csv: 'tabular', pima: 'tabular', sonar: 'tabular', sst5: 'text', yelp: 'text', cifar10: 'image', cifar10c: 'image' });
    expect(listAdapters({ modality: 'image' }).map((a) => a.name)).toEqual(expect.arrayContaining(['cifar10', 'cifar10c']));
    const ds = await getAdapter('pima').load();
    expect(ds.splits.all.labels.length).toBe(768);
    ds.dispose();
  });
});
