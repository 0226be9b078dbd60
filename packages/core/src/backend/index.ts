export * from './catalog';
export * from './runtime';
export { installNodeWebGPU, missingMesaLibraries, MESA_LIBRARIES, MESA_APT_COMMAND } from './node-webgpu';
export type { NodeWebGPUOptions, NodeWebGPUInfo, SystemLibrary, DawnModule, DawnGPU, DawnAdapter } from './node-webgpu';
export * from './resolve';
