export * from './adapter';
export * from './npy/npy';
export * from './cifar10/cifar10';
export * from './cifar10c/cifar10c';
export { corrupt, type CorruptOptions } from './corruptions/corrupt';
export { CORRUPTIONS, type CorruptionName, type Severity } from './corruptions/params';
