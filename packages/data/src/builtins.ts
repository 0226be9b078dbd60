import { hasAdapter, registerAdapter, type DatasetAdapter } from './adapter';
import { csvAdapter } from './csv/adapter';
import { pimaAdapter } from './pima/adapter';
import { cifar10Adapter } from './cifar10/cifar10';
import { cifar10cAdapter } from './cifar10c/cifar10c';
import { sst5Adapter } from './sst5/adapter';
import { yelpAdapter } from './yelp/adapter';
import { UCI_ADAPTERS } from './uci/adapter';

/** The adapters shipped with @chainz/data (add one line per built-in adapter). */
export const BUILTIN_ADAPTERS: readonly DatasetAdapter<any>[] = [
  csvAdapter,
  pimaAdapter,
  cifar10Adapter,
  cifar10cAdapter,
  sst5Adapter,
  yelpAdapter,
  ...UCI_ADAPTERS,
];

/**
 * Register every built-in adapter whose name is still free. Idempotent; an
 * adapter the caller registered earlier under a built-in name is kept (call
 * `registerAdapter(x, { replace: true })` afterwards to override a built-in).
 * Explicit rather than a side effect of importing, so bundles tree-shake.
 */
export function registerBuiltinAdapters(): void {
  for (const a of BUILTIN_ADAPTERS) if (!hasAdapter(a.name)) registerAdapter(a);
}
