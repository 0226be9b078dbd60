// Shared set-up for unit tests: tfjs-layers registers tfjs's gradients in Node
// (tfjs-core alone registers none), and the pure-JS cpu backend is the
// reference backend for exactness tests.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';

await tf.setBackend('cpu');
await tf.ready();
