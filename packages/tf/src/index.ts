import * as tf from '@tensorflow/tfjs';

/** The one TensorFlow.js namespace every mlship package uses (one engine, one backend registry). */
export { tf };
