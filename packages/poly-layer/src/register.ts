// The package's only module with side effects (package.json "sideEffects"):
// registers the layer classes with tfjs's serialization registry on import,
// like tfjs's own layers, so that loadLayersModel can rebuild saved models,
// and the fused kernels (and their gradients) with tfjs's kernel registry.
import { registerPolyLayers } from './layers';
import { registerPolyKernels } from './kernels/register';
import { registerPolyConv2D } from './poly-conv2d-layer';

registerPolyLayers();
registerPolyConv2D();
registerPolyKernels();
