/**
 * `@chainz/data/testing`: the conformance kit for dataset adapter authors.
 *
 * ```ts
 * import { assertAdapterConformance } from '@chainz/data/testing';
 * await assertAdapterConformance(myAdapter, { loadOptions: { dataDir }, expect: { rows: { all: 208 } } });
 * ```
 */
export {
  AdapterConformanceError,
  assertAdapterConformance,
  checkAdapterConformance,
  type ConformanceCheck,
  type ConformanceExpectations,
  type ConformanceOptions,
  type ConformanceReport,
} from './conformance';
